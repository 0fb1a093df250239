"""Just in time: the script that fits a ticket, published for the desk to show beside it.

Training follows each customer's billing state from billing's events (a
suspension, a reactivation, the one grace used or refused) and, when the desk
opens a ticket, suggests the script for its situation: an emergency gets the
service-down script; a ticket from a suspended account gets the reactivation
script, the first-time one while the grace is unused and the second-time one,
with the date, once it was used; a ticket asking to cancel gets the
cancellation script.
"""

from __future__ import annotations

import re

from sqlalchemy.orm import Session

from services.training import versions
from services.training.models import CustomerReplica
from shared.bus.outbox import record_event
from shared.bus.subscriber import ReceivedEvent, Subscriber

billing_state = Subscriber("training.billing_state")
suggestions = Subscriber("training.script_suggestions")

SCRIPTS = {
    "service_down": "service-down",
    "reactivation_first": "reactivation-first",
    "reactivation_second": "reactivation-second",
    "cancellation": "cancellation",
}
_CANCELLING = re.compile(r"\b(cancel\w*|dar de baja)\b", re.IGNORECASE)
"""cancel, cancelar, cancelamento, cancelación, dar de baja."""


def _customer(session: Session, customer_id: int, name: str) -> CustomerReplica:
    customer = session.get(CustomerReplica, customer_id)
    if customer is None:
        customer = CustomerReplica(customer_id=customer_id, name=name, suspended=False)
        session.add(customer)
    return customer


@billing_state.handles("billing.account_suspended.v1")
@billing_state.handles("billing.account_terminated.v1")
def remember_suspension(session: Session, event: ReceivedEvent) -> None:
    _customer(session, event.data["customer_id"], event.data["customer_name"]).suspended = True


@billing_state.handles("billing.account_reactivated.v1")
def remember_reactivation(session: Session, event: ReceivedEvent) -> None:
    customer = _customer(session, event.data["customer_id"], event.data["customer_name"])
    customer.suspended = False
    if event.data["cause"] == "grace" and customer.grace_used_on is None:
        customer.grace_used_on = event.envelope.occurred_on(event.data["timezone"])


@billing_state.handles("billing.grace_refused.v1")
def remember_refused_grace(session: Session, event: ReceivedEvent) -> None:
    customer = _customer(session, event.data["customer_id"], event.data["customer_name"])
    customer.grace_used_on = customer.grace_used_on or event.data["first_grace_on"]


@suggestions.handles("tickets.ticket_opened.v1")
def suggest_script(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    customer = session.get(CustomerReplica, data["customer_id"]) if data["customer_id"] else None
    situation, reason = situation_of(
        emergency=data["emergency"], subject=data["subject"], customer=customer
    )
    if situation is None:
        return
    try:
        script = versions.current(session, SCRIPTS[situation])
    except versions.UnknownPlaybook:
        return  # the owner removed the script: nothing to suggest
    record_event(
        session,
        "training",
        "training.script_suggested.v1",
        {
            "ticket_id": data["ticket_id"],
            "customer_id": data["customer_id"],
            "playbook_id": script.playbook.playbook_id,
            "situation": situation,
            "version": script.version,
            "reason": reason,
        },
    )


def situation_of(
    *, emergency: bool, subject: str, customer: CustomerReplica | None
) -> tuple[str | None, str]:
    if emergency:
        return "service_down", "An emergency: answer at once, on any channel."
    if customer is not None and customer.suspended:
        if customer.grace_used_on is None:
            return (
                "reactivation_first",
                "The account is suspended and its one grace has not been used: it can be "
                "reactivated on the date the customer chooses.",
            )
        return (
            "reactivation_second",
            f"The account is suspended and already had its one grace on "
            f"{customer.grace_used_on}: decline politely; paying reactivates at once.",
        )
    if _CANCELLING.search(subject):
        return (
            "cancellation",
            "The customer asks to cancel: ask why, make one offer, do not insist.",
        )
    return None, ""
