"""FastStream 0.7 (RabbitBroker, on aio-pika) doing the same work.

Publisher: an asyncio outbox loop; a batch of rows is published concurrently
with ``broker.publish`` (publisher confirms are on by default in FastStream's
channels, and each publish awaits its own confirm), so the confirms of a batch
are awaited together: a window, as in Cortesia's relay. The database calls
run in a thread (``asyncio.to_thread``) so the event loop keeps serving frames.

Subscriber: a durable queue bound to a topic exchange, prefetch 100,
``AckPolicy.ACK`` (ack after the handler returns). The handler takes the
JSON body FastStream decoded and does the inbox insert + side-effect row in one
transaction, in a thread.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from faststream import AckPolicy
from faststream.rabbit import Channel, ExchangeType, RabbitBroker, RabbitExchange, RabbitQueue
from pamqp.commands import Basic

from bench.common import EVENT, OutboxReader, Recorder, handle_raw
from bench.contenders import Options
from shared.db import Database


class Contender:
    def __init__(
        self, database: Database, amqp_url: str, recorder: Recorder, options: Options
    ) -> None:
        self.name = name = options.name
        self.options = options
        self.reader = OutboxReader(database)
        self.stopping = threading.Event()
        self.error: str | None = None
        self.broker = RabbitBroker(amqp_url, logger=None)
        self.exchange = RabbitExchange(name, type=ExchangeType.TOPIC, durable=True)
        queue = RabbitQueue(name, durable=True, routing_key=EVENT)

        @self.broker.subscriber(
            queue,
            self.exchange,
            channel=Channel(prefetch_count=options.prefetch),
            ack_policy=AckPolicy.ACK,
        )
        async def handle(body: dict[str, Any]) -> None:
            seq = await asyncio.to_thread(handle_raw, database, name, body)
            if seq is not None:
                recorder.record(seq)

        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="asyncio", daemon=True)
        self.relay: Any = None

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "prefetch": self.options.prefetch,
            "batch_size": self.options.batch_size,
            "idle_poll_seconds": self.options.idle_poll_seconds,
            "ack_policy": "ack",
        }

    def _run(self, coroutine: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def start_consumer(self, timeout: float) -> None:
        self.thread.start()
        self._run(self.broker.start(), timeout)

    async def _relay(self) -> None:
        batch_size, idle = self.options.batch_size, self.options.idle_poll_seconds
        publish = self.broker.publish
        while not self.stopping.is_set():
            rows = await asyncio.to_thread(self.reader.claim, batch_size)
            if not rows:
                await asyncio.sleep(idle)
                continue
            results = await asyncio.gather(
                *(
                    publish(
                        row.body,
                        exchange=self.exchange,
                        routing_key=row.event_type,
                        persist=True,
                        message_id=row.event_id,
                        message_type=row.event_type,
                        content_type="application/json",
                        content_encoding="utf-8",
                        mandatory=True,
                        timeout=30,
                    )
                    for row in rows
                ),
                return_exceptions=True,
            )
            failures = [r for r in results if isinstance(r, BaseException)]
            if failures:
                self.error = repr(failures[0])
            confirmed = [
                row.row_id for row, r in zip(rows, results, strict=True) if isinstance(r, Basic.Ack)
            ]
            await asyncio.to_thread(self.reader.mark, confirmed)
            if len(rows) < batch_size:
                await asyncio.sleep(idle)

    def start_publisher(self) -> None:
        self.relay = asyncio.run_coroutine_threadsafe(self._relay(), self.loop)

    def stop(self, timeout: float) -> None:
        self.stopping.set()
        try:
            if self.relay is not None:
                self.relay.result(timeout)
            self._run(self.broker.stop(), timeout)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout)
        if self.error:
            raise RuntimeError(f"faststream publisher failed: {self.error}")
