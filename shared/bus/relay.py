"""The outbox relay for RabbitMQ: publish pending rows with windowed publisher confirms.

A batch of rows is locked, every row is published without waiting, and the
confirms are then collected together (one round trip per batch, not per
message). Only rows the broker confirmed are marked published, in the same
transaction that holds their locks. A nack, a timeout or a lost connection
leaves rows pending, to be published again: consumers dedupe by event id.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kombu import Connection, Exchange, Producer
from sqlalchemy.exc import SQLAlchemyError

from shared.bus.connection import connect_patiently, recoverable_errors
from shared.bus.outbox import OutboxPruner, PendingEvent, claim_pending, mark_published
from shared.bus.topology import EVENTS_EXCHANGE
from shared.db import Database
from shared.events.envelope import CONTENT_TYPE, wire_headers
from shared.logging import get_logger

log = get_logger(__name__)


class ConfirmTimeout(RuntimeError):
    pass


@dataclass
class _ConfirmWindow:
    """Tracks publisher confirms by delivery tag for one channel."""

    next_tag: int = 1
    pending: dict[int, PendingEvent] = field(default_factory=dict)
    confirmed: list[PendingEvent] = field(default_factory=list)
    rejected: list[PendingEvent] = field(default_factory=list)
    unroutable: set[str] = field(default_factory=set)

    def sent(self, row: PendingEvent) -> None:
        self.pending[self.next_tag] = row
        self.next_tag += 1

    def _settle(self, delivery_tag: int, multiple: bool, into: list[PendingEvent]) -> None:
        tags = [t for t in self.pending if t <= delivery_tag] if multiple else [delivery_tag]
        for tag in tags:
            row = self.pending.pop(tag, None)
            if row is not None:
                into.append(row)

    def on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, self.confirmed)

    def on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, self.rejected)

    def on_return(self, _exc: Any, _exchange: str, routing_key: str, message: Any) -> None:
        self.unroutable.add(message.properties.get("message_id", routing_key))

    def reset(self) -> None:
        self.pending.clear()
        self.confirmed.clear()
        self.rejected.clear()
        self.unroutable.clear()


class OutboxRelay:
    def __init__(
        self,
        database: Database,
        amqp_url: str,
        *,
        batch_size: int = 200,
        idle_poll_seconds: float = 0.05,
        confirm_timeout_seconds: float = 30.0,
        heartbeat_seconds: int = 20,
        name: str = "relay",
    ) -> None:
        self.database = database
        self.amqp_url = amqp_url
        self.batch_size = batch_size
        self.idle_poll_seconds = idle_poll_seconds
        self.confirm_timeout_seconds = confirm_timeout_seconds
        self.heartbeat_seconds = heartbeat_seconds
        self.name = name
        self.stopping = threading.Event()
        self._connection: Connection | None = None
        self._producer: Producer | None = None
        self._window = _ConfirmWindow()
        self._pruner = OutboxPruner(database)

    # -- connection ---------------------------------------------------------

    def _connect(self) -> Producer:
        if self._producer is not None:
            return self._producer
        connection = Connection(self.amqp_url, heartbeat=self.heartbeat_seconds)
        connect_patiently(connection, self.stopping, self.name)
        channel = connection.channel()
        channel.exchange_declare(EVENTS_EXCHANGE, "topic", durable=True, auto_delete=False)
        channel.confirm_select()
        self._window = _ConfirmWindow()  # delivery tags restart at 1 on a new channel
        channel.events["basic_ack"].add(self._window.on_ack)
        channel.events["basic_nack"].add(self._window.on_nack)
        channel.events["basic_return"].add(self._window.on_return)
        self._connection = connection
        self._producer = Producer(
            channel, exchange=Exchange(EVENTS_EXCHANGE, type="topic"), auto_declare=False
        )
        log.info("relay.connected", relay=self.name)
        return self._producer

    def _disconnect(self) -> None:
        connection, self._connection, self._producer = self._connection, None, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.release()

    def close(self) -> None:
        self._disconnect()

    # -- publishing ----------------------------------------------------------

    def publish_batch(self) -> int:
        """Publish one batch of pending rows; return how many were confirmed."""
        producer = self._connect()
        if not self.database.is_postgres:
            # SQLite has one writer: holding its lock while waiting on the broker would
            # stall every handler. One relay per SQLite database, so no lock is needed.
            with self.database.transaction() as session:
                rows = claim_pending(session, self.batch_size, skip_locked=False)
            if not rows:
                return 0
            confirmed = self._publish_and_confirm(producer, rows)
            self.after_confirm(confirmed)
            with self.database.transaction() as session:
                mark_published(session, [row.row_id for row in confirmed])
            return len(confirmed)
        with self.database.transaction() as session:
            # The row locks are held until the rows are marked: another relay skips them.
            rows = claim_pending(session, self.batch_size, skip_locked=True)
            if not rows:
                return 0
            confirmed = self._publish_and_confirm(producer, rows)
            self.after_confirm(confirmed)
            mark_published(session, [row.row_id for row in confirmed])
        return len(confirmed)

    def after_confirm(self, rows: Sequence[PendingEvent]) -> None:
        """Hook between the confirms and the commit that marks rows (tests inject crashes here)."""

    def _publish_and_confirm(
        self, producer: Producer, rows: list[PendingEvent]
    ) -> list[PendingEvent]:
        window = self._window
        window.reset()
        for row in rows:
            # The row was validated when it was recorded: reading it is enough here.
            envelope = json.loads(row.body)
            producer.publish(
                row.body,
                routing_key=row.event_type,
                content_type=CONTENT_TYPE,
                content_encoding="utf-8",
                delivery_mode=2,
                mandatory=True,
                headers=wire_headers(envelope),
                message_id=row.event_id,
                correlation_id=envelope["correlation_id"],
                type=row.event_type,
                app_id=envelope["producer"],
                timestamp=int(datetime.fromisoformat(envelope["occurred_at"]).timestamp()),
                retry=False,
            )
            window.sent(row)
        assert self._connection is not None
        deadline = time.monotonic() + self.confirm_timeout_seconds
        while window.pending:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ConfirmTimeout(
                    f"{len(window.pending)} confirms missing after {self.confirm_timeout_seconds}s"
                )
            try:
                self._connection.drain_events(timeout=min(remaining, 1.0))
            except TimeoutError:
                self._connection.heartbeat_check()
        for row in window.rejected:
            log.warning("relay.nacked", event_id=row.event_id, event_type=row.event_type)
        for event_id in window.unroutable:
            # Confirmed but routed to no queue: nobody subscribes to this type yet.
            # Keeping it pending would republish it for ever; it stays in the outbox for audit.
            log.warning("relay.unroutable", event_id=event_id)
        return list(window.confirmed)

    # -- loop ----------------------------------------------------------------

    def run(self) -> None:
        log.info("relay.started", relay=self.name)
        failures = 0
        errors: tuple[type[BaseException], ...] = (
            ConfirmTimeout,
            SQLAlchemyError,
            *recoverable_errors(self.amqp_url),
        )
        while not self.stopping.is_set():
            try:
                if self.publish_batch() < self.batch_size:
                    self._idle()
                failures = 0
            except InterruptedError:
                break
            except errors as error:
                failures += 1
                log.warning("relay.publish_failed", error=repr(error), failures=failures)
                self._disconnect()
                self.stopping.wait(min(5.0, 0.2 * 2**failures))
        self._disconnect()
        log.info("relay.stopped", relay=self.name)

    def _idle(self) -> None:
        """Wait for the next poll while reading the socket: the broker's heartbeats must be
        read, or the client decides the broker is gone."""
        assert self._connection is not None
        with contextlib.suppress(TimeoutError):
            self._connection.drain_events(timeout=self.idle_poll_seconds)
        self._connection.heartbeat_check()
        self._pruner.maybe_prune()

    def stop(self) -> None:
        self.stopping.set()
