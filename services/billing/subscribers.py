"""What billing hears from the desk and from notify.

- The desk's billing tickets: while a customer has one open, the daily run
  holds their suspension (they are talking to us about the bill), so billing
  keeps a replica of the open ones.
- Notify's delivery reports: an issued invoice is delivered when notify has
  sent the message it wrote for the ``billing.invoice_issued.v1`` event; the
  report cites that event's id, which the invoice keeps. The delivery watch
  of the daily run alerts staff about invoices never confirmed.
"""

from __future__ import annotations

from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing.accounts import note
from services.billing.models import Customer, Invoice, OpenBillingTicket
from shared.bus.subscriber import ReceivedEvent, Subscriber

desk_tickets = Subscriber("billing.desk_tickets")
deliveries = Subscriber("billing.deliveries")

INVOICE_ISSUED = "billing.invoice_issued.v1"


@desk_tickets.handles("tickets.billing_ticket_opened.v1")
def remember_open_ticket(session: Session, event: ReceivedEvent) -> None:
    ticket_id, customer_id = event.data["ticket_id"], event.data["customer_id"]
    if session.get(OpenBillingTicket, ticket_id) is not None:
        return
    session.add(OpenBillingTicket(ticket_id=ticket_id, customer_id=customer_id))
    if session.get(Customer, customer_id) is not None:
        note(
            session,
            customer_id,
            "billing_ticket_opened",
            f"Billing ticket #{ticket_id} opened at the desk: no suspension while it is open.",
        )


@desk_tickets.handles("tickets.billing_ticket_closed.v1")
def forget_closed_ticket(session: Session, event: ReceivedEvent) -> None:
    ticket = session.get(OpenBillingTicket, event.data["ticket_id"])
    if ticket is None:
        return
    session.delete(ticket)
    if session.get(Customer, ticket.customer_id) is not None:
        note(
            session,
            ticket.customer_id,
            "billing_ticket_closed",
            f"Billing ticket #{ticket.ticket_id} closed: overdue invoices follow the usual "
            "schedule again.",
        )


def _issued_invoice(session: Session, event: ReceivedEvent) -> Invoice | None:
    if event.data["source_event_type"] != INVOICE_ISSUED:
        return None
    return session.execute(
        select(Invoice).where(Invoice.issued_event_id == event.data["source_event_id"])
    ).scalar_one_or_none()


@deliveries.handles("notify.notification_sent.v1")
def confirm_delivery(session: Session, event: ReceivedEvent) -> None:
    invoice = _issued_invoice(session, event)
    if invoice is not None and invoice.delivered_at is None:
        invoice.delivered_at = event.data["sent_at"].astimezone(UTC)


@deliveries.handles("notify.notification_failed.v1")
def record_failed_delivery(session: Session, event: ReceivedEvent) -> None:
    invoice = _issued_invoice(session, event)
    if invoice is None:
        return
    note(
        session,
        invoice.customer_id,
        "invoice_delivery_failed",
        f"Invoice #{invoice.number} could not be sent by {event.data['channel']}: "
        f"{event.data['reason']}. Check the customer's address and send it again.",
    )
