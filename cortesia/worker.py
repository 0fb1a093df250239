"""A service's worker process for RabbitMQ: its outbox relay and one consumer per subscriber."""

from __future__ import annotations

import signal
import threading
from types import FrameType

from cortesia.platform import background_jobs, service_module
from shared.bus.consumer import SubscriberConsumer
from shared.bus.relay import OutboxRelay
from shared.config import Settings
from shared.db import Database
from shared.logging import get_logger

log = get_logger(__name__)


class Worker:
    def __init__(self, settings: Settings) -> None:
        if settings.amqp_url is None:
            raise ValueError(
                "a worker needs CORTESIA_AMQP_URL; in embedded mode `cortesia run` runs the workers"
            )
        self.settings = settings
        # Opened here, in the process that runs the threads: never inherited across a fork.
        self.database = Database(settings.database_url)
        self.relay = OutboxRelay(
            self.database,
            settings.amqp_url,
            heartbeat_seconds=settings.heartbeat_seconds,
            name=f"{settings.service}-relay",
        )
        self.consumers = [
            SubscriberConsumer(
                self.database,
                subscriber,
                settings.amqp_url,
                queue_type=settings.queue_type,
                max_attempts=settings.max_attempts,
                retry_base_seconds=settings.retry_base_seconds,
                prefetch=settings.prefetch,
                heartbeat_seconds=settings.heartbeat_seconds,
            )
            for subscriber in service_module(settings.service).SUBSCRIBERS
        ]
        # Billing's daily run, notify's deliveries.
        self.jobs = background_jobs(settings, self.database)
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for name, target in [("relay", self.relay.run)] + [
            (c.subscriber.name, c.run) for c in self.consumers
        ]:
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)
        for job in self.jobs:
            job.start()
        log.info("worker.started", service=self.settings.service, subscribers=len(self.consumers))

    def stop(self) -> None:
        for job in reversed(self.jobs):
            job.stop()
        self.relay.stop()
        for consumer in self.consumers:
            consumer.stop()
        for thread in self._threads:
            thread.join(timeout=15)
        self.database.dispose()
        log.info("worker.stopped", service=self.settings.service)

    def run_until_signalled(self) -> None:
        done = threading.Event()

        def request_stop(_signum: int, _frame: FrameType | None) -> None:
            done.set()

        signal.signal(signal.SIGTERM, request_stop)
        signal.signal(signal.SIGINT, request_stop)
        self.start()
        done.wait()
        self.stop()
