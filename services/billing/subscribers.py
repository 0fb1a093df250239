"""What billing hears from the desk and from notify.

- The desk's billing tickets: while a customer has one open, the daily run
  holds their suspension (they are talking to us about the bill), so billing
  keeps a replica of the open ones.
- Notify's delivery reports: an issued invoice is delivered when notify has
  sent the message it wrote for the ``billing.invoice_issued.v1`` event; the
  report cites that event's id, which the invoice keeps. The delivery watch
  of the daily run alerts staff about invoices never confirmed.
- The desk's requests on a customer's behalf: reactivation on the customer's
  chosen date (P-ONE-GRACE) and cancellation (P-EASE). Billing answers with
  its usual events (``account_reactivated``, ``grace_refused``,
  ``subscription_cancelled``), or with ``request_declined`` and the reason
  when the request cannot be carried out as asked; nothing is changed then.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing.accounts import BillingError, announce, note
from services.billing.catalog import get_subscription
from services.billing.changes import cancel_subscription
from services.billing.grace import GraceRequest, request_grace
from services.billing.models import Customer, Invoice, OpenBillingTicket
from services.billing.policy import BillingPolicy
from shared.bus.subscriber import ReceivedEvent, Subscriber

desk_tickets = Subscriber("billing.desk_tickets")
deliveries = Subscriber("billing.deliveries")
desk_requests = Subscriber("billing.desk_requests")

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


@desk_requests.handles("tickets.reactivation_requested.v1")
def reactivate_on_request(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    request = GraceRequest(
        subscription_id=data["subscription_id"],
        pay_by=data["pay_by"],
        requested_by=data["requested_by"],
        by_owner=data["requested_by_role"] == "owner",
        owner_override=data["owner_override"],
        note=data["note"],
    )
    policy = BillingPolicy.from_env()
    _carry_out(
        session,
        event,
        "reactivation",
        lambda: request_grace(session, request, grace_max_days=policy.grace_max_days),
    )


@desk_requests.handles("tickets.cancellation_requested.v1")
def cancel_on_request(session: Session, event: ReceivedEvent) -> None:
    data = event.data

    def cancel() -> None:
        cancellation = cancel_subscription(
            session,
            data["subscription_id"],
            data["reason"],
            requested_by=data["requested_by"],
            at_period_end=data["at_period_end"],
        )
        if data["offer_made"]:
            note(
                session,
                cancellation.subscription.customer_id,
                "retention_offer",
                f"Before cancelling, the desk offered: {data['offer_made']}. The customer "
                "declined, and was not asked again.",
                automatic=False,
            )

    _carry_out(session, event, "cancellation", cancel)


def _carry_out(
    session: Session, event: ReceivedEvent, request_type: str, action: Callable[[], object]
) -> None:
    """Do what the desk asked, or decline it with the reason and change nothing."""
    data = event.data
    try:
        with session.begin_nested():
            subscription = get_subscription(session, data["subscription_id"])
            if subscription.customer_id != data["customer_id"]:
                raise BillingError(
                    f"Subscription {subscription.id} belongs to customer "
                    f"{subscription.customer_id}, not to customer {data['customer_id']}."
                )
            action()
    except BillingError as error:
        reason = str(error)
        if session.get(Customer, data["customer_id"]) is not None:
            note(
                session,
                data["customer_id"],
                f"{request_type}_declined",
                f"The desk's {request_type} request by {data['requested_by']} was not carried "
                f"out: {reason}",
            )
        announce(
            session,
            "billing.request_declined.v1",
            {
                "request_type": request_type,
                "customer_id": data["customer_id"],
                "subscription_id": data["subscription_id"],
                "ticket_id": data["ticket_id"],
                "reason": reason,
            },
        )
