"""P-RESOLVE and what follows: a ticket is resolved with its cause, its fix and how it is
prevented from happening again; the customer gets the summary and a satisfaction survey
(notify writes them from ``tickets.ticket_resolved.v1``), rates it 1-5 with a comment
(``tickets.ticket_rated.v1``, for training's coaching), and a follow-up check comes some
days later (P-EASE)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.tickets.clocks import SlaOutcome, refresh
from services.tickets.lifecycle import (
    PRODUCER,
    TicketError,
    history,
    move_status,
    now,
    ticket_ref,
)
from services.tickets.models import Rating, StaffMember, Ticket
from shared.bus.outbox import record_event


def resolve(
    session: Session,
    ticket: Ticket,
    staff: StaffMember,
    *,
    cause: str,
    fix: str,
    prevention: str,
    survey_url: str,
    sla_outcome: SlaOutcome,
) -> None:
    if ticket.status in ("resolved", "closed"):
        raise TicketError(f"The ticket is already {ticket.status}.")
    parts = {"cause": cause, "fix": fix, "prevention": prevention}
    missing = [name for name, text in parts.items() if not (text or "").strip()]
    if missing:
        raise TicketError(
            "A resolution says what caused it, what fixed it and what keeps it from happening "
            f"again (P-RESOLVE): {', '.join(missing)} missing."
        )
    moment = now()
    ticket.cause, ticket.fix, ticket.prevention = (text.strip() for text in parts.values())
    ticket.resolved_at = moment
    ticket.resolved_by = staff.id
    ticket.first_response_at = ticket.first_response_at or moment
    move_status(session, ticket, "resolved", staff.email)
    first_response_met, resolution_met = sla_outcome(ticket, moment)
    history(session, ticket, staff.email, "resolved", ticket.cause)
    refresh(session, ticket)
    record_event(
        session,
        PRODUCER,
        "tickets.ticket_resolved.v1",
        {
            **ticket_ref(ticket),
            "staff_id": staff.id,
            "staff_name": staff.name,
            "cause": ticket.cause,
            "fix": ticket.fix,
            "prevention": ticket.prevention,
            "survey_url": survey_url,
            "first_response_met": first_response_met,
            "resolution_met": resolution_met,
            "resolved_at": moment,
        },
    )


def rate(session: Session, ticket: Ticket, rating: int, comment: str | None) -> Rating:
    """The customer's rating of a resolution; rating again replaces it."""
    if ticket.resolved_at is None:
        raise TicketError("A ticket is rated once it is resolved.")
    if not isinstance(rating, int) or not 1 <= rating <= 5:
        raise TicketError("A rating is a whole number from 1 to 5.")
    comment = (comment or "").strip() or None
    if comment is not None and len(comment) > 5000:
        raise TicketError("A comment is at most 5000 characters.")
    moment = now()
    row = session.merge(
        Rating(ticket_id=ticket.id, rating=rating, comment=comment, rated_at=moment)
    )
    history(session, ticket, f"customer:{ticket.requester_email}", "rated", str(rating))
    record_event(
        session,
        PRODUCER,
        "tickets.ticket_rated.v1",
        {
            "ticket_id": ticket.id,
            "customer_id": ticket.customer_id,
            "staff_id": ticket.resolved_by,
            "rating": rating,
            "comment": comment,
            "rated_at": moment,
        },
    )
    return row
