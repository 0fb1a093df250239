"""The transactional outbox: events are rows written with the state change that caused them."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from shared.bus.tables import outbox
from shared.db import Database, insert_rows
from shared.events import REGISTRY, Envelope
from shared.logging import current_correlation_id, current_event_id, new_correlation_id


def record_event(
    session: Session,
    producer: str,
    event_type: str,
    payload: dict[str, Any],
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
) -> Envelope:
    """Add an event to the outbox inside the caller's transaction.

    The payload is validated strictly against its schema here, so an invalid
    event fails the business transaction instead of reaching consumers. The
    correlation id defaults to the current request's or event's, and inside an
    event handler the handled event becomes the causation id.
    """
    envelope = new_event(
        producer, event_type, payload, correlation_id=correlation_id, causation_id=causation_id
    )
    write_events(session, [envelope])
    return envelope


def new_event(
    producer: str,
    event_type: str,
    payload: dict[str, Any],
    *,
    correlation_id: str | None = None,
    causation_id: str | None = None,
    event_id: str | None = None,
) -> Envelope:
    """The envelope ``record_event`` would write, validated, for ``write_events`` to write later.

    A batch job builds its events one by one as it goes and writes them in one
    statement before its transaction commits. ``event_id`` is for a row that must
    cite its event before the event can be built.
    """
    if producer != event_type.split(".", 1)[0]:
        raise ValueError(f"{producer} may not publish {event_type}")
    envelope = Envelope(
        event_type=event_type,
        producer=producer,
        payload=REGISTRY.dump(event_type, payload),
        correlation_id=correlation_id or current_correlation_id() or new_correlation_id(),
        causation_id=causation_id or current_event_id(),
    )
    return envelope if event_id is None else replace(envelope, event_id=event_id)


def write_events(session: Session, envelopes: Sequence[Envelope]) -> None:
    """Add ``envelopes`` to the outbox, in order, inside the caller's transaction."""
    insert_rows(
        session,
        outbox,
        [
            {
                "event_id": envelope.event_id,
                "event_type": envelope.event_type,
                "body": envelope.to_json().decode(),
                "created_at": envelope.occurred_at,
            }
            for envelope in envelopes
        ],
    )


@dataclass(frozen=True)
class PendingEvent:
    row_id: int
    event_id: str
    event_type: str
    body: bytes


def claim_pending(session: Session, limit: int, skip_locked: bool) -> list[PendingEvent]:
    """Lock up to ``limit`` unpublished rows, oldest first.

    Pending rows are selected by status, never by "id above the last one seen":
    PostgreSQL sequences can commit out of order, and a high-water mark would
    skip the late row for ever. With ``skip_locked`` (PostgreSQL), rows another
    relay holds are passed over, so two relays never publish the same row.
    """
    query = (
        select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, outbox.c.body)
        .where(outbox.c.published_at.is_(None))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return [
        PendingEvent(row.id, row.event_id, row.event_type, row.body.encode())
        for row in session.execute(query)
    ]


def prune_published(session: Session, older_than: datetime) -> int:
    """Delete rows published before ``older_than``; the outbox is a queue, not an archive."""
    result = session.execute(
        delete(outbox).where(outbox.c.published_at.is_not(None), outbox.c.published_at < older_than)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


class OutboxPruner:
    """Prunes published rows now and then, from a relay's idle moments.

    Published rows are kept a while (default 7 days) for audit and debugging.
    """

    def __init__(self, database: Database, keep: timedelta = timedelta(days=7)) -> None:
        self.database = database
        self.keep = keep
        self.every_seconds = 3600.0
        self._last: float | None = None
        """When it last pruned (``time.monotonic()``), None before the first time: the
        monotonic clock may start near zero when the machine has just booted."""

    def maybe_prune(self) -> None:
        if self._last is not None and time.monotonic() - self._last < self.every_seconds:
            return
        self._last = time.monotonic()
        with self.database.transaction() as session:
            prune_published(session, datetime.now(UTC) - self.keep)


def mark_published(session: Session, row_ids: Sequence[int]) -> None:
    if row_ids:
        session.execute(
            update(outbox).where(outbox.c.id.in_(row_ids)).values(published_at=datetime.now(UTC))
        )
