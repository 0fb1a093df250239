"""Raw pika doing the same work, as lean as honest code gets.

Publisher: a SelectConnection (asynchronous) in its own thread. A batch of
outbox rows is claimed, every row is published without waiting, the confirms
are counted as they arrive (``multiple`` acks settle many at once), and when
the whole window is settled the confirmed rows are marked. Same batch size,
same idle poll and same transaction shape as Cortesia's relay.

Consumer: a BlockingConnection in its own thread, manual acks, prefetch 100,
one transaction per message (inbox insert + side-effect row), ack after commit.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import pika
from pika.adapters.select_connection import SelectConnection
from pika.spec import Basic

from bench.common import EVENT, OutboxReader, Recorder, Row, handle_raw
from bench.contenders import Options, spawn
from shared.db import Database

CONFIRM_TIMEOUT = 30.0


class Publisher:
    def __init__(
        self, database: Database, amqp_url: str, exchange: str, recorder: Recorder, options: Options
    ) -> None:
        self.reader = OutboxReader(database)
        self.recorder = recorder
        self.parameters = pika.URLParameters(amqp_url)
        self.exchange = exchange
        self.batch_size = options.batch_size
        self.idle_poll = options.idle_poll_seconds
        self.stopping = threading.Event()
        self.connection: SelectConnection | None = None
        self.channel: Any = None
        self.next_tag = 1
        self.pending: dict[int, Row] = {}
        self.confirmed: list[Row] = []
        self.batch: list[Row] = []
        self.deadline = 0.0
        self.error: str | None = None

    # -- connection --------------------------------------------------------------------

    def run(self) -> None:
        self.connection = SelectConnection(
            self.parameters,
            on_open_callback=lambda connection: connection.channel(
                on_open_callback=self._on_channel
            ),
            on_open_error_callback=self._on_failure,
            on_close_callback=lambda _connection, _reason: self._ioloop().stop(),
        )
        self.connection.ioloop.start()

    def _ioloop(self) -> Any:
        assert self.connection is not None
        return self.connection.ioloop

    def _on_failure(self, _connection: Any, error: Any) -> None:
        self.error = repr(error)
        self._ioloop().stop()

    def _on_channel(self, channel: Any) -> None:
        self.channel = channel
        channel.confirm_delivery(self._on_confirm, callback=lambda _frame: self._next_batch())

    def stop(self) -> None:
        self.stopping.set()

    def _close(self) -> None:
        self.reader.abandon()
        assert self.connection is not None
        if self.connection.is_open:
            self.connection.close()
        else:
            self._ioloop().stop()

    # -- batches -----------------------------------------------------------------------

    def _next_batch(self) -> None:
        if self.stopping.is_set():
            self._close()
            return
        rows = self.reader.claim(self.batch_size)
        if not rows:
            self._ioloop().call_later(self.idle_poll, self._next_batch)
            return
        self.batch = rows
        self.confirmed = []
        self.deadline = time.monotonic() + CONFIRM_TIMEOUT
        publish = self.channel.basic_publish
        for row in rows:
            publish(
                self.exchange,
                row.event_type,
                row.body,
                pika.BasicProperties(
                    content_type="application/json",
                    content_encoding="utf-8",
                    delivery_mode=2,
                    message_id=row.event_id,
                    type=row.event_type,
                ),
                mandatory=True,
            )
            self.pending[self.next_tag] = row
            self.next_tag += 1
        self._ioloop().call_later(CONFIRM_TIMEOUT, self._check_timeout)

    def _check_timeout(self) -> None:
        if self.pending and time.monotonic() >= self.deadline:
            self.error = f"{len(self.pending)} confirms missing after {CONFIRM_TIMEOUT}s"
            self.pending.clear()
            self._close()

    def _on_confirm(self, frame: Any) -> None:
        method = frame.method
        tag, multiple = method.delivery_tag, method.multiple
        tags = [t for t in self.pending if t <= tag] if multiple else [tag]
        acked = isinstance(method, Basic.Ack)
        for t in tags:
            row = self.pending.pop(t, None)
            if row is not None and acked:
                self.confirmed.append(row)
        if self.pending:
            return
        self.recorder.confirmed(row.body for row in self.confirmed)
        self.reader.mark([row.row_id for row in self.confirmed])
        if len(self.batch) < self.batch_size:
            self._ioloop().call_later(self.idle_poll, self._next_batch)
        else:
            self._next_batch()


class Consumer:
    def __init__(
        self, database: Database, amqp_url: str, name: str, recorder: Recorder, prefetch: int
    ) -> None:
        self.database = database
        self.parameters = pika.URLParameters(amqp_url)
        self.name = name
        self.recorder = recorder
        self.prefetch = prefetch
        self.ready = threading.Event()
        self.stopping = threading.Event()

    def declare(self) -> None:
        connection = pika.BlockingConnection(self.parameters)
        channel = connection.channel()
        channel.exchange_declare(self.name, "topic", durable=True)
        channel.queue_declare(self.name, durable=True)
        channel.queue_bind(self.name, self.name, routing_key=EVENT)
        connection.close()

    def _on_message(self, channel: Any, method: Any, _properties: Any, body: bytes) -> None:
        seq = handle_raw(self.database, self.name, body)
        if seq is not None:
            self.recorder.record(seq)
        channel.basic_ack(method.delivery_tag)

    def run(self) -> None:
        connection = pika.BlockingConnection(self.parameters)
        channel = connection.channel()
        channel.basic_qos(prefetch_count=self.prefetch)
        channel.basic_consume(self.name, self._on_message, auto_ack=False)
        self.ready.set()
        while not self.stopping.is_set():
            connection.process_data_events(time_limit=0.5)
        connection.close()

    def stop(self) -> None:
        self.stopping.set()


class Contender:
    def __init__(
        self, database: Database, amqp_url: str, recorder: Recorder, options: Options
    ) -> None:
        self.name = options.name
        self.options = options
        self.consumer = Consumer(database, amqp_url, self.name, recorder, options.prefetch)
        self.publisher = Publisher(database, amqp_url, self.name, recorder, options)
        self.threads: list[threading.Thread] = []

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "prefetch": self.options.prefetch,
            "batch_size": self.options.batch_size,
            "idle_poll_seconds": self.options.idle_poll_seconds,
        }

    def start_consumer(self, timeout: float) -> None:
        self.consumer.declare()
        self.threads.append(spawn(self.consumer.run, "consumer", self.options))
        if not self.consumer.ready.wait(timeout):
            raise TimeoutError("the pika consumer did not subscribe")

    def start_publisher(self) -> None:
        self.threads.append(spawn(self.publisher.run, "publisher", self.options))

    def stop(self, timeout: float) -> None:
        self.publisher.stop()
        self.consumer.stop()
        for thread in self.threads:
            thread.join(timeout)
        if self.publisher.error:
            raise RuntimeError(f"pika publisher failed: {self.publisher.error}")
