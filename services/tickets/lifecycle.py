"""A ticket's life at the desk: opened from any channel, the customer's messages, internal
notes, status, assignment, priority and tags, each change in the ticket's history and the
events the other services hear.

The SLA clock stops while a ticket waits on the customer: a ``waiting`` status opens a
pause, anything else (or the customer's answer) closes it.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.tickets.clocks import aware, refresh
from services.tickets.models import (
    OPEN_STATUSES,
    STATUSES,
    Attachment,
    CustomerReplica,
    HistoryEntry,
    Message,
    Pause,
    StaffMember,
    Ticket,
)
from shared import clock
from shared.bus.outbox import record_event
from shared.events.contracts import DEPARTMENTS, LANGUAGES, TICKET_PRIORITIES

PRODUCER = "tickets"
CHANNELS = ("portal", "email", "api", "phone")
EMERGENCIES = ("site_down", "email_down", "data_at_risk", "security")
"""P-REACH: what bypasses business hours and alerts whoever is on duty at once."""
MAX_BODY = 50_000


class TicketError(ValueError):
    """A change the desk cannot make; the message is fit to show the user."""


class NotFound(LookupError):
    pass


def now() -> datetime:
    return clock.now()


def history(session: Session, ticket: Ticket, actor: str, change: str, detail: str | None) -> None:
    session.add(
        HistoryEntry(ticket_id=ticket.id, at=now(), actor=actor, change=change, detail=detail)
    )


def ticket_ref(ticket: Ticket) -> dict[str, Any]:
    """What every ticket event carries so notify can write to the customer."""
    return {
        "ticket_id": ticket.id,
        "customer_id": ticket.customer_id,
        "subject": ticket.subject,
        "reference": ticket.reference,
        "requester_email": ticket.requester_email,
        "language": ticket.language,
    }


@dataclass(frozen=True)
class NewTicket:
    subject: str
    body: str
    requester_email: str
    requester_name: str = ""
    customer_id: int | None = None
    department: str = "support"
    priority: str = "normal"
    emergency_kind: str | None = None
    channel: str = "portal"
    language: str | None = None


def _clean(text: str, what: str, limit: int) -> str:
    text = (text or "").strip()
    if not text:
        raise TicketError(f"{what} is required.")
    if len(text) > limit:
        raise TicketError(f"{what} is over {limit} characters.")
    return text


def open_ticket(session: Session, request: NewTicket, actor: str) -> Ticket:
    """Open a ticket; the customer's first message is its first message."""
    subject = _clean(request.subject, "A subject", 300)
    body = _clean(request.body, "A description", MAX_BODY)
    email = (request.requester_email or "").strip().lower()
    if "@" not in email or len(email) > 254:
        raise TicketError("A valid email address is required.")
    if request.department not in DEPARTMENTS:
        raise TicketError(f"Department must be one of: {', '.join(DEPARTMENTS)}.")
    if request.priority not in TICKET_PRIORITIES:
        raise TicketError(f"Priority must be one of: {', '.join(TICKET_PRIORITIES)}.")
    if request.emergency_kind is not None and request.emergency_kind not in EMERGENCIES:
        raise TicketError(f"An emergency is one of: {', '.join(EMERGENCIES)}.")
    if request.channel not in CHANNELS:
        raise TicketError(f"Channel must be one of: {', '.join(CHANNELS)}.")
    customer = _customer_for(session, request.customer_id, email)
    language = request.language or (customer.language if customer else "pt-BR")
    if language not in LANGUAGES:
        raise TicketError(f"Language must be one of: {', '.join(LANGUAGES)}.")
    moment = now()
    emergency = request.emergency_kind is not None
    ticket = Ticket(
        reference="",
        subject=subject,
        customer_id=customer.customer_id if customer else None,
        requester_name=(request.requester_name or (customer.name if customer else "")).strip(),
        requester_email=email,
        language=language,
        channel=request.channel,
        department=request.department,
        priority="urgent" if emergency else request.priority,
        status="new",
        emergency=emergency,
        emergency_kind=request.emergency_kind,
        tags="",
        created_at=moment,
        updated_at=moment,
        last_customer_message_at=moment,
        sla_alerted="",
    )
    session.add(ticket)
    session.flush()
    ticket.reference = f"T-{ticket.id}-{secrets.token_hex(3)}"
    session.add(Message(ticket_id=ticket.id, author="customer", body=body, created_at=moment))
    history(session, ticket, actor, "opened", f"via {request.channel}")
    refresh(session, ticket)
    record_event(
        session,
        PRODUCER,
        "tickets.ticket_opened.v1",
        {
            "ticket_id": ticket.id,
            "customer_id": ticket.customer_id,
            "department": ticket.department,
            "priority": ticket.priority,
            "emergency": ticket.emergency,
            "subject": ticket.subject,
            "requester_name": ticket.requester_name or None,
            "requester_email": ticket.requester_email,
            "language": ticket.language,
            "reference": ticket.reference,
        },
    )
    if ticket.department == "billing" and ticket.customer_id is not None:
        record_event(
            session,
            PRODUCER,
            "tickets.billing_ticket_opened.v1",
            {"ticket_id": ticket.id, "customer_id": ticket.customer_id},
        )
    return ticket


def _customer_for(session: Session, customer_id: int | None, email: str) -> CustomerReplica | None:
    if customer_id is not None:
        customer = session.get(CustomerReplica, customer_id)
        if customer is None:
            raise TicketError(f"No customer {customer_id} is known to the desk.")
        return customer
    return session.execute(
        select(CustomerReplica).where(func.lower(CustomerReplica.email) == email.lower()).limit(1)
    ).scalar_one_or_none()


def get_ticket(session: Session, ticket_id: int) -> Ticket:
    ticket = session.get(Ticket, ticket_id)
    if ticket is None:
        raise NotFound(f"No ticket {ticket_id}.")
    return ticket


def customer_message(session: Session, ticket: Ticket, body: str, actor: str) -> Message:
    """The customer wrote again: a resolved or waiting ticket is open again."""
    if ticket.status == "closed":
        raise TicketError("This ticket is closed; open a new one and we will link them.")
    body = _clean(body, "A message", MAX_BODY)
    moment = now()
    message = Message(ticket_id=ticket.id, author="customer", body=body, created_at=moment)
    session.add(message)
    last_reply, turn = aware(ticket.last_staff_reply_at), aware(ticket.customer_turn_at)
    if last_reply is not None and (turn is None or turn < last_reply):
        ticket.customer_turn_at = moment
    ticket.last_customer_message_at = moment
    ticket.updated_at = moment
    if ticket.status in ("waiting", "resolved", "new"):
        move_status(session, ticket, "open", actor)
    refresh(session, ticket)
    return message


def add_note(session: Session, ticket: Ticket, staff: StaffMember, body: str) -> Message:
    body = _clean(body, "A note", MAX_BODY)
    note = Message(
        ticket_id=ticket.id,
        author="staff",
        staff_id=staff.id,
        body=body,
        internal=True,
        created_at=now(),
    )
    session.add(note)
    history(session, ticket, staff.email, "note", None)
    return note


def set_status(session: Session, ticket: Ticket, status: str, actor: str) -> None:
    if status not in STATUSES:
        raise TicketError(f"Status must be one of: {', '.join(STATUSES)}.")
    if status == "resolved":
        raise TicketError("Resolve a ticket with its cause, fix and prevention (P-RESOLVE).")
    if status == "closed" and ticket.status in OPEN_STATUSES and ticket.status != "waiting":
        raise TicketError(
            "Resolve the ticket first, or let it close after waiting on the customer."
        )
    move_status(session, ticket, status, actor)
    if status == "closed":
        close(session, ticket, actor, "staff")


def move_status(session: Session, ticket: Ticket, status: str, actor: str) -> None:
    if ticket.status == status:
        return
    moment = now()
    if ticket.status == "waiting":
        open_pause = session.execute(
            select(Pause).where(Pause.ticket_id == ticket.id, Pause.ended_at.is_(None))
        ).scalar_one_or_none()
        if open_pause is not None:
            open_pause.ended_at = moment
    if status == "waiting":
        session.add(Pause(ticket_id=ticket.id, started_at=moment))
    history(session, ticket, actor, "status", f"{ticket.status} → {status}")
    ticket.status = status
    ticket.updated_at = moment
    refresh(session, ticket)


def close(session: Session, ticket: Ticket, actor: str, reason: str) -> None:
    ticket.status = "closed"
    ticket.closed_at = now()
    ticket.next_due_at = ticket.warn_at = None
    record_event(
        session, PRODUCER, "tickets.ticket_closed.v1", {**ticket_ref(ticket), "reason": reason}
    )
    if ticket.department == "billing" and ticket.customer_id is not None:
        record_event(
            session,
            PRODUCER,
            "tickets.billing_ticket_closed.v1",
            {"ticket_id": ticket.id, "customer_id": ticket.customer_id},
        )


def assign(session: Session, ticket: Ticket, assignee_id: int | None, actor: str) -> None:
    if assignee_id is not None:
        member = session.get(StaffMember, assignee_id)
        if member is None or not member.active:
            raise TicketError(f"No active staff member {assignee_id}.")
    if ticket.assignee_id == assignee_id:
        return
    ticket.assignee_id = assignee_id
    ticket.updated_at = now()
    history(session, ticket, actor, "assigned", str(assignee_id) if assignee_id else "nobody")


def set_priority(session: Session, ticket: Ticket, priority: str, actor: str) -> None:
    if priority not in TICKET_PRIORITIES:
        raise TicketError(f"Priority must be one of: {', '.join(TICKET_PRIORITIES)}.")
    if ticket.priority != priority:
        history(session, ticket, actor, "priority", f"{ticket.priority} → {priority}")
        ticket.priority = priority
        ticket.updated_at = now()
        refresh(session, ticket)


def set_tags(session: Session, ticket: Ticket, tags: str, actor: str) -> None:
    cleaned = sorted({tag.strip().lower() for tag in tags.split(",") if tag.strip()})
    if any(len(tag) > 40 for tag in cleaned):
        raise TicketError("Tags are at most 40 characters.")
    joined = ",".join(cleaned)
    if len(joined) > 500:
        raise TicketError("Too many tags.")
    if joined != ticket.tags:
        ticket.tags = joined
        history(session, ticket, actor, "tags", joined or "none")


def merge(session: Session, source: Ticket, target: Ticket, actor: str) -> None:
    """The same matter twice (the customer wrote again instead of replying): the source's
    conversation moves to the target and the source closes, pointing at it."""
    if source.id == target.id:
        raise TicketError("A ticket cannot be merged into itself.")
    if source.status == "closed" or target.status == "closed":
        raise TicketError("Only open tickets are merged.")
    for message in session.execute(select(Message).where(Message.ticket_id == source.id)).scalars():
        message.ticket_id = target.id
    for attachment in session.execute(
        select(Attachment).where(Attachment.ticket_id == source.id)
    ).scalars():
        attachment.ticket_id = target.id
    history(session, target, actor, "merged", f"#{source.id} merged into this ticket")
    history(session, source, actor, "merged", f"into #{target.id}")
    move_status(session, source, "closed", actor)
    close(session, source, actor, "merged")
    target.updated_at = now()
