"""What the desk asks of billing on a customer's behalf (billing decides and answers with
its own events; the desk shows the answer beside the ticket):

- P-ONE-GRACE: reactivate a suspended account until the date the customer chose to pay
  by. The desk shows before the click whether the one grace was already used.
- P-EASE: a cancellation. Ask the reason, make one offer, do not insist: if the customer
  stays, that is recorded; if not, billing ends the subscription (at the period's end
  unless asked otherwise).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from services.tickets.lifecycle import PRODUCER, TicketError, history, now
from services.tickets.models import CustomerNote, CustomerReplica, StaffMember, Ticket
from shared.bus.outbox import record_event


def _customer(session: Session, ticket: Ticket) -> CustomerReplica:
    if ticket.customer_id is None:
        raise TicketError("This ticket is not linked to a customer billing knows.")
    customer = session.get(CustomerReplica, ticket.customer_id)
    if customer is None:
        raise TicketError("Billing has not told the desk about this customer yet.")
    return customer


def request_reactivation(
    session: Session, ticket: Ticket, staff: StaffMember, pay_by: date, note: str | None = None
) -> None:
    customer = _customer(session, ticket)
    if customer.billing_status != "suspended" or customer.suspended_subscription_id is None:
        raise TicketError(f"{customer.name}'s account is not suspended.")
    if pay_by <= now().date():
        raise TicketError("The date the customer will pay by must be in the future.")
    record_event(
        session,
        PRODUCER,
        "tickets.reactivation_requested.v1",
        {
            "customer_id": customer.customer_id,
            "subscription_id": customer.suspended_subscription_id,
            "ticket_id": ticket.id,
            "requested_by": staff.email,
            "requested_by_role": staff.role,
            "pay_by": pay_by,
            "owner_override": False,
            "note": (note or "").strip() or None,
        },
    )
    history(session, ticket, staff.email, "reactivation_requested", f"pay by {pay_by}")


OUTCOMES = ("stays", "cancels")


def record_cancellation(
    session: Session,
    ticket: Ticket,
    staff: StaffMember,
    *,
    reason: str,
    offer_made: str | None,
    outcome: str,
    at_period_end: bool = True,
) -> None:
    customer = _customer(session, ticket)
    reason = (reason or "").strip()
    if not reason:
        raise TicketError("Ask the customer why, and write it down (P-EASE).")
    if outcome not in OUTCOMES:
        raise TicketError("The outcome is that the customer stays or cancels.")
    offer = (offer_made or "").strip() or None
    if outcome == "stays":
        session.add(
            CustomerNote(
                customer_id=customer.customer_id,
                at=now(),
                author=staff.email,
                body=f"Wanted to cancel ({reason}); stayed after the offer: {offer or 'none'}.",
            )
        )
        history(session, ticket, staff.email, "cancellation_averted", reason)
        return
    if customer.subscription_id is None:
        raise TicketError("Billing has not told the desk which subscription to cancel.")
    record_event(
        session,
        PRODUCER,
        "tickets.cancellation_requested.v1",
        {
            "customer_id": customer.customer_id,
            "subscription_id": customer.subscription_id,
            "ticket_id": ticket.id,
            "requested_by": staff.email,
            "requested_by_role": staff.role,
            "reason": reason,
            "offer_made": offer,
            "at_period_end": at_period_end,
        },
    )
    history(session, ticket, staff.email, "cancellation_requested", reason)
