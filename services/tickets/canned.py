"""Canned replies: the texts staff start from, with placeholders filled in for the ticket.
A canned reply is only a start: it goes through the reply checker like any reply."""

from __future__ import annotations

import string

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets.lifecycle import TicketError
from services.tickets.models import CannedReply, StaffMember, Ticket
from shared.events.contracts import LANGUAGES

PLACEHOLDERS = ("customer_name", "agent_name", "ticket_reference", "ticket_subject")


def _fields(body: str) -> set[str]:
    try:
        return {name for _, name, _, _ in string.Formatter().parse(body) if name is not None}
    except ValueError as error:
        raise TicketError(f"The text has a stray brace: {error}.") from None


def save(
    session: Session, title: str, language: str, body: str, reply_id: int | None = None
) -> CannedReply:
    title, body = title.strip(), body.strip()
    if not title or not body:
        raise TicketError("A canned reply needs a title and a text.")
    if language not in LANGUAGES:
        raise TicketError(f"Language must be one of: {', '.join(LANGUAGES)}.")
    unknown = _fields(body) - set(PLACEHOLDERS)
    if unknown:
        raise TicketError(
            f"Unknown placeholders {', '.join(sorted(unknown))}; use {', '.join(PLACEHOLDERS)}."
        )
    reply = session.get(CannedReply, reply_id) if reply_id else CannedReply()
    if reply is None:
        raise TicketError(f"No canned reply {reply_id}.")
    reply.title, reply.language, reply.body = title, language, body
    session.add(reply)
    session.flush()
    return reply


def for_language(session: Session, language: str) -> list[CannedReply]:
    return list(
        session.execute(
            select(CannedReply).where(CannedReply.language == language).order_by(CannedReply.title)
        ).scalars()
    )


def fill(reply: CannedReply, ticket: Ticket, agent: StaffMember) -> str:
    first_name = (ticket.requester_name or "").split(" ")[0]
    return reply.body.format(
        customer_name=first_name or ticket.requester_email,
        agent_name=agent.name,
        ticket_reference=ticket.reference,
        ticket_subject=ticket.subject,
    )
