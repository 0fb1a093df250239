"""The review queue: replies held for review, approved (maybe edited) or returned to their
author with a comment."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets.lifecycle import NotFound, TicketError, get_ticket, history, now
from services.tickets.models import Message, StaffMember, Ticket
from services.tickets.replying import post

REVIEWER_ROLES = ("owner",)


def waiting(session: Session) -> list[tuple[Message, Ticket, StaffMember]]:
    rows = session.execute(
        select(Message, Ticket, StaffMember)
        .join(Ticket, Ticket.id == Message.ticket_id)
        .join(StaffMember, StaffMember.id == Message.staff_id)
        .where(Message.state == "held")
        .order_by(Message.created_at)
    ).all()
    return [(message, ticket, author) for message, ticket, author in rows]


def _held(session: Session, message_id: int) -> Message:
    message = session.get(Message, message_id)
    if message is None:
        raise NotFound(f"No reply {message_id}.")
    if message.state != "held":
        raise TicketError(f"Reply {message_id} is not waiting for review.")
    return message


def approve(
    session: Session, message_id: int, reviewer: StaffMember, edited_body: str | None = None
) -> Message:
    if reviewer.role not in REVIEWER_ROLES:
        raise TicketError("Only the owner reviews held replies.")
    message = _held(session, message_id)
    ticket = get_ticket(session, message.ticket_id)
    author = session.get(StaffMember, message.staff_id)
    assert author is not None
    edited = (edited_body or "").strip()
    if edited and edited != message.body:
        history(session, ticket, reviewer.email, "reply_edited", f"message {message.id}")
        message.body = edited
    message.reviewed_by = reviewer.id
    post(session, ticket, message, author, "waiting")
    history(session, ticket, reviewer.email, "reply_approved", f"message {message.id}")
    return message


def return_to_author(
    session: Session, message_id: int, reviewer: StaffMember, comment: str
) -> Message:
    if reviewer.role not in REVIEWER_ROLES:
        raise TicketError("Only the owner reviews held replies.")
    comment = (comment or "").strip()
    if not comment:
        raise TicketError("Say what to change when returning a reply.")
    message = _held(session, message_id)
    message.state = "returned"
    message.review_comment = comment
    message.reviewed_by = reviewer.id
    ticket = get_ticket(session, message.ticket_id)
    ticket.updated_at = now()
    history(session, ticket, reviewer.email, "reply_returned", comment)
    return message
