"""The idempotent inbox: which events each subscriber has already handled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.bus.tables import inbox
from shared.events import Envelope


def _insert_if_new(insert: Any) -> Any:
    # RETURNING says whether the row went in; rowcount is not reliable across drivers.
    return insert(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)


# Built once: the statement is the same for every message, only its parameters change.
_INSERT_IF_NEW = {
    "postgresql": _insert_if_new(postgresql.insert),
    "sqlite": _insert_if_new(sqlite.insert),
}


def remember(session: Session, subscriber: str, envelope: Envelope) -> bool:
    """Record the event for this subscriber; False if it was handled before.

    Runs in the handler's own transaction, so the record and the handler's
    writes commit together or not at all.
    """
    dialect = session.get_bind().dialect.name
    statement = _INSERT_IF_NEW.get(dialect)
    if statement is None:  # pragma: no cover - only the two supported databases
        raise RuntimeError(f"unsupported database {dialect}")
    parameters = {
        "subscriber": subscriber,
        "event_id": envelope.event_id,
        "event_type": envelope.event_type,
        "handled_at": datetime.now(UTC),
    }
    return session.execute(statement, parameters).first() is not None


def was_handled(session: Session, subscriber: str, event_id: str) -> bool:
    query = select(inbox.c.event_id).where(
        inbox.c.subscriber == subscriber, inbox.c.event_id == event_id
    )
    return session.execute(query).first() is not None
