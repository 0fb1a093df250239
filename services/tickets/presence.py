"""The collision warning: who else has this ticket open, and who is writing a reply, so two
people do not answer the same customer at once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from services.tickets.lifecycle import aware, now
from services.tickets.models import Presence, StaffMember

FRESH = timedelta(seconds=45)
"""The page reports every 15 seconds; someone silent for longer has left."""


def touch(session: Session, ticket_id: int, staff_id: int, writing: bool) -> None:
    """Insert or update this person's row in one statement: every ticket page and every
    draft check writes it, and a merge is a SELECT before its INSERT or UPDATE."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    row = insert(Presence).values(
        ticket_id=ticket_id, staff_id=staff_id, seen_at=now(), writing=writing
    )
    session.execute(
        row.on_conflict_do_update(
            index_elements=[Presence.ticket_id, Presence.staff_id],
            set_={"seen_at": row.excluded.seen_at, "writing": row.excluded.writing},
        )
    )


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
