"""The daily billing run: renewals, checks, notices, suspensions and the delivery watch.

``run_billing(database, on)`` does one company-local day's billing, and every
day missed since the last completed run before it, oldest first. A day is
recorded in ``billing_runs`` when it completes. Every step is idempotent on
its own (an invoice per subscription period, a notice per invoice and kind,
a suspension only of an active subscription), so running a day again creates
nothing new; it is safe to run it every half hour, which is what the worker
does. Repeating the day matters for one step: suspensions happen only inside
business hours, so a run outside them leaves the suspension to the next run
inside them.

For each day, in this order:

1. Periods roll over on the day they end; a subscription cancelled at the end
   of its period is cancelled then instead.
2. Renewal invoices are made ``renewal_lead_days`` before the period ends
   (the due date), the customer's credit is applied, and the invoice is
   checked (P-INVOICE, ``checks.py``): a failing invoice is held for staff
   with its reasons, the rest are numbered from the gapless sequence and
   issued.
3. Issued, unpaid invoices get their reminders before the due date and their
   overdue notices after it, once each; optionally a late fee; then a
   suspension warning one business day before the suspension day, and the
   suspension itself, unless the customer has an open billing ticket.
4. Optionally, accounts suspended for non-payment long enough are terminated.
5. The delivery watch alerts staff about invoices notify has not confirmed
   as delivered.

Every automatic action writes a timeline entry saying why it happened.
Subscriptions and invoices are read in batches of ``batch_size`` per
transaction, so a run over a hundred thousand subscriptions streams.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from services.billing.accounts import (
    PRODUCER,
    BillingError,
    NotFound,
    invoice_ref,
    next_in_sequence,
    subscription_ref,
)
from services.billing.catalog import period_after
from services.billing.changes import INVOICE_SEQUENCE
from services.billing.checks import CREDIT_LINE, check_invoice, deliverable_address
from services.billing.documents import period_description
from services.billing.models import (
    BillingRun,
    CreditEntry,
    Customer,
    Invoice,
    InvoiceLine,
    Notice,
    OpenBillingTicket,
    Plan,
    Subscription,
    TimelineEntry,
)
from services.billing.payments import format_money
from services.billing.policy import BillingPolicy
from shared.bus.outbox import record_event
from shared.business_hours import BusinessCalendar
from shared.db import Database
from shared.events import Envelope
from shared.logging import get_logger

log = get_logger(__name__)

BATCH_SIZE = 500
RENEWABLE = ("active", "suspended")
"""A suspended account keeps being invoiced: the debt does not pause with the service."""
LIVE = ("active", "suspended", "pending_cancellation")
SUSPENDABLE = ("active", "pending_cancellation")
NON_PAYMENT = "non_payment"


@dataclass
class RunReport:
    """What a run did, day by day summed up; the counts name the actions."""

    dates: list[date] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)

    def summary(self) -> str:
        if not self.dates:
            return "nothing to run"
        days = (
            str(self.dates[0])
            if len(self.dates) == 1
            else f"{self.dates[0]} to {self.dates[-1]} ({len(self.dates)} days)"
        )
        actions = ", ".join(f"{name}={count}" for name, count in sorted(self.counts.items()))
        return f"{days}: {actions or 'nothing to do'}"


@dataclass(frozen=True)
class Day:
    """One day being billed, with the moment of the run and the rules it obeys."""

    today: date
    now: datetime
    """The moment of the run (UTC); business hours are judged on it, not on ``today``."""
    policy: BillingPolicy
    calendar: BusinessCalendar
    report: RunReport

    def count(self, action: str) -> None:
        self.report.counts[action] += 1

    def note(self, session: Session, customer_id: int, kind: str, message: str) -> None:
        session.add(
            TimelineEntry(
                customer_id=customer_id, kind=kind, message=message, automatic=True, at=self.now
            )
        )

    def local_date(self, moment: datetime) -> date:
        return _as_utc(moment).astimezone(self.calendar.zone).date()


def run_billing(
    database: Database,
    on: date,
    policy: BillingPolicy | None = None,
    calendar: BusinessCalendar | None = None,
    now: datetime | None = None,
    *,
    batch_size: int = BATCH_SIZE,
) -> RunReport:
    """Bill ``on`` (a company-local date) and any day missed before it."""
    policy = policy or BillingPolicy()
    calendar = calendar or BusinessCalendar()
    now = _as_utc(now or datetime.now(UTC))
    report = RunReport()
    for today in days_to_run(database, on):
        day = Day(today, now, policy, calendar, report)
        _run_day(database, day, batch_size)
        with database.transaction() as session:
            session.merge(BillingRun(run_date=today, completed_at=now))
        report.dates.append(today)
        log.info("billing.day_completed", day=str(today))
    return report


def review_held_invoice(
    session: Session,
    invoice_id: int,
    *,
    void: bool,
    reviewer: str,
    policy: BillingPolicy | None = None,
    calendar: BusinessCalendar | None = None,
    now: datetime | None = None,
) -> Invoice:
    """Staff's answer to a held invoice: check it again (issued if it now passes, held
    again with the new reasons if not), or void it."""
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice with id {invoice_id}.")
    if invoice.status != "held":
        raise BillingError(f"Invoice {invoice_id} is {invoice.status}, not held for review.")
    calendar = calendar or BusinessCalendar()
    now = _as_utc(now or datetime.now(UTC))
    day = Day(
        now.astimezone(calendar.zone).date(), now, policy or BillingPolicy(), calendar, RunReport()
    )
    if void:
        invoice.status = "void"
        day.note(
            session,
            invoice.customer_id,
            "invoice_voided",
            f"{reviewer} voided the held {_describe(invoice)}.",
        )
        return invoice
    plan = invoice.subscription.plan if invoice.subscription else None
    _check_and_issue(session, day, invoice, plan)
    return invoice


def days_to_run(database: Database, on: date) -> list[date]:
    """``on`` and the days missed since the last completed run; nothing before that run.

    A fresh install starts on ``on``. A day already completed is run again
    (it creates nothing new, but may perform a suspension that was waiting
    for business hours); a day before the last completed one is history.
    """
    with database.transaction() as session:
        last = session.execute(select(func.max(BillingRun.run_date))).scalar_one_or_none()
    if last is None or on == last:
        return [on]
    if on < last:
        return []
    return [last + timedelta(days=offset) for offset in range(1, (on - last).days + 1)]


def _run_day(database: Database, day: Day, batch_size: int) -> None:
    _in_batches(database, day, _ending_periods(day), batch_size, _roll_over)
    _in_batches(database, day, _renewals_due(day), batch_size, _renew)
    _in_batches(database, day, _open_invoices(day), batch_size, _follow_up)
    if day.policy.terminate_after_days is not None:
        _in_batches(database, day, _suspended_for_non_payment(), batch_size, _terminate)
    _in_batches(database, day, _undelivered(day), batch_size, _alert_undelivered)


Row = TypeVar("Row", Subscription, Invoice)


def _in_batches(
    database: Database,
    day: Day,
    query: Select[Row],
    size: int,
    handle: Callable[[Session, Day, Row], None],
) -> None:
    """Handle each row of ``query``, ``size`` rows per transaction, in id order.

    Each batch is read after the previous one committed, starting past its
    last id, so rows a batch changed are never read twice and memory holds
    one batch at a time.
    """
    entity = query.column_descriptions[0]["entity"]
    last_id = 0
    while True:
        with database.transaction() as session:
            rows = list(
                session.execute(
                    query.where(entity.id > last_id).order_by(entity.id).limit(size)
                ).scalars()
            )
            for row in rows:
                handle(session, day, row)
        if len(rows) < size:
            return
        last_id = rows[-1].id


# -- 1. periods -----------------------------------------------------------------------


def _subscriptions() -> Select[Subscription]:
    return select(Subscription).options(
        selectinload(Subscription.customer).selectinload(Customer.contacts),
        selectinload(Subscription.plan),
    )


def _ending_periods(day: Day) -> Select[Subscription]:
    return _subscriptions().where(
        Subscription.status.in_(LIVE), Subscription.current_period_end <= day.today
    )


def _roll_over(session: Session, day: Day, subscription: Subscription) -> None:
    if subscription.cancel_at_period_end or subscription.status == "pending_cancellation":
        _cancel_at_period_end(session, day, subscription)
        return
    plan = subscription.plan
    while subscription.current_period_end <= day.today:
        subscription.current_period_start = subscription.current_period_end
        subscription.current_period_end = period_after(subscription.current_period_end, plan.cycle)
    day.count("periods_started")
    day.note(
        session,
        subscription.customer_id,
        "period_started",
        f"New {plan.cycle} period of {plan.name}: {subscription.current_period_start} to "
        f"{subscription.current_period_end}.",
    )


def _cancel_at_period_end(session: Session, day: Day, subscription: Subscription) -> None:
    effective_on = subscription.current_period_end
    reason = subscription.cancellation_reason or "no reason recorded"
    subscription.status = "cancelled"
    subscription.cancelled_at = _as_utc(datetime.combine(effective_on, time(0), day.calendar.zone))
    day.count("cancelled")
    day.note(
        session,
        subscription.customer_id,
        "subscription_cancelled",
        f"Cancelled {subscription.plan.name} on {effective_on}: the end of the period, as the "
        f"customer asked. Reason: {reason}",
    )
    _announce(
        session,
        day,
        subscription.customer,
        "billing.subscription_ended.v1",
        {**subscription_ref(subscription), "ended_on": effective_on, "reason": reason},
    )


# -- 2. renewals ----------------------------------------------------------------------


def _renewals_due(day: Day) -> Select[Subscription]:
    invoiced = (
        select(Invoice.id)
        .where(
            Invoice.subscription_id == Subscription.id,
            Invoice.kind == "renewal",
            Invoice.period_start == Subscription.current_period_end,
        )
        .exists()
    )
    horizon = day.today + timedelta(days=day.policy.renewal_lead_days)
    return _subscriptions().where(
        Subscription.status.in_(RENEWABLE),
        Subscription.cancel_at_period_end.is_(False),
        Subscription.current_period_end <= horizon,
        ~invoiced,
    )


def _renew(session: Session, day: Day, subscription: Subscription) -> None:
    plan = subscription.plan
    start = subscription.current_period_end
    end = period_after(start, plan.cycle)
    line = InvoiceLine(
        description=period_description(plan.name, start, end, subscription.customer.language),
        quantity=1,
        unit_minor=plan.price_minor,
        amount_minor=plan.price_minor,
    )
    invoice = Invoice(
        kind="renewal",
        customer=subscription.customer,
        subscription=subscription,
        period_start=start,
        period_end=end,
        currency=plan.currency,
        total_minor=plan.price_minor,
        paid_minor=0,
        status="held",
        due_date=start,
        created_at=day.now,
        lines=[line],
    )
    session.add(invoice)
    session.flush()
    _apply_credit(session, day, invoice)
    _check_and_issue(session, day, invoice, plan)


def _apply_credit(session: Session, day: Day, invoice: Invoice) -> None:
    """Put the customer's credit (in the invoice's currency) towards the invoice."""
    available = session.execute(
        select(func.coalesce(func.sum(CreditEntry.amount_minor), 0)).where(
            CreditEntry.customer_id == invoice.customer_id,
            CreditEntry.currency == invoice.currency,
        )
    ).scalar_one()
    applied = min(int(available), invoice.total_minor)
    if applied <= 0:
        return
    invoice.lines.append(
        InvoiceLine(description=CREDIT_LINE, quantity=1, unit_minor=-applied, amount_minor=-applied)
    )
    invoice.total_minor -= applied
    session.add(
        CreditEntry(
            customer_id=invoice.customer_id,
            amount_minor=-applied,
            currency=invoice.currency,
            reason=f"Applied to the invoice for {invoice.period_start} to {invoice.period_end}",
            invoice_id=invoice.id,
            created_at=day.now,
        )
    )
    session.flush()
    day.count("credit_applied")


def _check_and_issue(session: Session, day: Day, invoice: Invoice, plan: Plan | None) -> None:
    others: Iterable[Invoice] = ()
    if invoice.subscription_id is not None:
        others = session.execute(
            select(Invoice).where(
                Invoice.subscription_id == invoice.subscription_id, Invoice.id != invoice.id
            )
        ).scalars()
    reasons = check_invoice(invoice, plan, others)
    if reasons:
        _hold(session, day, invoice, reasons)
    else:
        _issue(session, day, invoice)


def _hold(session: Session, day: Day, invoice: Invoice, reasons: list[str]) -> None:
    invoice.status = "held"
    invoice.hold_reasons = json.dumps(reasons)
    day.count("invoices_held")
    day.note(
        session,
        invoice.customer_id,
        "invoice_held",
        f"Held for review, not sent: {_describe(invoice)} failed its checks. " + " ".join(reasons),
    )
    payload = {**invoice_ref(invoice), "reasons": reasons}
    _announce(session, day, invoice.customer, "billing.invoice_held.v1", payload)


def _issue(session: Session, day: Day, invoice: Invoice) -> None:
    invoice.number = next_in_sequence(session, INVOICE_SEQUENCE)
    invoice.status = "issued"
    invoice.hold_reasons = None
    invoice.issued_at = day.now
    envelope = _announce(
        session, day, invoice.customer, "billing.invoice_issued.v1", invoice_ref(invoice)
    )
    invoice.issued_event_id = envelope.event_id
    day.count("invoices_issued")
    day.note(
        session,
        invoice.customer_id,
        "invoice_issued",
        f"Issued invoice #{invoice.number}: {_describe(invoice)}, "
        f"{format_money(invoice.total_minor, invoice.currency)}, due {invoice.due_date}.",
    )
    if invoice.total_minor == 0:
        # Credit covered it all: nothing is owed, so nothing may be reminded or suspended.
        invoice.status = "paid"
        invoice.paid_at = day.now
        day.note(
            session,
            invoice.customer_id,
            "invoice_paid",
            f"Invoice #{invoice.number} is paid in full by the customer's credit.",
        )
        _announce(session, day, invoice.customer, "billing.invoice_paid.v1", invoice_ref(invoice))


# -- 3. reminders, overdue notices, late fees, warnings and suspensions -----------------


def _open_invoices(day: Day) -> Select[Invoice]:
    horizon = day.today + timedelta(days=max(day.policy.reminder_days, default=0))
    return (
        select(Invoice)
        .options(
            selectinload(Invoice.customer).selectinload(Customer.contacts),
            selectinload(Invoice.subscription).selectinload(Subscription.plan),
        )
        .where(Invoice.status == "issued", Invoice.due_date <= horizon)
    )


def _follow_up(session: Session, day: Day, invoice: Invoice) -> None:
    if invoice.balance_minor <= 0:
        return
    _remind(session, day, invoice)
    _notify_overdue(session, day, invoice)
    _charge_late_fee(session, day, invoice)
    _warn_or_suspend(session, day, invoice)


def _remind(session: Session, day: Day, invoice: Invoice) -> None:
    days_before = (invoice.due_date - day.today).days
    if days_before < 0:
        return
    if invoice.issued_at is None or day.local_date(invoice.issued_at) >= day.today:
        return  # the invoice itself went out today: a reminder on top would be noise
    passed = [r for r in day.policy.reminder_days if r >= days_before]
    if not passed or not _first_time(session, day, invoice, f"reminder_{min(passed)}"):
        return
    day.count("reminders")
    day.note(
        session,
        invoice.customer_id,
        "reminder_due",
        f"Reminder sent: invoice #{invoice.number} is due on {invoice.due_date}, "
        f"in {days_before} day(s).",
    )
    _announce(
        session,
        day,
        invoice.customer,
        "billing.reminder_due.v1",
        {**invoice_ref(invoice), "days_before_due": days_before},
    )


def _notify_overdue(session: Session, day: Day, invoice: Invoice) -> None:
    days_overdue = (day.today - invoice.due_date).days
    passed = [k for k in day.policy.overdue_notice_days if k <= days_overdue]
    # After missed days only the latest notice goes out: two at once would be noise.
    if not passed or not _first_time(session, day, invoice, f"overdue_{max(passed)}"):
        return
    day.count("overdue_notices")
    day.note(
        session,
        invoice.customer_id,
        "invoice_overdue",
        f"Overdue notice sent: invoice #{invoice.number} was due on {invoice.due_date}, "
        f"{days_overdue} day(s) ago.",
    )
    _announce(
        session,
        day,
        invoice.customer,
        "billing.invoice_overdue.v1",
        {**invoice_ref(invoice), "days_overdue": days_overdue},
    )


def _charge_late_fee(session: Session, day: Day, invoice: Invoice) -> None:
    policy = day.policy
    days_overdue = (day.today - invoice.due_date).days
    if (
        not policy.late_fee_enabled
        or invoice.kind == "late_fee"
        or (invoice.subscription is not None and invoice.subscription.status not in LIVE)
        or days_overdue < policy.late_fee_after_days
        or not _first_time(session, day, invoice, "late_fee")
    ):
        return
    fee = policy.late_fee_for(invoice.total_minor)
    period_start = invoice.period_start or invoice.due_date
    if fee <= 0 or _has_late_fee(session, invoice.subscription_id, period_start):
        return
    description = f"Late fee: invoice #{invoice.number} was due on {invoice.due_date}"
    late_fee = Invoice(
        kind="late_fee",
        customer=invoice.customer,
        subscription=invoice.subscription,
        period_start=period_start,
        period_end=invoice.period_end,
        currency=invoice.currency,
        total_minor=fee,
        paid_minor=0,
        status="held",
        due_date=day.today,
        created_at=day.now,
        lines=[InvoiceLine(description=description, quantity=1, unit_minor=fee, amount_minor=fee)],
    )
    session.add(late_fee)
    session.flush()
    day.count("late_fees")
    day.note(
        session,
        invoice.customer_id,
        "late_fee",
        f"Late fee of {format_money(fee, invoice.currency)} charged: invoice #{invoice.number} is "
        f"{days_overdue} day(s) overdue (due {invoice.due_date}).",
    )
    _check_and_issue(session, day, late_fee, None)


def _has_late_fee(session: Session, subscription_id: int | None, period_start: date) -> bool:
    # The table allows one late-fee invoice per subscription period.
    return (
        session.execute(
            select(Invoice.id).where(
                Invoice.subscription_id == subscription_id,
                Invoice.kind == "late_fee",
                Invoice.period_start == period_start,
            )
        ).first()
        is not None
    )


def suspension_day(due_date: date, policy: BillingPolicy, calendar: BusinessCalendar) -> date:
    """The first business day at least ``suspend_after_days`` after the due date."""
    day = due_date + timedelta(days=policy.suspend_after_days)
    return day if calendar.is_business_day(day) else calendar.next_business_day(day)


def warning_day(suspend_on: date, policy: BillingPolicy, calendar: BusinessCalendar) -> date:
    return calendar.business_days_before(suspend_on, policy.warning_business_days)


def _warn_or_suspend(session: Session, day: Day, invoice: Invoice) -> None:
    subscription = invoice.subscription
    if subscription is None or subscription.status not in SUSPENDABLE:
        return
    suspend_on = suspension_day(invoice.due_date, day.policy, day.calendar)
    if day.today < warning_day(suspend_on, day.policy, day.calendar):
        return
    if _has_open_billing_ticket(session, invoice.customer_id):
        _hold_for_ticket(session, day, invoice, suspend_on)
        return
    if day.policy.warning_business_days and not _warned_before_today(
        session, day, invoice, subscription, suspend_on
    ):
        return
    if day.today < suspend_on:
        return
    if not day.calendar.is_open(day.now):
        # Never outside business hours: a later run today, or the next business day, does it.
        day.count("suspensions_waiting")
        return
    _suspend(session, day, invoice, subscription)


def _warned_before_today(
    session: Session, day: Day, invoice: Invoice, subscription: Subscription, suspend_on: date
) -> bool:
    """Send the warning if it has not gone out; True once it went out on an earlier day.

    The warning is keyed by its suspension day, so a due date moved by a grace
    gets a warning of its own. A warning sent late (after missed days, or once
    a billing ticket closed) announces the next business day, and the
    suspension waits for it: the customer always gets a business day's notice.
    """
    kind = f"suspension_warning_{suspend_on}"
    sent_on = _notice_sent_on(session, invoice.id, kind)
    if sent_on is not None:
        return sent_on < day.today
    _first_time(session, day, invoice, kind)
    announced = max(suspend_on, day.calendar.next_business_day(day.today))
    day.count("warnings")
    day.note(
        session,
        invoice.customer_id,
        "suspension_warning",
        f"Suspension warning sent: invoice #{invoice.number} is unpaid since {invoice.due_date}; "
        f"{subscription.plan.name} will be suspended on {announced} unless it is paid.",
    )
    _announce(
        session,
        day,
        invoice.customer,
        "billing.suspension_warning.v1",
        {**subscription_ref(subscription), "invoice_id": invoice.id, "suspend_on": announced},
    )
    return False


def _hold_for_ticket(session: Session, day: Day, invoice: Invoice, suspend_on: date) -> None:
    day.count("suspensions_held_by_ticket")
    if _first_time(session, day, invoice, f"ticket_hold_{suspend_on}"):
        day.note(
            session,
            invoice.customer_id,
            "suspension_held",
            f"Suspension on hold: invoice #{invoice.number} is overdue (due {invoice.due_date}), "
            "but the customer has an open billing ticket. It resumes when the ticket closes.",
        )


def _has_open_billing_ticket(session: Session, customer_id: int) -> bool:
    query = select(OpenBillingTicket.ticket_id).where(OpenBillingTicket.customer_id == customer_id)
    return session.execute(query.limit(1)).first() is not None


def _suspend(session: Session, day: Day, invoice: Invoice, subscription: Subscription) -> None:
    days_overdue = (day.today - invoice.due_date).days
    subscription.status = "suspended"
    subscription.suspension_reason = NON_PAYMENT
    subscription.suspended_at = day.now
    day.count("suspended")
    day.note(
        session,
        invoice.customer_id,
        "account_suspended",
        f"Suspended {subscription.plan.name}: invoice #{invoice.number} is {days_overdue} days "
        f"overdue (due {invoice.due_date}).",
    )
    _announce(
        session,
        day,
        invoice.customer,
        "billing.account_suspended.v1",
        {**subscription_ref(subscription), "reason": NON_PAYMENT},
    )


# -- 4. termination -------------------------------------------------------------------


def _suspended_for_non_payment() -> Select[Subscription]:
    return _subscriptions().where(
        Subscription.status == "suspended", Subscription.suspension_reason == NON_PAYMENT
    )


def _terminate(session: Session, day: Day, subscription: Subscription) -> None:
    after = day.policy.terminate_after_days
    if after is None or subscription.suspended_at is None:
        return
    since = day.local_date(subscription.suspended_at)
    if (day.today - since).days < after:
        return
    if not day.calendar.is_open(day.now):
        day.count("terminations_waiting")
        return
    subscription.status = "terminated"
    day.count("terminated")
    day.note(
        session,
        subscription.customer_id,
        "account_terminated",
        f"Terminated {subscription.plan.name}: suspended for non-payment since {since}, "
        f"{(day.today - since).days} days ago (the policy terminates after {after}).",
    )
    _announce(
        session,
        day,
        subscription.customer,
        "billing.account_terminated.v1",
        {**subscription_ref(subscription), "suspended_since": since},
    )


# -- 5. the delivery watch ------------------------------------------------------------


def _undelivered(day: Day) -> Select[Invoice]:
    alerted = (
        select(Notice.id)
        .where(Notice.invoice_id == Invoice.id, Notice.kind == "delivery_alert")
        .exists()
    )
    deadline = day.now - timedelta(hours=day.policy.delivery_alert_hours)
    return (
        select(Invoice)
        .options(selectinload(Invoice.customer).selectinload(Customer.contacts))
        .where(
            Invoice.status == "issued",
            # Only an invoice whose issuing event is known can be confirmed by notify.
            Invoice.issued_event_id.is_not(None),
            Invoice.delivered_at.is_(None),
            Invoice.issued_at <= deadline,
            ~alerted,
        )
    )


def _alert_undelivered(session: Session, day: Day, invoice: Invoice) -> None:
    assert invoice.issued_at is not None
    _first_time(session, day, invoice, "delivery_alert")
    hours = day.policy.delivery_alert_hours
    day.count("delivery_alerts")
    day.note(
        session,
        invoice.customer_id,
        "invoice_undelivered",
        f"Staff alert: invoice #{invoice.number} was issued on {day.local_date(invoice.issued_at)} "
        f"and notify has not confirmed its delivery within {hours} hours; check the address "
        "and send it by hand.",
    )
    _announce(
        session,
        day,
        invoice.customer,
        "billing.invoice_undelivered.v1",
        {**invoice_ref(invoice), "issued_at": _as_utc(invoice.issued_at)},
    )


# -- shared helpers -------------------------------------------------------------------


def _first_time(session: Session, day: Day, invoice: Invoice, kind: str) -> bool:
    """Record notice ``kind`` for ``invoice`` unless it exists; True if it is new."""
    if _notice_sent_on(session, invoice.id, kind) is not None:
        return False
    session.add(Notice(invoice_id=invoice.id, kind=kind, sent_on=day.today))
    session.flush()
    return True


def _notice_sent_on(session: Session, invoice_id: int, kind: str) -> date | None:
    return session.execute(
        select(Notice.sent_on).where(Notice.invoice_id == invoice_id, Notice.kind == kind)
    ).scalar_one_or_none()


def _announce(
    session: Session, day: Day, customer: Customer, event_type: str, payload: dict[str, Any]
) -> Envelope:
    """Record an event addressed to where the customer's invoices go.

    A customer with no valid address is still announced (the desk and the
    other services need to know), without an address; their invoices are held
    by the checks, and the timeline says no message can reach them.
    """
    address = deliverable_address(customer)
    if address is None:
        day.note(
            session,
            customer.id,
            "no_address",
            f"{event_type} was announced without an address: the customer has no valid email.",
        )
    return record_event(session, PRODUCER, event_type, {**payload, "email": address})


def _describe(invoice: Invoice) -> str:
    if invoice.kind == "renewal" and invoice.subscription is not None:
        return (
            f"the renewal of {invoice.subscription.plan.name} for {invoice.period_start} to "
            f"{invoice.period_end}"
        )
    return invoice.lines[0].description if invoice.lines else f"the {invoice.kind} invoice"


def _as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive value (SQLite gives stored times back naive) is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
