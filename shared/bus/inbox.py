"""The idempotent inbox: which events each subscriber has already handled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.bus.tables import inbox
from shared.events import Envelope


def remember(session: Session, subscriber: str, envelope: Envelope) -> bool:
    """Record the event for this subscriber; False if it was handled before.

    Runs in the handler's own transaction, so the record and the handler's
    writes commit together or not at all.
    """
    values = {
        "subscriber": subscriber,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "handled_at": datetime.now(UTC),
    }
    dialect = session.get_bind().dialect.name
    insert: Any = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}.get(dialect)
    if insert is None:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    statement = insert(inbox).values(values).on_conflict_do_nothing()
    # RETURNING says whether the row went in; rowcount is not reliable across drivers.
    return session.execute(statement.returning(inbox.c.event_id)).first() is not None


def was_handled(session: Session, subscriber: str, event_id: str) -> bool:
    query = select(inbox.c.event_id).where(
        inbox.c.subscriber == subscriber, inbox.c.event_id == event_id
    )
    return session.execute(query).first() is not None
