"""P-ONE-GRACE: one reactivation per account on the customer's own pay-by date.

When a customer whose account was suspended for non-payment asks to have it
back, staff reactivate it and move the overdue invoice's due date to the date
the customer chose (not in the past, at most ``grace_max_days`` ahead). That
happens once per customer account. A second request is declined politely, and
declining is an ordinary outcome: it is returned as a ``GraceDecision`` and
announced (``billing.grace_refused.v1``) so the desk can answer the customer,
not raised as an error. Only the owner may grant a further grace, and only with
a note saying why.

Requests that make no sense (the account is not suspended, it was suspended
for something other than non-payment, the date is out of range, an override
without a note or by someone other than the owner) are errors: nothing is
granted or refused, and the message says what to fix.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing.accounts import (
    BillingError,
    announce,
    customer_day,
    note,
    subscription_ref,
)
from services.billing.catalog import get_subscription
from services.billing.models import Grace, Invoice, Subscription
from shared import clock

DEFAULT_GRACE_MAX_DAYS = 15


def reactivate(
    session: Session,
    subscription: Subscription,
    *,
    cause: str,
    message: str,
    pay_by: date | None = None,
) -> None:
    """Make a suspended subscription active again, say why, and announce it."""
    subscription.status = "active"
    subscription.suspension_reason = None
    subscription.suspended_at = None
    session.flush()
    note(session, subscription.customer_id, "account_reactivated", message)
    announce(
        session,
        "billing.account_reactivated.v1",
        {**subscription_ref(subscription), "cause": cause, "pay_by": pay_by},
    )


@dataclass(frozen=True)
class GraceRequest:
    subscription_id: int
    pay_by: date
    requested_by: str
    """The staff member's email."""
    by_owner: bool = False
    owner_override: bool = False
    note: str | None = None


@dataclass(frozen=True)
class GraceDecision:
    granted: bool
    message: str
    """What to tell the customer, in staff's words."""
    grace: Grace | None = None
    first_grace_on: date | None = None
    moved_invoice_ids: tuple[int, ...] = ()


def request_grace(
    session: Session,
    request: GraceRequest,
    *,
    today: date | None = None,
    now: datetime | None = None,
    grace_max_days: int = DEFAULT_GRACE_MAX_DAYS,
) -> GraceDecision:
    now = now or clock.now()
    subscription = get_subscription(session, request.subscription_id)
    today = today or _customer_today(subscription)
    _validate(subscription, request, today, grace_max_days)
    first = _first_grace(session, subscription.customer_id)
    if first is not None and not request.owner_override:
        return _refuse(session, subscription, first)
    return _grant(session, subscription, request, first, today, now)


def _customer_today(subscription: Subscription) -> date:
    # The customer's pay-by date is a day on their calendar, not on UTC's.
    return customer_day(subscription.customer.timezone, clock.now())


def _validate(
    subscription: Subscription, request: GraceRequest, today: date, grace_max_days: int
) -> None:
    if subscription.status != "suspended":
        raise BillingError(
            f"Subscription {subscription.id} is {subscription.status}, not suspended: "
            "there is nothing to reactivate."
        )
    if subscription.suspension_reason != "non_payment":
        raise BillingError(
            f"Subscription {subscription.id} was suspended for "
            f"{subscription.suspension_reason}; a grace only lifts a suspension for non-payment."
        )
    if request.pay_by < today:
        raise BillingError(f"The pay-by date {request.pay_by} is in the past.")
    latest = today + timedelta(days=grace_max_days)
    if request.pay_by > latest:
        raise BillingError(
            f"The pay-by date may be at most {grace_max_days} days ahead (by {latest})."
        )
    if request.owner_override:
        if not request.by_owner:
            raise BillingError("Only the owner can override the one-grace rule.")
        if not (request.note or "").strip():
            raise BillingError("An override needs a note saying why.")


def _first_grace(session: Session, customer_id: int) -> Grace | None:
    return session.execute(
        select(Grace).where(Grace.customer_id == customer_id).order_by(Grace.id).limit(1)
    ).scalar_one_or_none()


def _refuse(session: Session, subscription: Subscription, first: Grace) -> GraceDecision:
    first_on = customer_day(subscription.customer.timezone, first.granted_at)
    reason = (
        f"This account already had its one grace on {first_on} (pay by {first.pay_by}); "
        "a second reactivation before payment is declined. Paying the open invoice "
        "reactivates the account at once."
    )
    note(session, subscription.customer_id, "grace_refused", f"Grace declined. {reason}")
    announce(
        session,
        "billing.grace_refused.v1",
        {**subscription_ref(subscription), "reason": reason, "first_grace_on": first_on},
    )
    return GraceDecision(granted=False, message=reason, first_grace_on=first_on)


def _grant(
    session: Session,
    subscription: Subscription,
    request: GraceRequest,
    first: Grace | None,
    today: date,
    now: datetime,
) -> GraceDecision:
    grace = Grace(
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        pay_by=request.pay_by,
        granted_at=now,
        requested_by=request.requested_by,
        owner_override=request.owner_override,
        note=(request.note or "").strip() or None,
    )
    session.add(grace)
    moved = _move_overdue(session, subscription, request.pay_by, today)
    why = (
        f"the owner overrode the one-grace rule ({grace.note})"
        if first is not None
        else "the account's one grace, asked for by the customer"
    )
    reactivate(
        session,
        subscription,
        cause="grace",
        pay_by=request.pay_by,
        message=f"Reactivated {subscription.plan.name} until {request.pay_by}: {why}; "
        f"requested by {request.requested_by}.",
    )
    return GraceDecision(
        granted=True,
        message=f"Reactivated; the customer promised to pay by {request.pay_by}.",
        grace=grace,
        first_grace_on=(
            customer_day(subscription.customer.timezone, first.granted_at) if first else None
        ),
        moved_invoice_ids=tuple(invoice.id for invoice in moved),
    )


def _move_overdue(
    session: Session, subscription: Subscription, pay_by: date, today: date
) -> list[Invoice]:
    """The subscription's overdue invoices are now due on the date the customer promised."""
    invoices = list(
        session.execute(
            select(Invoice).where(
                Invoice.subscription_id == subscription.id,
                Invoice.status == "issued",
                Invoice.due_date < today,
            )
        ).scalars()
    )
    for invoice in invoices:
        note(
            session,
            subscription.customer_id,
            "due_date_moved",
            f"Invoice #{invoice.number} now due on {pay_by} (was {invoice.due_date}), "
            "the date the customer chose.",
        )
        invoice.due_date = pay_by
    return invoices
