"""The idempotent inbox: which events each subscriber has already handled."""

from __future__ import annotations

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
    row = {
        "subscriber": subscriber,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "handled_at": datetime.now(UTC),
    }
    return _INSERT_IF_NEW(session, row)


def was_handled(session: Session, subscriber: str, event_id: str) -> bool:
    query = select(inbox.c.event_id).where(
        inbox.c.subscriber == subscriber, inbox.c.event_id == event_id
    )
    return session.execute(query).first() is not None
