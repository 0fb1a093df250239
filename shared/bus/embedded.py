"""The embedded bus: the same delivery guarantees as RabbitMQ, inside one process.

There is no broker to install, so the bus keeps its queues in a SQLite file
beside the services' databases:

    service db: outbox ──relay──► bus db: deliveries (one row per subscriber)
                                        │ dispatcher per subscriber
                                        ▼
                        subscriber's service db: inbox + handler writes

- The outbox decides what is delivered: the relay copies each pending row to
  one delivery per subscriber, then marks it published. A crash between the two
  copies it again; the (subscriber, event id) key absorbs the repeat.
- A delivery is deleted only after the handler's transaction (inbox record
  included) committed, so a restart re-delivers whatever was not handled, and
  the inbox skips what was handled but not yet deleted.
- A subscriber's due deliveries are handled as one batch (``process_batch``: one
  transaction, a savepoint each) and settled in one bus transaction: two commits
  for the batch instead of two per event.
- Failures back off exponentially per delivery and park after N attempts;
  invalid messages park at once. One subscriber's retries touch only its own
  delivery rows.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    delete,
    select,
    update,
)
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from shared.bus.outbox import OutboxPruner, claim_pending, mark_published
from shared.bus.subscriber import Outcome, Result, Subscriber, process_batch, retry_delay
from shared.db import Database
from shared.logging import get_logger

log = get_logger(__name__)

EMBEDDED_BUS_METADATA = MetaData()

PENDING, PARKED = "pending", "parked"

deliveries = Table(
    "deliveries",
    EMBEDDED_BUS_METADATA,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("subscriber", String(80), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("event_type", String(120), nullable=False),
    Column("body", Text, nullable=False),
    Column("status", String(10), nullable=False, default=PENDING),
    Column("attempts", Integer, nullable=False, default=0),
    Column("due_at", Float, nullable=False, doc="epoch seconds; when the next attempt may run"),
    Column("reason", Text, nullable=True),
    Column("parked_at", Float, nullable=True),
    UniqueConstraint("subscriber", "event_id", name="uq_delivery_subscriber_event"),
)


def open_bus_database(url: str) -> Database:
    database = Database(url)
    EMBEDDED_BUS_METADATA.create_all(database.engine)
    return database


@dataclass
class EmbeddedBus:
    bus: Database
    service_databases: Mapping[str, Database]
    subscribers: list[Subscriber]
    max_attempts: int = 5
    retry_base_seconds: float = 1.0
    idle_poll_seconds: float = 0.5

    def __post_init__(self) -> None:
        self._stopping = threading.Event()
        self._wake = {subscriber.name: threading.Event() for subscriber in self.subscribers}
        self._threads: list[threading.Thread] = []

    # -- relay: outbox rows become deliveries ----------------------------------

    def relay_once(self, service: str, batch_size: int = 500) -> int:
        database = self.service_databases[service]
        with database.transaction() as session:
            rows = claim_pending(session, batch_size, skip_locked=False)
            if not rows:
                return 0
            now = time.time()
            copies = [
                {
                    "subscriber": subscriber.name,
                    "event_id": row.event_id,
                    "event_type": row.event_type,
                    "body": row.body.decode(),
                    "status": PENDING,
                    "attempts": 0,
                    "due_at": now,
                }
                for row in rows
                for subscriber in self.subscribers
                if row.event_type in subscriber.handlers
            ]
            if copies:
                with self.bus.transaction() as bus_session:
                    bus_session.execute(sqlite_insert(deliveries).on_conflict_do_nothing(), copies)
            mark_published(session, [row.row_id for row in rows])
        for wake in self._wake.values():
            wake.set()
        return len(rows)

    # -- dispatch: deliveries reach handlers -----------------------------------

    def dispatch_once(self, subscriber: Subscriber, limit: int = 100) -> float | None:
        """Handle the subscriber's due deliveries; return when the next one falls due."""
        database = self.service_databases[subscriber.service]
        now = time.time()
        with self.bus.transaction() as session:
            due = session.execute(
                select(deliveries.c.id, deliveries.c.body, deliveries.c.attempts)
                .where(
                    deliveries.c.subscriber == subscriber.name,
                    deliveries.c.status == PENDING,
                    deliveries.c.due_at <= now,
                )
                .order_by(deliveries.c.id)
                .limit(limit)
            ).all()
        if due:
            results = process_batch(database, subscriber, [d.body.encode() for d in due])
            with self.bus.transaction() as session:
                for delivery, result in zip(due, results, strict=True):
                    self._settle(session, delivery.id, delivery.attempts + 1, result)
        with self.bus.transaction() as session:
            return session.execute(
                select(deliveries.c.due_at)
                .where(deliveries.c.subscriber == subscriber.name, deliveries.c.status == PENDING)
                .order_by(deliveries.c.due_at)
                .limit(1)
            ).scalar()

    def _settle(self, session: Session, delivery_id: int, attempts: int, result: Result) -> None:
        row = deliveries.c
        outcome, reason = result.outcome, result.reason
        if outcome in (Outcome.HANDLED, Outcome.DUPLICATE, Outcome.IGNORED):
            session.execute(delete(deliveries).where(row.id == delivery_id))
        elif outcome is Outcome.INVALID:
            session.execute(
                update(deliveries)
                .where(row.id == delivery_id)
                .values(status=PARKED, reason=reason, parked_at=time.time(), attempts=0)
            )
        elif attempts >= self.max_attempts:
            session.execute(
                update(deliveries)
                .where(row.id == delivery_id)
                .values(
                    status=PARKED,
                    attempts=attempts,
                    parked_at=time.time(),
                    reason=f"failed {attempts} times; last: {reason}",
                )
            )
        else:
            session.execute(
                update(deliveries)
                .where(row.id == delivery_id)
                .values(
                    attempts=attempts,
                    reason=reason,
                    due_at=time.time() + retry_delay(attempts, self.retry_base_seconds),
                )
            )

    # -- threads ---------------------------------------------------------------

    def _relay_loop(self, service: str) -> None:
        pruner = OutboxPruner(self.service_databases[service])
        while not self._stopping.is_set():
            try:
                moved = self.relay_once(service)
                if not moved:
                    pruner.maybe_prune()
            except SQLAlchemyError as error:
                log.warning("embedded_bus.relay_failed", service=service, error=repr(error))
                moved = 0
            if not moved:
                self._stopping.wait(0.05)

    def _dispatch_loop(self, subscriber: Subscriber) -> None:
        while not self._stopping.is_set():
            wake = self._wake[subscriber.name]
            wake.clear()
            try:
                next_due = self.dispatch_once(subscriber)
            except SQLAlchemyError as error:
                log.warning(
                    "embedded_bus.dispatch_failed", subscriber=subscriber.name, error=repr(error)
                )
                next_due = None
            if next_due is not None and next_due <= time.time():
                continue
            wait = (
                self.idle_poll_seconds
                if next_due is None
                else min(self.idle_poll_seconds, next_due - time.time())
            )
            wake.wait(max(0.0, wait))

    def start(self) -> None:
        for service in self.service_databases:
            self._spawn(f"relay-{service}", self._relay_loop, service)
        for subscriber in self.subscribers:
            self._spawn(f"dispatch-{subscriber.name}", self._dispatch_loop, subscriber)
        log.info("embedded_bus.started", services=list(self.service_databases))

    def _spawn(self, name: str, target: Callable[[Any], None], argument: object) -> None:
        thread = threading.Thread(target=target, args=(argument,), name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def stop(self, timeout: float = 10.0) -> None:
        self._stopping.set()
        for wake in self._wake.values():
            wake.set()
        for thread in self._threads:
            thread.join(timeout)
        self._threads.clear()
