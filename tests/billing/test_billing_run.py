"""The daily billing run, day by day over months: renewals, notices, suspensions, idempotency."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.billing.models import Contact, CreditEntry, Subscription
from services.billing.policy import BillingPolicy
from services.billing.run import run_billing
from shared.db import Database
from tests.billing.timetravel import (
    AFTERNOON,
    CALENDAR,
    MORNING,
    at,
    completed_days,
    days,
    deliver,
    envelopes,
    hold_reasons,
    invoices,
    migrated_database,
    notify_sent,
    pay,
    payloads,
    run,
    subscribed,
    subscription,
    timeline,
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = migrated_database(f"sqlite:///{tmp_path / 'billing.sqlite3'}")
    yield db
    db.dispose()


def deliver_new_invoices(database: Database, day: date) -> None:
    """Notify confirms every invoice issued today, an hour after it went out."""
    for invoice in invoices(database):
        if invoice.issued_at and invoice.delivered_at is None:
            notify_sent(database, invoice, at(day, time(12)))


def test_a_customer_who_pays_on_time_for_a_year(database: Database) -> None:
    start = date(2026, 1, 5)
    sub_id = subscribed(database, start)
    for day in days(start, date(2027, 1, 5)):
        run(database, day)
        deliver_new_invoices(database, day)
        for invoice in invoices(database, sub_id):
            # The customer pays two days after the invoice arrives, twelve before it is due.
            if invoice.status == "issued" and day == invoice.due_date - timedelta(days=12):
                pay(database, invoice.id, day)

    billed = invoices(database, sub_id)
    due_dates = [date(2026 + (month // 12), month % 12 + 1, 5) for month in range(1, 13)]
    assert [i.due_date for i in billed] == due_dates
    assert [i.number for i in billed] == list(range(1, 13)), "numbered without gaps"
    assert {i.status for i in billed} == {"paid"}
    assert all(i.total_minor == 5000 and i.kind == "renewal" for i in billed)
    assert [(i.period_start, i.period_end) for i in billed] == list(
        zip(due_dates, [*due_dates[1:], date(2027, 2, 5)], strict=True)
    )
    # Each invoice was made the lead days before it was due, at the run's moment.
    assert all(i.created_at.date() == i.due_date - timedelta(days=14) for i in billed)

    issued = payloads(database, "billing.invoice_issued.v1")
    assert [p["invoice_number"] for p in issued] == list(range(1, 13))
    assert [p["due_date"] for p in issued] == due_dates
    assert {p["email"] for p in issued} == {"contas@lojaazul.example"}
    assert [e.event_id for e in envelopes(database, "billing.invoice_issued.v1")] == [
        i.issued_event_id for i in billed
    ]
    for quiet in (
        "billing.reminder_due.v1",
        "billing.invoice_overdue.v1",
        "billing.suspension_warning.v1",
        "billing.account_suspended.v1",
        "billing.invoice_undelivered.v1",
        "billing.invoice_held.v1",
    ):
        assert envelopes(database, quiet) == [], quiet

    after = subscription(database, sub_id)
    assert after.status == "active"
    assert (after.current_period_start, after.current_period_end) == (
        date(2027, 1, 5),
        date(2027, 2, 5),
    )
    assert len(completed_days(database)) == 366
    assert timeline(database, "invoice_issued")[0] == (
        "Issued invoice #1: the renewal of Basic hosting for 2026-02-05 to 2026-03-05, "
        "BRL 50.00, due 2026-02-05."
    )
    assert timeline(database, "period_started")[-1] == (
        "New monthly period of Basic hosting: 2027-01-05 to 2027-02-05."
    )


def test_a_customer_who_pays_late_twice(database: Database) -> None:
    """Reminded, noticed, warned a business day ahead, suspended only inside business hours.

    April's invoice is due Thursday 16 April 2026; five days later is Tuesday 21
    April, Tiradentes, a national holiday, so the suspension falls on Wednesday
    22 and the warning on Monday 20. June's is due Tuesday 16 June; five days
    later is a Sunday, so the suspension falls on Monday 22 June, the warning on
    Friday 19. The run goes at 08:00 (closed) and 15:00 (open) every day.
    """
    sub_id = subscribed(database, date(2026, 3, 16))
    payments = {date(2026, 4, 24): 0, date(2026, 5, 10): 1, date(2026, 6, 25): 2}
    payments[date(2026, 7, 10)] = 3
    suspensions: list[tuple[date, time]] = []
    for day in days(date(2026, 3, 16), date(2026, 7, 20)):
        for clock in (MORNING, AFTERNOON):
            before = subscription(database, sub_id).status
            run(database, day, clock)
            if before != "suspended" and subscription(database, sub_id).status == "suspended":
                suspensions.append((day, clock))
        deliver_new_invoices(database, day)
        if day in payments:
            pay(database, invoices(database, sub_id)[payments[day]].id, day)

    assert suspensions == [(date(2026, 4, 22), AFTERNOON), (date(2026, 6, 22), AFTERNOON)]
    april, may, june, july = invoices(database, sub_id)
    assert [i.number for i in (april, may, june, july)] == [1, 2, 3, 4]

    reminders = payloads(database, "billing.reminder_due.v1")
    assert [(r["invoice_id"], r["days_before_due"]) for r in reminders] == [
        (april.id, 7),
        (may.id, 7),
        (june.id, 7),
        (july.id, 7),
    ]
    overdue = payloads(database, "billing.invoice_overdue.v1")
    assert [(o["invoice_id"], o["days_overdue"]) for o in overdue] == [
        (april.id, 1),
        (april.id, 5),
        (june.id, 1),
        (june.id, 5),
    ]
    warnings = payloads(database, "billing.suspension_warning.v1")
    assert [(w["invoice_id"], w["suspend_on"]) for w in warnings] == [
        (april.id, date(2026, 4, 22)),
        (june.id, date(2026, 6, 22)),
    ]
    assert CALENDAR.holiday_name(date(2026, 4, 21)) is not None
    warned_on = [m for m in timeline(database, "suspension_warning")]
    assert "will be suspended on 2026-04-22" in warned_on[0]
    suspended = payloads(database, "billing.account_suspended.v1")
    assert [s["reason"] for s in suspended] == ["non_payment", "non_payment"]
    assert {s["subscription_id"] for s in suspended} == {sub_id}
    assert timeline(database, "account_suspended") == [
        "Suspended Basic hosting: invoice #1 is 6 days overdue (due 2026-04-16).",
        "Suspended Basic hosting: invoice #3 is 6 days overdue (due 2026-06-16).",
    ]
    # Paid invoices are never suspended for: May and July went out, were paid, and stayed quiet.
    assert subscription(database, sub_id).status == "active"


def test_the_suspension_waits_for_business_hours_and_records_the_moment(
    database: Database,
) -> None:
    sub_id = subscribed(database, date(2026, 3, 16))
    for day in days(date(2026, 3, 16), date(2026, 4, 21)):
        run(database, day)
    assert subscription(database, sub_id).status == "active", "the holiday passed quietly"
    run(database, date(2026, 4, 22), time(9, 59))
    assert subscription(database, sub_id).status == "active"
    run(database, date(2026, 4, 22), time(12, 30))  # the lunch break is closed too
    assert subscription(database, sub_id).status == "active"
    report = run(database, date(2026, 4, 22), time(14, 0))
    assert report.counts["suspended"] == 1
    suspended = subscription(database, sub_id)
    assert suspended.status == "suspended" and suspended.suspension_reason == "non_payment"
    assert suspended.suspended_at is not None
    assert suspended.suspended_at.replace(tzinfo=UTC) == at(date(2026, 4, 22), time(14))


def test_an_open_billing_ticket_holds_the_suspension(database: Database) -> None:
    sub_id = subscribed(database, date(2026, 3, 16))
    customer_id = subscription(database, sub_id).customer_id
    for day in days(date(2026, 3, 16), date(2026, 4, 17)):
        run(database, day, AFTERNOON)
    deliver(
        database, "tickets.billing_ticket_opened.v1", {"ticket_id": 7, "customer_id": customer_id}
    )
    for day in days(date(2026, 4, 18), date(2026, 4, 27)):
        run(database, day, AFTERNOON)
    assert subscription(database, sub_id).status == "active"
    assert envelopes(database, "billing.suspension_warning.v1") == []
    assert timeline(database, "suspension_held") == [
        "Suspension on hold: invoice #1 is overdue (due 2026-04-16), but the customer has an "
        "open billing ticket. It resumes when the ticket closes."
    ]

    deliver(
        database, "tickets.billing_ticket_closed.v1", {"ticket_id": 7, "customer_id": customer_id}
    )
    run(database, date(2026, 4, 28), AFTERNOON)
    run(database, date(2026, 4, 28), time(18))
    assert subscription(database, sub_id).status == "active", "a business day's warning first"
    warning = payloads(database, "billing.suspension_warning.v1")
    assert [w["suspend_on"] for w in warning] == [date(2026, 4, 29)]
    run(database, date(2026, 4, 29), AFTERNOON)
    assert subscription(database, sub_id).status == "suspended"
    assert timeline(database, "billing_ticket_opened") == [
        "Billing ticket #7 opened at the desk: no suspension while it is open."
    ]


def test_a_held_invoice_is_not_sent_and_takes_no_number(database: Database) -> None:
    held_id = subscribed(database, date(2026, 3, 16), name="Loja Verde", email="a@verde.example")
    with database.transaction() as session:
        # Staff changed the plan's currency under a BRL customer.
        plan = session.get(Subscription, held_id).plan  # type: ignore[union-attr]
        plan.currency = "USD"
    fine_id = subscribed(database, date(2026, 3, 16), name="Loja Azul")
    for day in days(date(2026, 3, 16), date(2026, 5, 1)):
        run(database, day, AFTERNOON)

    (held,) = invoices(database, held_id)
    assert held.status == "held" and held.number is None and held.issued_at is None
    assert hold_reasons(held) == [
        "The invoice is in USD; the customer pays in BRL.",
    ]
    (event,) = payloads(database, "billing.invoice_held.v1")
    assert event["invoice_id"] == held.id and event["reasons"] == hold_reasons(held)
    assert [p["invoice_id"] for p in payloads(database, "billing.invoice_issued.v1")] == [
        invoices(database, fine_id)[0].id
    ]
    assert invoices(database, fine_id)[0].number == 1, "the held invoice took no number"
    (note,) = timeline(database, "invoice_held")
    assert note.startswith("Held for review, not sent: the renewal of Basic hosting for ")
    # A held invoice is never chased: no reminders, notices or suspension over it.
    customer_events = [e for e in envelopes(database) if e.payload.get("invoice_id") == held.id]
    assert [e.event_type for e in customer_events] == ["billing.invoice_held.v1"]
    assert subscription(database, held_id).status == "active"


def test_an_invoice_without_a_deliverable_contact_is_held(database: Database) -> None:
    sub_id = subscribed(database, date(2026, 3, 16))
    with database.transaction() as session:
        customer = session.get(Subscription, sub_id).customer  # type: ignore[union-attr]
        customer.email = "contas at lojaazul"
        session.add(
            Contact(
                customer_id=customer.id,
                name="Rui",
                email="rui@lojaazul.example",
                receives_invoices=False,
            )
        )
    run(database, date(2026, 4, 2))
    (invoice,) = invoices(database, sub_id)
    assert invoice.status == "held"
    assert any("No deliverable contact" in reason for reason in hold_reasons(invoice))
    (held,) = payloads(database, "billing.invoice_held.v1")
    assert held["email"] is None, "the event still goes out, without an address"
    assert timeline(database, "no_address") == [
        "billing.invoice_held.v1 was announced without an address: the customer has no valid email."
    ]


def test_a_contact_who_receives_invoices_is_where_they_go(database: Database) -> None:
    sub_id = subscribed(database, date(2026, 3, 16))
    with database.transaction() as session:
        customer = session.get(Subscription, sub_id).customer  # type: ignore[union-attr]
        customer.email = "contas at lojaazul"
        session.add(Contact(customer_id=customer.id, name="Rui", email="rui@lojaazul.example"))
    run(database, date(2026, 4, 2))
    (invoice,) = invoices(database, sub_id)
    assert invoice.status == "issued"
    (issued,) = payloads(database, "billing.invoice_issued.v1")
    assert issued["email"] == "rui@lojaazul.example"


def test_an_end_of_period_cancellation_stops_invoicing(database: Database) -> None:
    sub_id = subscribed(database, date(2026, 1, 5))
    with database.transaction() as session:
        sub = session.get(Subscription, sub_id)
        assert sub is not None
        sub.status, sub.cancel_at_period_end = "pending_cancellation", True
        sub.cancellation_reason = "Moving to our own server"
    for day in days(date(2026, 1, 10), date(2026, 3, 10)):
        run(database, day)

    assert invoices(database, sub_id) == [], "no renewal for a period the customer will not have"
    cancelled = subscription(database, sub_id)
    assert cancelled.status == "cancelled"
    assert cancelled.cancelled_at is not None
    assert cancelled.cancelled_at.replace(tzinfo=UTC) == at(date(2026, 2, 5), time(0))
    (event,) = payloads(database, "billing.subscription_ended.v1")
    assert event["ended_on"] == date(2026, 2, 5)
    assert event["reason"] == "Moving to our own server"
    assert timeline(database, "subscription_cancelled") == [
        "Cancelled Basic hosting on 2026-02-05: the end of the period, as the customer asked. "
        "Reason: Moving to our own server"
    ]


def test_running_a_day_twice_creates_nothing_new(database: Database) -> None:
    first = subscribed(database, date(2026, 3, 16), name="Loja Azul")
    second = subscribed(database, date(2026, 3, 16), name="Loja Verde", email="a@verde.example")
    for day in days(date(2026, 3, 30), date(2026, 4, 2)):
        run(database, day)
    state = (len(envelopes(database)), len(timeline(database)), len(invoices(database)))
    again = run(database, date(2026, 4, 2))
    run(database, date(2026, 4, 2), AFTERNOON)
    assert again.dates == [date(2026, 4, 2)] and sum(again.counts.values()) == 0
    assert (len(envelopes(database)), len(timeline(database)), len(invoices(database))) == state
    assert [i.number for i in invoices(database)] == [1, 2]
    assert {i.subscription_id for i in invoices(database)} == {first, second}
    assert completed_days(database) == list(days(date(2026, 3, 30), date(2026, 4, 2)))
    # A day before the last completed one is history, not re-run.
    assert run(database, date(2026, 3, 1)).dates == []


def test_missed_days_are_caught_up(database: Database) -> None:
    sub_id = subscribed(database, date(2026, 1, 5))
    run(database, date(2026, 1, 5))
    # The worker was down until Sunday 1 March, 11:00: outside business hours.
    report = run(database, date(2026, 3, 1))
    assert report.dates == list(days(date(2026, 1, 6), date(2026, 3, 1)))
    assert completed_days(database) == list(days(date(2026, 1, 5), date(2026, 3, 1)))
    feb, mar = invoices(database, sub_id)
    assert (feb.due_date, mar.due_date, feb.number, mar.number) == (
        date(2026, 2, 5),
        date(2026, 3, 5),
        1,
        2,
    )
    assert subscription(database, sub_id).current_period_start == date(2026, 2, 5)
    overdue = payloads(database, "billing.invoice_overdue.v1")
    assert [(o["invoice_id"], o["days_overdue"]) for o in overdue] == [(feb.id, 1), (feb.id, 5)]
    assert report.counts["suspensions_waiting"] > 0
    assert subscription(database, sub_id).status == "active", "not on a Sunday"

    monday = run(database, date(2026, 3, 2))
    assert monday.dates == [date(2026, 3, 2)] and monday.counts["suspended"] == 1
    assert subscription(database, sub_id).status == "suspended"


def test_credit_is_applied_to_the_next_invoice(database: Database) -> None:
    partly = subscribed(database, date(2026, 3, 16), name="Loja Azul")
    wholly = subscribed(database, date(2026, 3, 16), name="Loja Verde", email="a@verde.example")
    with database.transaction() as session:
        for sub_id, amount in ((partly, 2000), (wholly, 8000)):
            customer_id = session.get(Subscription, sub_id).customer_id  # type: ignore[union-attr]
            session.add(
                CreditEntry(
                    customer_id=customer_id,
                    amount_minor=amount,
                    currency="BRL",
                    reason="Overpayment",
                )
            )
    run(database, date(2026, 4, 2))

    (part,) = invoices(database, partly)
    assert part.status == "issued" and part.total_minor == 3000
    assert [(line.description, line.amount_minor) for line in part.lines][-1] == (
        "Credit applied",
        -2000,
    )
    (whole,) = invoices(database, wholly)
    assert whole.status == "paid" and whole.total_minor == 0 and whole.number is not None
    with database.transaction() as session:
        balances = dict(
            session.execute(
                select(CreditEntry.customer_id, func.sum(CreditEntry.amount_minor)).group_by(
                    CreditEntry.customer_id
                )
            ).all()
        )
    assert balances == {part.customer_id: 0, whole.customer_id: 3000}
    assert [p["invoice_id"] for p in payloads(database, "billing.invoice_paid.v1")] == [whole.id]
    # Nothing is owed on the invoice credit paid: it is never chased.
    for day in days(date(2026, 4, 3), date(2026, 4, 30)):
        run(database, day, AFTERNOON)
    assert subscription(database, wholly).status == "active"
    assert subscription(database, partly).status == "suspended"


def test_undelivered_invoices_alert_staff_once_after_24_hours(database: Database) -> None:
    silent = subscribed(database, date(2026, 3, 16), name="Loja Azul")
    confirmed = subscribed(database, date(2026, 3, 16), name="Loja Verde", email="a@verde.example")
    run(database, date(2026, 4, 2), time(11))
    (delivered,) = invoices(database, confirmed)
    notify_sent(database, delivered, at(date(2026, 4, 2), time(11, 5)))

    run(database, date(2026, 4, 3), time(10, 59))
    assert envelopes(database, "billing.invoice_undelivered.v1") == []
    run(database, date(2026, 4, 3), time(11, 0))
    run(database, date(2026, 4, 3), time(15, 0))
    run(database, date(2026, 4, 4), time(11, 0))
    (alert,) = payloads(database, "billing.invoice_undelivered.v1")
    (undelivered,) = invoices(database, silent)
    assert alert["invoice_id"] == undelivered.id
    assert alert["issued_at"] == at(date(2026, 4, 2), time(11))
    assert invoices(database, confirmed)[0].delivered_at is not None
    assert timeline(database, "invoice_undelivered") == [
        "Staff alert: invoice #1 was issued on 2026-04-02 and notify has not confirmed its "
        "delivery within 24 hours; check the address and send it by hand."
    ]


def test_a_failed_delivery_is_on_the_timeline(database: Database) -> None:
    sub_id = subscribed(database, date(2026, 3, 16))
    run(database, date(2026, 4, 2))
    (invoice,) = invoices(database, sub_id)
    deliver(
        database,
        "notify.notification_failed.v1",
        {
            "notification_id": 1,
            "source_event_id": invoice.issued_event_id,
            "source_event_type": "billing.invoice_issued.v1",
            "channel": "email",
            "customer_id": invoice.customer_id,
            "reason": "mailbox does not exist",
        },
    )
    assert timeline(database, "invoice_delivery_failed") == [
        "Invoice #1 could not be sent by email: mailbox does not exist. Check the customer's "
        "address and send it again."
    ]
    assert invoices(database, sub_id)[0].delivered_at is None


def test_optional_late_fee_and_termination(database: Database) -> None:
    policy = BillingPolicy(late_fee_percent=2, terminate_after_days=10)
    sub_id = subscribed(database, date(2026, 3, 16))
    for day in days(date(2026, 3, 16), date(2026, 5, 20)):
        run(database, day, AFTERNOON, policy)

    renewal, fee, *later = invoices(database, sub_id)
    assert fee.kind == "late_fee" and fee.total_minor == 100 and fee.status == "issued"
    assert fee.issued_at is not None
    assert fee.issued_at.replace(tzinfo=UTC) == at(date(2026, 4, 17), AFTERNOON)
    assert fee.lines[0].description == "Late fee: invoice #1 was due on 2026-04-16"
    # May's invoice fell overdue after the account was terminated: no fee on a closed account.
    assert [i.kind for i in invoices(database)] == ["renewal", "late_fee", "renewal"]
    assert later[0].kind == "renewal"
    terminated = subscription(database, sub_id)
    assert terminated.status == "terminated"
    (event,) = payloads(database, "billing.account_terminated.v1")
    assert event["suspended_since"] == date(2026, 4, 22)
    # Ten days after the suspension is Saturday 2 May: termination waits for Monday's hours.
    assert timeline(database, "account_terminated") == [
        "Terminated Basic hosting: suspended for non-payment since 2026-04-22, 12 days ago "
        "(the policy terminates after 10)."
    ]
    assert renewal.status == "issued"


def test_batches_cover_every_subscription(database: Database) -> None:
    ids = [
        subscribed(database, date(2026, 3, 16), name=f"Loja {n}", email=f"c{n}@loja.example")
        for n in range(7)
    ]
    report = run_billing(
        database, date(2026, 4, 2), BillingPolicy(), CALENDAR, at(date(2026, 4, 2)), batch_size=3
    )
    assert report.counts["invoices_issued"] == 7
    assert sorted(i.number or 0 for i in invoices(database)) == list(range(1, 8))
    assert {i.subscription_id for i in invoices(database)} == set(ids)
