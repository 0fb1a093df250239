"""P-RIGHT-SIZE plan changes, prorated by day, and cancellations.

Plan changes take effect today and are prorated over the days left in the
current period (``current_period_end - today`` of ``current_period_end -
current_period_start``), in integer minor units rounded half up:

- an upgrade is invoiced at once for the price difference over the remaining
  days: an invoice of kind ``proration``, numbered from the same gapless
  sequence as every other invoice, due ``PRORATION_DUE_DAYS`` later;
- a downgrade leaves the unused difference as credit on the customer's ledger,
  which the daily run applies to the next invoice.

Both plans must have the same billing cycle: a change of cycle (monthly to
yearly) is a renewal question, not a proration one, and is refused with a
message saying so.

A cancellation takes effect at the end of the period (the default) or at once,
and always records the customer's reason. A suspended subscription can only be
cancelled at once: letting it run to the period's end would restore a service
suspended for a reason. Either way
``billing.subscription_cancelled.v1`` is announced when the request is made,
with ``effective_on`` and ``at_period_end``, so the customer gets a
confirmation of what they asked for and when it takes effect; the daily run
performs the end-of-period cancellation when the day comes. Invoicing stops:
unpaid invoices for periods that start on or after the effective day are
voided (anything already paid on them becomes credit).
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
    issued_ref,
    next_in_sequence,
    note,
    subscription_ref,
)
from services.billing.catalog import get_plan, get_subscription
from services.billing.checks import check_invoice
from services.billing.models import CreditEntry, Invoice, InvoiceLine, Plan, Subscription
from services.billing.payments import format_money
from shared import clock

INVOICE_SEQUENCE = "invoice"
"""The gapless sequence every issued invoice takes its number from."""
PRORATION_DUE_DAYS = 7
CHANGEABLE_STATUSES = ("active",)
CANCELLABLE_STATUSES = ("active", "suspended", "pending_cancellation")


def subscription_day(subscription: Subscription, now: datetime) -> date:
    """The date on the subscription's customer's own calendar."""
    return customer_day(subscription.customer.timezone, now)


def prorate(difference_minor: int, remaining_days: int, period_days: int) -> int:
    """``difference * remaining / period`` rounded half up, for a non-negative difference."""
    if difference_minor < 0 or not 0 <= remaining_days <= period_days or period_days <= 0:
        raise ValueError("prorate a non-negative difference over days inside the period")
    return (2 * difference_minor * remaining_days + period_days) // (2 * period_days)


@dataclass(frozen=True)
class PlanChange:
    direction: str
    """``upgrade``, ``downgrade`` or ``same_price``."""
    amount_minor: int
    """Invoiced (upgrade) or credited (downgrade) for the rest of the period."""
    remaining_days: int
    period_days: int
    invoice: Invoice | None = None
    credit: CreditEntry | None = None


def change_plan(
    session: Session,
    subscription_id: int,
    new_plan_id: int,
    *,
    requested_by: str,
    today: date | None = None,
    now: datetime | None = None,
) -> PlanChange:
    now = now or clock.now()
    subscription = get_subscription(session, subscription_id)
    today = today or subscription_day(subscription, now)
    old, new = subscription.plan, get_plan(session, new_plan_id)
    _check_change(subscription, old, new, today)
    period_days = (subscription.current_period_end - subscription.current_period_start).days
    remaining_days = (subscription.current_period_end - today).days
    amount = prorate(abs(new.price_minor - old.price_minor), remaining_days, period_days)
    subscription.plan_id = new.id
    subscription.plan = new
    session.flush()
    summary = (
        f"Plan changed from {old.name} to {new.name} by {requested_by}, "
        f"{remaining_days} of {period_days} days left in the period"
    )
    if new.price_minor > old.price_minor and amount > 0:
        invoice = _issue_proration(session, subscription, old, new, amount, today, now)
        note(
            session,
            subscription.customer_id,
            "plan_upgraded",
            f"{summary}: invoice #{invoice.number} for "
            f"{format_money(amount, new.currency)}, the difference for those days.",
            automatic=False,
        )
        return PlanChange("upgrade", amount, remaining_days, period_days, invoice=invoice)
    if new.price_minor < old.price_minor and amount > 0:
        credit = _credit_downgrade(session, subscription, old, new, amount, remaining_days)
        note(
            session,
            subscription.customer_id,
            "plan_downgraded",
            f"{summary}: {format_money(amount, new.currency)} of unused difference "
            "became credit for the next invoice.",
            automatic=False,
        )
        return PlanChange("downgrade", amount, remaining_days, period_days, credit=credit)
    note(session, subscription.customer_id, "plan_changed", f"{summary}.", automatic=False)
    return PlanChange("same_price", 0, remaining_days, period_days)


def _check_change(subscription: Subscription, old: Plan, new: Plan, today: date) -> None:
    if subscription.status not in CHANGEABLE_STATUSES:
        raise BillingError(
            f"Subscription {subscription.id} is {subscription.status}; only an active "
            "subscription can change plan."
        )
    if new.id == old.id:
        raise BillingError(f"Subscription {subscription.id} is already on {old.name}.")
    if not new.active:
        raise BillingError(f"Plan {new.name} is no longer sold.")
    if new.currency != old.currency:
        raise BillingError(
            f"Plan {new.name} is priced in {new.currency}; this subscription is billed in "
            f"{old.currency}."
        )
    if new.cycle != old.cycle:
        raise BillingError(
            f"Plan {new.name} is billed {new.cycle} and {old.name} {old.cycle}: choose a "
            f"{old.cycle} plan, or change the cycle at renewal."
        )
    if not subscription.current_period_start <= today < subscription.current_period_end:
        raise BillingError(
            f"{today} is outside the current period ({subscription.current_period_start} to "
            f"{subscription.current_period_end})."
        )


def _issue_proration(
    session: Session,
    subscription: Subscription,
    old: Plan,
    new: Plan,
    amount: int,
    today: date,
    now: datetime,
) -> Invoice:
    if _proration_exists(session, subscription.id, today):
        raise BillingError(
            f"Subscription {subscription.id} was already upgraded today; change it again "
            "tomorrow or adjust the proration invoice with staff."
        )
    description = (
        f"Upgrade from {old.name} to {new.name}, {today} to {subscription.current_period_end}"
    )
    invoice = Invoice(
        number=next_in_sequence(session, INVOICE_SEQUENCE),
        kind="proration",
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        period_start=today,
        period_end=subscription.current_period_end,
        currency=new.currency,
        total_minor=amount,
        paid_minor=0,
        status="issued",
        due_date=today + timedelta(days=PRORATION_DUE_DAYS),
        created_at=now,
        issued_at=now,
        lines=[
            InvoiceLine(description=description, quantity=1, unit_minor=amount, amount_minor=amount)
        ],
    )
    session.add(invoice)
    session.flush()
    # P-INVOICE: checked like every invoice before it goes out. A failure refuses the
    # change (the caller's transaction rolls back, the number goes back unused).
    others = session.execute(
        select(Invoice).where(Invoice.subscription_id == subscription.id, Invoice.id != invoice.id)
    ).scalars()
    reasons = check_invoice(invoice, None, others)
    if reasons:
        raise BillingError("The proration invoice would fail its checks: " + " ".join(reasons))
    # Kept so the delivery watch can match notify's confirmation to this invoice.
    invoice.issued_event_id = announce(
        session, "billing.invoice_issued.v1", issued_ref(invoice)
    ).event_id
    return invoice


def _proration_exists(session: Session, subscription_id: int, day: date) -> bool:
    # One proration invoice per subscription and day: the table's period key says so.
    return (
        session.execute(
            select(Invoice.id).where(
                Invoice.subscription_id == subscription_id,
                Invoice.kind == "proration",
                Invoice.period_start == day,
            )
        ).first()
        is not None
    )


def _credit_downgrade(
    session: Session,
    subscription: Subscription,
    old: Plan,
    new: Plan,
    amount: int,
    remaining_days: int,
) -> CreditEntry:
    credit = CreditEntry(
        customer_id=subscription.customer_id,
        amount_minor=amount,
        currency=new.currency,
        reason=f"Downgrade from {old.name} to {new.name}: {remaining_days} unused days",
    )
    session.add(credit)
    session.flush()
    return credit


@dataclass(frozen=True)
class Cancellation:
    subscription: Subscription
    effective_on: date
    at_period_end: bool
    voided_invoice_ids: tuple[int, ...]


def cancel_subscription(
    session: Session,
    subscription_id: int,
    reason: str,
    *,
    requested_by: str,
    at_period_end: bool = True,
    now: datetime | None = None,
) -> Cancellation:
    now = now or clock.now()
    reason = reason.strip()
    if not reason:
        raise BillingError("Record the customer's reason for cancelling.")
    subscription = get_subscription(session, subscription_id)
    if subscription.status not in CANCELLABLE_STATUSES:
        raise BillingError(f"Subscription {subscription.id} is already {subscription.status}.")
    if at_period_end and subscription.status == "pending_cancellation":
        raise BillingError(
            f"Subscription {subscription.id} is already set to end on "
            f"{subscription.current_period_end}; cancel it at once to end it sooner."
        )
    if at_period_end and subscription.status == "suspended":
        # Waiting for the period's end would hand a suspended service back until then.
        raise BillingError(
            f"Subscription {subscription.id} is suspended: cancel it at once, or settle the "
            "account first to let it run to the end of the period."
        )
    subscription.cancellation_reason = reason
    if at_period_end:
        effective_on = subscription.current_period_end
        subscription.status = "pending_cancellation"
        subscription.cancel_at_period_end = True
        what = f"will end on {effective_on}, at the end of the period"
    else:
        effective_on = subscription_day(subscription, now)
        subscription.status = "cancelled"
        subscription.cancel_at_period_end = False
        subscription.cancelled_at = now
        what = "is cancelled as of today"
    voided = _stop_invoicing(session, subscription, effective_on)
    note(
        session,
        subscription.customer_id,
        "subscription_cancelled",
        f"{subscription.plan.name} {what}, requested by {requested_by}. Reason: {reason}",
        automatic=False,
    )
    announce(
        session,
        "billing.subscription_cancelled.v1",
        {
            **subscription_ref(subscription),
            "effective_on": effective_on,
            "at_period_end": at_period_end,
            "reason": reason,
        },
    )
    return Cancellation(subscription, effective_on, at_period_end, voided)


def _stop_invoicing(
    session: Session, subscription: Subscription, effective_on: date
) -> tuple[int, ...]:
    """Void unpaid invoices for periods the customer will no longer have."""
    invoices = session.execute(
        select(Invoice).where(
            Invoice.subscription_id == subscription.id,
            Invoice.status.in_(("held", "issued")),
            Invoice.period_start >= effective_on,
        )
    ).scalars()
    voided = []
    for invoice in invoices:
        invoice.status = "void"
        voided.append(invoice.id)
        message = f"Invoice #{invoice.number or invoice.id} voided: the subscription ends first."
        if invoice.paid_minor > 0:
            # What was already paid for a period that will not happen is the customer's.
            session.add(
                CreditEntry(
                    customer_id=invoice.customer_id,
                    amount_minor=invoice.paid_minor,
                    currency=invoice.currency,
                    reason=f"Paid towards voided invoice #{invoice.number}",
                    invoice_id=invoice.id,
                )
            )
            message += f" {format_money(invoice.paid_minor, invoice.currency)} became credit."
        note(session, subscription.customer_id, "invoice_voided", message)
    return tuple(voided)
