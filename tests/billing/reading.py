"""Reading what billing wrote, inside a test's session: its events and its timeline."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing.models import TimelineEntry
from shared.bus.tables import outbox


def events(session: Session, event_type: str) -> list[dict[str, Any]]:
    """The payloads of the events of this type in the outbox, oldest first."""
    rows = session.execute(
        select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
    ).scalars()
    return [json.loads(body)["payload"] for body in rows]


def timeline(session: Session, kind: str) -> list[str]:
    query = select(TimelineEntry.message).where(TimelineEntry.kind == kind)
    return list(session.execute(query.order_by(TimelineEntry.id)).scalars())
