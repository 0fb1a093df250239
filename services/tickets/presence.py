"""The collision warning: who else has this ticket open, and who is writing a reply, so two
people do not answer the same customer at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets.lifecycle import aware, now
from services.tickets.models import Presence, StaffMember

FRESH = timedelta(seconds=45)
"""The page reports every 15 seconds; someone silent for longer has left."""


def touch(session: Session, ticket_id: int, staff_id: int, writing: bool) -> None:
    session.merge(Presence(ticket_id=ticket_id, staff_id=staff_id, seen_at=now(), writing=writing))


def others(session: Session, ticket_id: int, staff_id: int) -> list[tuple[str, bool]]:
    """The names of the others on the ticket now, and whether each is writing."""
    rows = session.execute(
        select(Presence, StaffMember.name)
        .join(StaffMember, StaffMember.id == Presence.staff_id)
        .where(Presence.ticket_id == ticket_id, Presence.staff_id != staff_id)
    ).all()
    since = now() - FRESH
    return [
        (name, presence.writing)
        for presence, name in rows
        if (aware(presence.seen_at) or since) > since
    ]
