"""What the desk hears from the other services, kept beside each ticket:

- billing: the customers, and each one's billing state (active, overdue, suspended,
  cancelled; whether the one grace was used, P-ONE-GRACE), and why a request was declined;
- training: the share of each person's replies to hold for review, certification and
  revocation, the script that fits a ticket, the owner's tuning of the reply checker;
- notify: what was sent to (or failed to reach) each customer, and their replies to
  their periodic reports, kept as notes on the customer.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC
from typing import Any

from sqlalchemy.orm import Session

from services.tickets.models import (
    CheckerTuning,
    CustomerNote,
    CustomerReplica,
    DeliveryReplica,
    ReviewPolicy,
    SuggestedScript,
)
from shared import clock
from shared.bus.subscriber import ReceivedEvent, Subscriber

billing_state = Subscriber("tickets.billing_state")
training_policy = Subscriber("tickets.training")
deliveries = Subscriber("tickets.deliveries")


def _customer(session: Session, data: Mapping[str, Any]) -> CustomerReplica:
    customer_id = data["customer_id"]
    customer = session.get(CustomerReplica, customer_id)
    if customer is None:
        customer = CustomerReplica(customer_id=customer_id, billing_status="active", managed=False)
        session.add(customer)
    customer.name = data["customer_name"]
    customer.email = data["email"]
    customer.language = data["language"]
    customer.timezone = data["timezone"]
    if "managed" in data:
        customer.managed = data["managed"]
    if data.get("subscription_id"):
        customer.subscription_id = data["subscription_id"]
    return customer


@billing_state.handles("billing.customer_created.v1")
@billing_state.handles("billing.customer_updated.v1")
def customer_announced(session: Session, event: ReceivedEvent) -> None:
    _customer(session, event.data)


@billing_state.handles("billing.invoice_overdue.v1")
def invoice_overdue(session: Session, event: ReceivedEvent) -> None:
    customer = _customer(session, event.data)
    if customer.billing_status == "active":
        customer.billing_status = "overdue"


@billing_state.handles("billing.invoice_paid.v1")
def invoice_paid(session: Session, event: ReceivedEvent) -> None:
    customer = _customer(session, event.data)
    if customer.billing_status == "overdue":
        customer.billing_status = "active"


@billing_state.handles("billing.account_suspended.v1")
def account_suspended(session: Session, event: ReceivedEvent) -> None:
    customer = _customer(session, event.data)
    customer.billing_status = "suspended"
    customer.suspended_subscription_id = event.data["subscription_id"]
    reason = str(event.data["reason"]).replace("_", " ")
    customer.billing_note = f"{event.data['plan_name']} suspended ({reason})."


@billing_state.handles("billing.account_reactivated.v1")
def account_reactivated(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    customer = _customer(session, data)
    customer.billing_status = "active"
    customer.suspended_subscription_id = None
    if data["cause"] == "grace":
        customer.grace_used_on = event.envelope.occurred_on(data["timezone"])
        customer.billing_note = f"Reactivated on the one grace, to pay by {data['pay_by']}."
    else:
        customer.billing_note = f"Reactivated ({data['cause']})."


@billing_state.handles("billing.grace_refused.v1")
def grace_refused(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    customer = _customer(session, data)
    if data["first_grace_on"] is not None:
        customer.grace_used_on = data["first_grace_on"]
    customer.billing_note = f"Grace refused: {data['reason']}"


@billing_state.handles("billing.subscription_started.v1")
def subscription_started(session: Session, event: ReceivedEvent) -> None:
    # The subscription a cancellation request names, before any invoice mentions it.
    _customer(session, event.data)


@billing_state.handles("billing.subscription_cancelled.v1")
def subscription_cancelled(session: Session, event: ReceivedEvent) -> None:
    customer = _customer(session, event.data)
    customer.billing_note = (
        f"{event.data['plan_name']} ends on {event.data['effective_on']}: {event.data['reason']}"
    )


@billing_state.handles("billing.subscription_ended.v1")
def subscription_ended(session: Session, event: ReceivedEvent) -> None:
    customer = _customer(session, event.data)
    customer.billing_status = "cancelled"


@billing_state.handles("billing.request_declined.v1")
def request_declined(session: Session, event: ReceivedEvent) -> None:
    customer = session.get(CustomerReplica, event.data["customer_id"])
    if customer is not None:
        customer.billing_note = f"Billing declined the request: {event.data['reason']}"


# -- training ---------------------------------------------------------------------------


def _policy(session: Session, staff_id: int, share: int, reason: str) -> None:
    session.merge(
        ReviewPolicy(staff_id=staff_id, share_held=share, reason=reason, updated_at=clock.now())
    )


@training_policy.handles("training.trainee_enrolled.v1")
def trainee_enrolled(session: Session, event: ReceivedEvent) -> None:
    _policy(session, event.data["staff_id"], event.data["share_held"], "enrolled")


@training_policy.handles("training.review_policy_changed.v1")
def review_policy_changed(session: Session, event: ReceivedEvent) -> None:
    _policy(session, event.data["staff_id"], event.data["share_held"], event.data["reason"])


@training_policy.handles("training.trainee_certified.v1")
def trainee_certified(session: Session, event: ReceivedEvent) -> None:
    _policy(session, event.data["staff_id"], 0, "certified")


@training_policy.handles("training.certification_revoked.v1")
def certification_revoked(session: Session, event: ReceivedEvent) -> None:
    _policy(session, event.data["staff_id"], event.data["share_held"], event.data["reason"])


@training_policy.handles("training.script_suggested.v1")
def script_suggested(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    session.merge(
        SuggestedScript(
            ticket_id=data["ticket_id"],
            playbook_id=data["playbook_id"],
            situation=data["situation"],
            version=data["version"],
            reason=data["reason"],
        )
    )


@training_policy.handles("training.checker_tuned.v1")
def checker_tuned(session: Session, event: ReceivedEvent) -> None:
    session.merge(
        CheckerTuning(
            check_key=event.data["check_key"], overrides=json.dumps(event.data["overrides"])
        )
    )


# -- notify -----------------------------------------------------------------------------------


@deliveries.handles("notify.notification_sent.v1")
def notification_sent(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    if data["customer_id"] is None:
        return
    session.merge(
        DeliveryReplica(
            notification_id=data["notification_id"],
            customer_id=data["customer_id"],
            source_event_type=data["source_event_type"],
            channel=data["channel"],
            status="sent",
            detail=None,
            at=data["sent_at"].astimezone(UTC),
        )
    )


@deliveries.handles("notify.notification_failed.v1")
def notification_failed(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    if data["customer_id"] is None:
        return
    session.merge(
        DeliveryReplica(
            notification_id=data["notification_id"],
            customer_id=data["customer_id"],
            source_event_type=data["source_event_type"],
            channel=data["channel"],
            status="failed",
            detail=data["reason"],
            at=event.envelope.occurred_at.astimezone(UTC),
        )
    )


@deliveries.handles("notify.report_reply_received.v1")
def report_reply(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    session.add(
        CustomerNote(
            customer_id=data["customer_id"],
            at=data["received_at"].astimezone(UTC),
            author="customer (report reply)",
            body=(
                f"On the report of {data['period_start']} to {data['period_end']}:\n"
                f"{data['comments']}"
            ),
        )
    )
