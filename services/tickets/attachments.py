"""Files that come with a customer's message (by email or the portal): kept in the desk's
database up to a size each, and handed back only as downloads, never rendered on our
origin (a customer's HTML file must not run with anyone's session)."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets.models import Attachment

MAX_ATTACHMENT = 10 * 1024 * 1024


def keep(
    session: Session,
    ticket_id: int,
    message_id: int,
    filename: str,
    content_type: str,
    data: bytes,
    limit: int = MAX_ATTACHMENT,
) -> bool:
    """Keep the file; False when it is over the limit (the caller says so)."""
    if len(data) > limit:
        return False
    session.add(
        Attachment(
            ticket_id=ticket_id,
            message_id=message_id,
            filename=(filename or "attachment")[:255],
            content_type=(content_type or "application/octet-stream")[:120],
            size=len(data),
            data=data,
        )
    )
    return True


def by_message(session: Session, ticket_id: int) -> dict[int, list[Attachment]]:
    """The ticket's files (without their bytes loaded) by the message they came with."""
    found: dict[int, list[Attachment]] = {}
    for row in session.execute(
        select(Attachment.id, Attachment.message_id, Attachment.filename, Attachment.size).where(
            Attachment.ticket_id == ticket_id
        )
    ).all():
        found.setdefault(row.message_id, []).append(row)  # type: ignore[arg-type]
    return found


def download(attachment: Attachment) -> Response:
    return Response(
        attachment.data,
        mimetype="application/octet-stream",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(attachment.filename)}",
            "X-Content-Type-Options": "nosniff",
        },
    )
