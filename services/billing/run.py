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
transaction, so a run over a hundred thousand subscriptions streams. The
renewals of a batch are made together: what the checks and the credit need is
read once per batch, the invoice numbers are taken as one block, and the
batch's events are written to the outbox in one statement before it commits.
"""

from __future__ import annotations

import gc
import json
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import Select, Table, func, or_, select
from sqlalchemy.orm import Session, joinedload, selectinload

from services.billing.accounts import (
    PRODUCER,
    BillingError,
    NotFound,
    invoice_ref,
    issued_ref,
    next_in_sequence,
    reserve_in_sequence,
    subscription_ref,
)
from services.billing.catalog import period_after
from services.billing.changes import INVOICE_SEQUENCE
from services.billing.checks import CREDIT_LINE, check_invoice, deliverable_address
from services.billing.documents import period_description
from services.billing.drafts import DraftLine, InvoiceFacts, RenewalDraft
from services.billing.models import (
    Base,
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
from shared import clock
from shared.bus.outbox import new_event, write_events
from shared.business_hours import BusinessCalendar
from shared.db import Database, insert_rows, reserve_ids
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
    events: list[Envelope] = field(default_factory=list)
    notes: list[dict[str, Any]] = field(default_factory=list)
    """Events announced and timeline entries noted in the current transaction: ``write``
    adds them in one statement each before it commits."""

    def count(self, action: str) -> None:
        self.report.counts[action] += 1

    def note(self, customer_id: int, kind: str, message: str) -> None:
        self.notes.append(
            {
                "customer_id": customer_id,
                "kind": kind,
                "message": message,
                "automatic": True,
                "at": self.now,
            }
        )

    def local_date(self, moment: datetime) -> date:
        return _as_utc(moment).astimezone(self.calendar.zone).date()

    def write(self, session: Session) -> None:
        insert_rows(session, _table(TimelineEntry), self.notes)
        self.notes.clear()
        write_events(session, self.events)
        self.events.clear()


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
    now = _as_utc(now or clock.now())
    report = RunReport()
    with _fewer_collections():
        for today in days_to_run(database, on):
            day = Day(today, now, policy, calendar, report)
            _run_day(database, day, batch_size)
            with database.transaction() as session:
                session.merge(BillingRun(run_date=today, completed_at=now))
            report.dates.append(today)
            log.info("billing.day_completed", day=str(today))
    return report


@contextmanager
def _fewer_collections() -> Iterator[None]:
    """Let the garbage collector run less often during the run.

    A batch allocates hundreds of thousands of short-lived objects, most freed
    when it commits; at the default threshold the collector scans the young
    generation every 700 allocations, which cost a sixth of a large run's time.
    Memory stays bounded by the batch size either way.
    """
    previous = gc.get_threshold()
    gc.set_threshold(50_000, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


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
    now = _as_utc(now or clock.now())
    day = Day(
        now.astimezone(calendar.zone).date(), now, policy or BillingPolicy(), calendar, RunReport()
    )
    if void:
        invoice.status = "void"
        day.note(
            invoice.customer_id,
            "invoice_voided",
            f"{reviewer} voided the held {_describe(invoice)}.",
        )
        return invoice
    plan = invoice.subscription.plan if invoice.subscription else None
    _check_and_issue(session, day, invoice, plan)
    day.write(session)
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
    _in_batches(database, day, _ending_periods(day), batch_size, _each(_roll_over))
    _in_batches(database, day, _renewals_due(day), batch_size, _renew)
    _in_batches(database, day, _open_invoices(day), batch_size, _each(_follow_up))
    if day.policy.terminate_after_days is not None:
        _in_batches(database, day, _suspended_for_non_payment(), batch_size, _each(_terminate))
    _in_batches(database, day, _undelivered(day), batch_size, _each(_alert_undelivered))


Row = TypeVar("Row", Subscription, Invoice)
BatchHandler = Callable[[Session, Day, list[Row]], None]


def _each(handle: Callable[[Session, Day, Row], None]) -> BatchHandler[Row]:
    """A batch handler that handles the rows one by one."""

    def handle_batch(session: Session, day: Day, rows: list[Row]) -> None:
        for row in rows:
            handle(session, day, row)

    return handle_batch


def _in_batches(
    database: Database, day: Day, query: Select[Row], size: int, handle: BatchHandler[Row]
) -> None:
    """Handle the rows of ``query``, at most ``size`` rows per transaction, in id order.

    Each batch is read after the previous one committed, starting past its
    last id, so rows a batch changed are never read twice and memory holds
    one batch at a time.

    On SQLite each read also stops ``SPAN_PER_ROW * size`` ids further on:
    for a filter on two statuses SQLite gathers and sorts every matching row
    past the last id for each batch, which makes a large run quadratic.
    PostgreSQL walks the primary key and stops at the limit by itself, and
    the bound only makes its plans worse.
    """
    entity = query.column_descriptions[0]["entity"]
    span = None if database.is_postgres else SPAN_PER_ROW * size
    last_id = 0
    highest = _highest_id(database, entity)
    while last_id < highest:
        bounded = query.where(entity.id > last_id)
        if span is not None:
            bounded = bounded.where(entity.id <= last_id + span)
        with database.transaction() as session:
            rows = list(session.execute(bounded.order_by(entity.id).limit(size)).scalars())
            handle(session, day, rows)
            day.write(session)
        if len(rows) == size:
            last_id = rows[-1].id
        elif span is not None:
            last_id += span
        else:
            return
        if last_id >= highest:
            highest = _highest_id(database, entity)  # rows this step added, e.g. late fees


SPAN_PER_ROW = 8


def _highest_id(database: Database, entity: Any) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.coalesce(func.max(entity.id), 0))).scalar_one())


# -- 1. periods -----------------------------------------------------------------------


def _subscriptions(*, with_contacts: bool = True) -> Select[Subscription]:
    # Each subscription has one customer and one plan: joined into the batch's own query.
    customers = joinedload(Subscription.customer, innerjoin=True)
    return select(Subscription).options(
        customers.selectinload(Customer.contacts) if with_contacts else customers,
        joinedload(Subscription.plan, innerjoin=True),
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
    # Contacts are read only for a customer whose own email is not deliverable (rare).
    return _subscriptions(with_contacts=False).where(
        Subscription.status.in_(RENEWABLE),
        Subscription.cancel_at_period_end.is_(False),
        Subscription.current_period_end <= horizon,
        ~invoiced,
    )


def _renew(session: Session, day: Day, subscriptions: list[Subscription]) -> None:
    """Renewal invoices for a batch of subscriptions, written a statement per table.

    The invoices are drafted, credited, checked and numbered in memory, then
    inserted for the whole batch at once and announced (see ``drafts.py``).
    """
    if not subscriptions:
        return
    credit = _credit_balances(session, {s.customer_id for s in subscriptions})
    overlapping = _renewals_overlapping(session, subscriptions)
    drafts = [_renewal_draft(day, subscription) for subscription in subscriptions]
    applied = [_take_credit(day, draft, credit) for draft in drafts]
    verdicts = [
        check_invoice(draft, draft.subscription.plan, overlapping[draft.subscription_id])
        for draft in drafts
    ]
    numbers = iter(reserve_in_sequence(session, INVOICE_SEQUENCE, verdicts.count([])))
    for draft, reasons in zip(drafts, verdicts, strict=True):
        if reasons:
            _mark_held(draft, reasons)
        else:
            _mark_issued(day, draft, next(numbers))
    _insert_drafts(session, drafts)
    credit_entries = [
        _credit_entry(day, draft, amount) for draft, amount in zip(drafts, applied, strict=True)
    ]
    insert_rows(session, _table(CreditEntry), [entry for entry in credit_entries if entry])
    for draft, reasons in zip(drafts, verdicts, strict=True):
        if reasons:
            _announce_held(session, day, draft, reasons)
        else:
            _announce_issued(session, day, draft)


def _renewal_draft(day: Day, subscription: Subscription) -> RenewalDraft:
    plan = subscription.plan
    start = subscription.current_period_end
    end = period_after(start, plan.cycle)
    description = period_description(plan.name, start, end, subscription.customer.language)
    return RenewalDraft(
        customer=subscription.customer,
        subscription=subscription,
        period_start=start,
        period_end=end,
        due_date=start,
        currency=plan.currency,
        total_minor=plan.price_minor,
        created_at=day.now,
        lines=[DraftLine(description, 1, plan.price_minor, plan.price_minor)],
    )


def _insert_drafts(session: Session, drafts: list[RenewalDraft]) -> None:
    """Insert drafted invoices and their lines; each draft gets its id.

    The ids are reserved first, so both inserts are plain multi-row inserts
    without RETURNING, which the drivers send fastest.
    """
    for draft, invoice_id in zip(
        drafts, reserve_ids(session, Invoice.__tablename__, len(drafts)), strict=True
    ):
        draft.id = invoice_id
    insert_rows(session, _table(Invoice), [draft.row() for draft in drafts])
    lines = [row for draft in drafts for row in draft.line_rows()]
    insert_rows(session, _table(InvoiceLine), lines)


def _credit_balances(session: Session, customer_ids: set[int]) -> dict[tuple[int, str], int]:
    """Each of these customers' credit, by (customer, currency); only the non-zero ones."""
    rows = session.execute(
        select(CreditEntry.customer_id, CreditEntry.currency, func.sum(CreditEntry.amount_minor))
        .where(CreditEntry.customer_id.in_(customer_ids))
        .group_by(CreditEntry.customer_id, CreditEntry.currency)
    )
    return {(customer, currency): int(total) for customer, currency, total in rows if total}


def _renewals_overlapping(
    session: Session, subscriptions: list[Subscription]
) -> defaultdict[int, list[Invoice]]:
    """The subscriptions' live renewal invoices that end after their current period does.

    The next period starts where the current one ends, so these are the only
    invoices its renewal can overlap: what the duplicate check compares it with.
    (The query filters by the subscription id alone, with the batch's earliest
    period end as a bound, so it is answered from the invoices' unique index.)
    """
    current_end = {s.id: s.current_period_end for s in subscriptions}
    found: defaultdict[int, list[Invoice]] = defaultdict(list)
    invoices = session.execute(
        select(Invoice).where(
            Invoice.subscription_id.in_(current_end),
            Invoice.kind == "renewal",
            Invoice.status != "void",
            or_(
                Invoice.period_end.is_(None),
                Invoice.period_end > min(current_end.values()),
            ),
        )
    ).scalars()
    for invoice in invoices:
        assert invoice.subscription_id is not None
        end = invoice.period_end
        if end is None or end > current_end[invoice.subscription_id]:
            found[invoice.subscription_id].append(invoice)
    return found


def _take_credit(day: Day, draft: RenewalDraft, credit: dict[tuple[int, str], int]) -> int:
    """Put the customer's credit (in the invoice's currency) towards the draft; the amount.

    ``credit`` is the batch's view of the balances, lowered as it is taken, so
    a customer with two renewals in one batch does not spend the same credit twice.
    """
    key = (draft.customer_id, draft.currency)
    applied = min(credit.get(key, 0), draft.total_minor)
    if applied <= 0:
        return 0
    credit[key] -= applied
    draft.lines.append(DraftLine(CREDIT_LINE, 1, -applied, -applied))
    draft.total_minor -= applied
    day.count("credit_applied")
    return applied


def _credit_entry(day: Day, draft: RenewalDraft, applied: int) -> dict[str, Any] | None:
    """The credit ledger's entry for credit a written draft took; None if it took none."""
    if not applied:
        return None
    return {
        "customer_id": draft.customer_id,
        "amount_minor": -applied,
        "currency": draft.currency,
        "reason": f"Applied to the invoice for {draft.period_start} to {draft.period_end}",
        "invoice_id": draft.id,
        "payment_id": None,
        "created_at": day.now,
    }


def _check_and_issue(session: Session, day: Day, invoice: Invoice, plan: Plan | None) -> None:
    """Check one invoice already in the session, then hold or issue it."""
    others: Iterable[Invoice] = ()
    if invoice.subscription_id is not None:
        others = session.execute(
            select(Invoice).where(
                Invoice.subscription_id == invoice.subscription_id, Invoice.id != invoice.id
            )
        ).scalars()
    reasons = check_invoice(invoice, plan, others)
    if reasons:
        _mark_held(invoice, reasons)
        _announce_held(session, day, invoice, reasons)
    else:
        _mark_issued(day, invoice, next_in_sequence(session, INVOICE_SEQUENCE))
        _announce_issued(session, day, invoice)


def _mark_held(invoice: Invoice | RenewalDraft, reasons: list[str]) -> None:
    invoice.status = "held"
    invoice.hold_reasons = json.dumps(reasons)


def _announce_held(
    session: Session, day: Day, invoice: Invoice | RenewalDraft, reasons: list[str]
) -> None:
    day.count("invoices_held")
    day.note(
        invoice.customer_id,
        "invoice_held",
        f"Held for review, not sent: {_describe(invoice)} failed its checks. " + " ".join(reasons),
    )
    payload = {**invoice_ref(invoice), "reasons": reasons}
    _announce(session, day, invoice.customer, "billing.invoice_held.v1", payload)


def _mark_issued(day: Day, invoice: Invoice | RenewalDraft, number: int) -> None:
    """Make ``invoice`` number ``number``, taken from the gapless sequence in this transaction.

    Credit may cover it all: then nothing is owed, and it is paid as it is
    issued, so nothing will be reminded or suspended.
    """
    invoice.number = number
    invoice.status = "paid" if invoice.total_minor == 0 else "issued"
    invoice.hold_reasons = None
    invoice.issued_at = day.now
    invoice.issued_event_id = str(uuid.uuid4())
    if invoice.total_minor == 0:
        invoice.paid_at = day.now


def _announce_issued(session: Session, day: Day, invoice: Invoice | RenewalDraft) -> None:
    """The events and timeline entries of an issued invoice (which has its id by now)."""
    _announce(
        session,
        day,
        invoice.customer,
        "billing.invoice_issued.v1",
        issued_ref(invoice),
        event_id=invoice.issued_event_id,
    )
    day.count("invoices_issued")
    day.note(
        invoice.customer_id,
        "invoice_issued",
        f"Issued invoice #{invoice.number}: {_describe(invoice)}, "
        f"{format_money(invoice.total_minor, invoice.currency)}, due {invoice.due_date}.",
    )
    if invoice.status == "paid":
        day.note(
            invoice.customer_id,
            "invoice_paid",
            f"Invoice #{invoice.number} is paid in full by the customer's credit.",
        )
        _announce(session, day, invoice.customer, "billing.invoice_paid.v1", invoice_ref(invoice))


# -- 3. reminders, overdue notices, late fees, warnings and suspensions -----------------


def _open_invoices(day: Day) -> Select[Invoice]:
    """Issued invoices that may need a notice, a fee, a warning or a suspension today.

    An invoice issued today gets no reminder (it just went out), so it is read
    only when its due date is already near enough for another step to act: a
    renewal day's fresh invoices are not read again.
    """
    horizon = day.today + timedelta(days=max(day.policy.reminder_days, default=0))
    start_of_today = datetime.combine(day.today, time(0), day.calendar.zone)
    return (
        select(Invoice)
        .options(
            selectinload(Invoice.customer).selectinload(Customer.contacts),
            selectinload(Invoice.subscription).selectinload(Subscription.plan),
        )
        .where(
            Invoice.status == "issued",
            Invoice.due_date <= horizon,
            or_(
                Invoice.issued_at.is_(None),
                Invoice.issued_at < start_of_today,
                Invoice.due_date <= _latest_due_date_acted_on(day),
            ),
        )
    )


def _latest_due_date_acted_on(day: Day) -> date:
    """The latest due date for which an overdue notice, a late fee, a suspension warning or
    a suspension can fall today (reminders aside)."""
    policy, calendar = day.policy, day.calendar
    candidates = []
    if policy.overdue_notice_days:
        candidates.append(day.today - timedelta(days=min(policy.overdue_notice_days)))
    if policy.late_fee_enabled:
        candidates.append(day.today - timedelta(days=policy.late_fee_after_days))
    # The warning day moves forward with the due date: walk down to the last one due by today.
    due = day.today + timedelta(days=7 * (policy.warning_business_days + 1))
    while warning_day(suspension_day(due, policy, calendar), policy, calendar) > day.today:
        due -= timedelta(days=1)
    candidates.append(due)
    return max(candidates)


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
    session: Session,
    day: Day,
    customer: Customer,
    event_type: str,
    payload: dict[str, Any],
    *,
    event_id: str | None = None,
) -> Envelope:
    """Record an event addressed to where the customer's invoices go.

    A customer with no valid address is still announced (the desk and the
    other services need to know), without an address; their invoices are held
    by the checks, and the timeline says no message can reach them.
    """
    address = deliverable_address(customer)
    if address is None:
        day.note(
            customer.id,
            "no_address",
            f"{event_type} was announced without an address: the customer has no valid email.",
        )
    envelope = new_event(PRODUCER, event_type, {**payload, "email": address}, event_id=event_id)
    day.events.append(envelope)
    return envelope


def _describe(invoice: InvoiceFacts) -> str:
    if invoice.kind == "renewal" and invoice.subscription is not None:
        return (
            f"the renewal of {invoice.subscription.plan.name} for {invoice.period_start} to "
            f"{invoice.period_end}"
        )
    return invoice.lines[0].description if invoice.lines else f"the {invoice.kind} invoice"


def _table(model: type[Base]) -> Table:
    return model.metadata.tables[model.__tablename__]


def _as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive value (SQLite gives stored times back naive) is taken as UTC."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
