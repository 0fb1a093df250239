"""A subscriber's consumer on RabbitMQ: inbox dedupe, ack after commit, retry, park.

Every message is acknowledged only after its fate is durable: handled and
committed, or re-published (with a confirm) to the subscriber's own delay
queue or parked queue. A crash at any point before the ack makes RabbitMQ
deliver the message again, and the inbox absorbs the repeat.

Messages are handled in batches (``process_batch``: one transaction, a savepoint
each): what the broker has already sent ahead (up to the prefetch) is taken
together, up to ``batch_size``, so a burst costs one commit per batch instead of
one per message. A lone message waits at most ``linger_seconds`` for company.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Any

from kombu import Connection, Consumer, Queue
from kombu.message import Message

from shared.bus.connection import connect_patiently, recoverable_errors
from shared.bus.subscriber import Outcome, Result, Subscriber, process_batch
from shared.bus.topology import (
    ATTEMPT_HEADER,
    PARKED_AT_HEADER,
    PARKED_REASON_HEADER,
    ROUTING_KEY_HEADER,
    declare_topology,
    delay_queue,
    parked_queue,
)
from shared.db import Database
from shared.events.envelope import CONTENT_TYPE
from shared.logging import get_logger

log = get_logger(__name__)

BATCH_SIZE = 50
"""Messages handled in one transaction at most (and no more than the prefetch)."""


def _publish_direct(
    connection: Connection, queue: str, message: Message, headers: dict[str, Any]
) -> None:
    """Put a copy of ``message`` on ``queue`` through the default exchange, confirmed."""
    properties = message.properties
    producer = connection.Producer(auto_declare=False)
    producer.publish(
        message.body,
        exchange="",
        routing_key=queue,
        content_type=message.content_type or CONTENT_TYPE,
        content_encoding=message.content_encoding or "utf-8",
        delivery_mode=2,
        headers=headers,
        message_id=properties.get("message_id"),
        correlation_id=properties.get("correlation_id"),
        type=properties.get("type"),
        app_id=properties.get("app_id"),
        retry=False,
        confirm_timeout=30,
    )


def _original_routing_key(message: Message) -> str:
    """The event type it was published under (a retried copy comes back under the queue's name)."""
    headers = message.headers or {}
    return str(headers.get(ROUTING_KEY_HEADER) or message.delivery_info.get("routing_key", ""))


class SubscriberConsumer:
    def __init__(
        self,
        database: Database,
        subscriber: Subscriber,
        amqp_url: str,
        *,
        queue_type: str = "classic",
        max_attempts: int = 5,
        retry_base_seconds: float = 1.0,
        prefetch: int = 100,
        batch_size: int = BATCH_SIZE,
        linger_seconds: float = 0.005,
        heartbeat_seconds: int = 20,
    ) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, got {batch_size}")
        self.database = database
        self.subscriber = subscriber
        self.amqp_url = amqp_url
        self.queue_type = queue_type
        self.max_attempts = max_attempts
        self.retry_base_seconds = retry_base_seconds
        self.prefetch = prefetch
        self.batch_size = min(batch_size, prefetch)
        """No more than the broker sends ahead unacknowledged."""
        self.linger_seconds = linger_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.stopping = threading.Event()
        self.ready = threading.Event()
        """Set once the consumer is subscribed (tests wait on it)."""

    # -- a batch -------------------------------------------------------------

    def handle(self, messages: list[Message], publisher: Connection) -> None:
        """Handle ``messages`` together, then settle and acknowledge each."""
        bodies = [message.body for message in messages]
        for message, result in zip(
            messages, process_batch(self.database, self.subscriber, bodies), strict=True
        ):
            self.settle(message, result, publisher)

    def settle(self, message: Message, result: Result, publisher: Connection) -> None:
        if result.outcome is Outcome.FAILED:
            attempt = int((message.headers or {}).get(ATTEMPT_HEADER, 1))
            if attempt < self.max_attempts:
                self._retry_later(message, publisher, attempt)
            else:
                self._park(
                    message, publisher, f"failed {attempt} times; last: {result.reason}", attempt
                )
        elif result.outcome is Outcome.INVALID:
            self._park(message, publisher, result.reason, 0)
        message.ack()

    def _retry_later(self, message: Message, publisher: Connection, attempt: int) -> None:
        queue = delay_queue(self.subscriber.name, attempt, self.retry_base_seconds)
        headers = {
            **(message.headers or {}),
            ATTEMPT_HEADER: attempt + 1,
            ROUTING_KEY_HEADER: _original_routing_key(message),
        }
        _publish_direct(publisher, queue, message, headers)
        log.info(
            "event.retry_scheduled", subscriber=self.subscriber.name, attempt=attempt, queue=queue
        )

    def _park(self, message: Message, publisher: Connection, reason: str, attempts: int) -> None:
        headers = {
            **(message.headers or {}),
            PARKED_REASON_HEADER: reason[:2000],
            PARKED_AT_HEADER: datetime.now(UTC).isoformat(),
            ATTEMPT_HEADER: attempts,
            ROUTING_KEY_HEADER: _original_routing_key(message),
        }
        _publish_direct(publisher, parked_queue(self.subscriber.name), message, headers)
        log.warning("event.parked", subscriber=self.subscriber.name, reason=reason)

    # -- loop ----------------------------------------------------------------

    def _consume_until_disconnected(self) -> None:
        # Two connections: the publisher's synchronous confirms drain frames, and on a
        # shared connection that would dispatch deliveries re-entrantly. The publisher is
        # idle most of the time and nothing reads its socket between publishes, so it
        # runs without heartbeats: a dead publisher connection shows itself as a failed
        # publish or a confirm timeout, the message stays unacked and comes back.
        with (
            Connection(self.amqp_url, heartbeat=self.heartbeat_seconds) as connection,
            Connection(
                self.amqp_url,
                heartbeat=0,
                transport_options={"confirm_publish": True},
            ) as publisher,
        ):
            connect_patiently(connection, self.stopping, self.subscriber.name)
            channel = connection.channel()
            declare_topology(
                channel,
                [self.subscriber],
                self.queue_type,
                self.max_attempts,
                self.retry_base_seconds,
            )
            channel.basic_qos(0, self.prefetch, False)
            queue = Queue(self.subscriber.name, channel=channel, no_declare=True)
            arrived: list[Message] = []
            consumer = Consumer(channel, queues=[queue], no_ack=False, on_message=arrived.append)
            with consumer:
                log.info("consumer.subscribed", subscriber=self.subscriber.name)
                self.ready.set()
                while not self.stopping.is_set():
                    self._gather(connection, arrived)
                    if arrived:
                        batch = arrived[:]
                        arrived.clear()
                        self.handle(batch, publisher)
                    connection.heartbeat_check()

    def _gather(self, connection: Connection, arrived: list[Message]) -> None:
        """Wait up to a second for a message, then for ``linger_seconds`` more take what
        the broker sends after it (a burst is already on its way: the prefetch)."""
        try:
            connection.drain_events(timeout=1.0)
        except TimeoutError:
            return
        deadline = time.monotonic() + self.linger_seconds
        while len(arrived) < self.batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                connection.drain_events(timeout=remaining)
            except TimeoutError:
                return

    def run(self) -> None:
        failures = 0
        errors = recoverable_errors(self.amqp_url)
        while not self.stopping.is_set():
            try:
                self._consume_until_disconnected()
                failures = 0
            except InterruptedError:
                break
            except errors as error:
                self.ready.clear()
                failures += 1
                log.warning(
                    "consumer.disconnected",
                    subscriber=self.subscriber.name,
                    error=repr(error),
                    failures=failures,
                )
                self.stopping.wait(min(5.0, 0.2 * 2**failures))
        log.info("consumer.stopped", subscriber=self.subscriber.name)

    def stop(self) -> None:
        self.stopping.set()
