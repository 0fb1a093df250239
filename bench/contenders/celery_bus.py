"""Celery 5.7 doing the same work.

Publisher: an outbox loop sending one task per row with ``apply_async`` on one
held producer. With ``broker_transport_options={"confirm_publish": True}`` the
py-amqp channel is in confirm mode and every publish waits for its own confirm:
Celery has no windowed confirms, so this is the best it allows.

Worker: Celery's own embedded worker (``celery.contrib.testing.worker``, the
real WorkController) in a thread of this process, solo pool, ``acks_late``,
prefetch 100 (multiplier 100 x concurrency 1). The task does the inbox insert
and the side-effect row in one transaction; the message is acked after it returns.
"""

from __future__ import annotations

import threading
import time
from contextlib import ExitStack
from typing import Any

from celery import Celery
from celery.contrib.testing.worker import start_worker
from kombu import Exchange, Queue

from bench.common import OutboxReader, Recorder, handle_raw
from bench.contenders import Options, spawn
from shared.db import Database


class Contender:
    def __init__(
        self, database: Database, amqp_url: str, recorder: Recorder, options: Options
    ) -> None:
        self.name = name = options.name
        self.options = options
        self.database = database
        self.reader = OutboxReader(database)
        self.stack = ExitStack()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []
        self.error: str | None = None
        app = Celery("bench_celery", broker=amqp_url, set_as_current=True)
        app.conf.update(
            broker_transport_options={"confirm_publish": True},
            broker_connection_retry_on_startup=True,
            task_acks_late=True,
            task_ignore_result=True,
            task_serializer="json",
            accept_content=["json"],
            task_default_queue=name,
            task_queues=[
                Queue(
                    name,
                    Exchange(name, type="direct", durable=True),
                    routing_key=name,
                    durable=True,
                )
            ],
            task_default_delivery_mode="persistent",
            worker_prefetch_multiplier=options.prefetch,
            worker_concurrency=1,
            worker_enable_remote_control=False,
            worker_send_task_events=False,
            worker_hijack_root_logger=False,
            worker_disable_rate_limits=True,
        )

        @app.task(name="bench.handle", acks_late=True, ignore_result=True)
        def handle(body: str) -> None:
            seq = handle_raw(database, name, body)
            if seq is not None:
                recorder.record(seq)

        self.app = app
        self.task = handle

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "prefetch": self.options.prefetch,
            "pool": "solo",
            "acks_late": True,
            "confirm_publish": True,
            "batch_size": self.options.batch_size,
        }

    def start_consumer(self, timeout: float) -> None:
        # start_worker returns once the worker's consumer is up (it waits for that itself).
        self.stack.enter_context(
            start_worker(
                self.app,
                pool="solo",
                concurrency=1,
                perform_ping_check=False,
                loglevel="WARNING",
                shutdown_timeout=timeout,
            )
        )

    def _publish_loop(self) -> None:
        task = self.task
        with self.app.producer_or_acquire() as producer:
            while not self.stopping.is_set():
                rows = self.reader.claim(self.options.batch_size)
                if not rows:
                    self.stopping.wait(self.options.idle_poll_seconds)
                    continue
                try:
                    for row in rows:
                        task.apply_async(
                            args=(row.body.decode(),),
                            task_id=row.event_id,
                            producer=producer,
                            retry=False,
                        )
                except Exception as error:
                    self.reader.abandon()
                    self.error = repr(error)
                    return
                self.reader.mark([row.row_id for row in rows])
                if len(rows) < self.options.batch_size:
                    self.stopping.wait(self.options.idle_poll_seconds)

    def start_publisher(self) -> None:
        self.threads.append(spawn(self._publish_loop, "publisher", self.options))

    def stop(self, timeout: float) -> None:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout)
        started = time.monotonic()
        self.stack.close()
        if time.monotonic() - started > timeout:
            raise RuntimeError("the Celery worker took too long to stop")
        if self.error:
            raise RuntimeError(f"celery publisher failed: {self.error}")
