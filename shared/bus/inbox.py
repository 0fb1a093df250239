"""The idempotent inbox: which events each subscriber has already handled."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.bus.tables import inbox
from shared.db import InsertIfNew
from shared.events import Envelope

_INSERT_IF_NEW = InsertIfNew(inbox, inbox.c.event_id)


def remember(session: Session, subscriber: str, envelope: Envelope) -> bool:
    """Record the event for this subscriber; False if it was handled before.

    Runs in the handler's own transaction, so the record and the handler's
    writes commit together or not at all.
    """
    return _INSERT_IF_NEW(session, _record(subscriber, envelope, datetime.now(UTC)))


def remember_all(session: Session, subscriber: str, envelopes: Sequence[Envelope]) -> list[bool]:
    """``remember`` for several events in one statement: for each, in order, whether it
    is new (an event given twice is new the first time only)."""
    now = datetime.now(UTC)
    return _INSERT_IF_NEW.each(session, [_record(subscriber, e, now) for e in envelopes])


def _record(subscriber: str, envelope: Envelope, now: datetime) -> dict[str, object]:
    return {
        "subscriber": subscriber,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "handled_at": now,
    }


def was_handled(session: Session, subscriber: str, event_id: str) -> bool:
    query = select(inbox.c.event_id).where(
        inbox.c.subscriber == subscriber, inbox.c.event_id == event_id
    )
    return session.execute(query).first() is not None
