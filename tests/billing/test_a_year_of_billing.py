"""A year of one customer's account, through the same paths staff and the gateway use.

Lúcia's shop subscribes in January. She pays on time at first; in March she
misses a due date, is suspended, asks for the one-time grace with the date she
will pay, and pays on it; in April she is late again, her second grace is
refused, and her payment lifts the suspension. In May she upgrades mid-cycle;
in June she cancels at the end of the period. Every step is checked against
the events billing announces, the reserve, and the gapless invoice numbers.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from services.billing.catalog import create_plan
from services.billing.changes import cancel_subscription, change_plan
from services.billing.grace import GraceRequest, request_grace
from services.billing.models import Invoice, ReserveEntry
from services.billing.payments import PaymentRequest, record_payment
from services.billing.run import suspension_day
from shared.db import Database
from tests.billing.timetravel import (
    AFTERNOON,
    CALENDAR,
    POLICY,
    at,
    days,
    invoices,
    migrated_database,
    notify_sent,
    payloads,
    run,
    subscribed,
    subscription,
    timeline,
)

START = date(2026, 1, 5)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = migrated_database(f"sqlite:///{tmp_path / 'billing.sqlite3'}")
    yield db
    db.dispose()


def pay(database: Database, invoice: Invoice, day: date) -> None:
    with database.transaction() as session:
        record_payment(
            session,
            PaymentRequest(
                amount_minor=invoice.total_minor - invoice.paid_minor,
                currency="BRL",
                method="pix",
                invoice_id=invoice.id,
                recorded_by="bia@example.com",
            ),
            now=at(day, time(12)).astimezone(UTC),
        )


def ask_for_grace(database: Database, subscription_id: int, day: date, pay_by: date) -> bool:
    with database.transaction() as session:
        decision = request_grace(
            session,
            GraceRequest(
                subscription_id=subscription_id, pay_by=pay_by, requested_by="bia@example.com"
            ),
            today=day,
            now=at(day).astimezone(UTC),
        )
    return decision.granted


def invoice_due(database: Database, subscription_id: int, due: date) -> Invoice:
    (found,) = [i for i in invoices(database, subscription_id) if i.due_date == due]
    return found


def test_a_year_of_one_account(database: Database) -> None:
    sub_id = subscribed(
        database, START, name="Loja da Lúcia", email="lucia@example.com", price_minor=4990
    )
    with database.transaction() as session:
        pro = create_plan(session, "pro", "Pro hosting", "monthly", 9990)
    march_suspension = suspension_day(date(2026, 3, 5), POLICY, CALENDAR)
    april_suspension = suspension_day(date(2026, 4, 5), POLICY, CALENDAR)
    grants: list[bool] = []

    for day in days(START, date(2026, 7, 31)):
        run(database, day, AFTERNOON)
        for invoice in invoices(database, sub_id):
            if invoice.issued_at and invoice.delivered_at is None:
                notify_sent(database, invoice, at(day, time(16)))
        for invoice in invoices(database, sub_id):
            if invoice.status != "issued":
                continue
            on_time = (date(2026, 2, 5), date(2026, 5, 5), date(2026, 6, 5))
            if invoice.due_date in on_time and day == invoice.due_date - timedelta(days=2):
                pay(database, invoice, day)
            if invoice.kind == "proration" and day == date(2026, 5, 16):
                pay(database, invoice, day)
        if day == march_suspension + timedelta(days=1):
            grants.append(ask_for_grace(database, sub_id, day, date(2026, 3, 20)))
        if day == date(2026, 3, 20):
            pay(database, invoice_due(database, sub_id, date(2026, 3, 20)), day)
        if day == april_suspension + timedelta(days=1):
            grants.append(ask_for_grace(database, sub_id, day, day + timedelta(days=10)))
        if day == april_suspension + timedelta(days=3):
            pay(database, invoice_due(database, sub_id, date(2026, 4, 5)), day)
        if day == date(2026, 5, 15):
            with database.transaction() as session:
                change_plan(
                    session,
                    sub_id,
                    pro.id,
                    requested_by="bia@example.com",
                    today=day,
                    now=at(day).astimezone(UTC),
                )
        if day == date(2026, 6, 10):
            with database.transaction() as session:
                cancel_subscription(
                    session,
                    sub_id,
                    "Moving the shop to a marketplace",
                    requested_by="bia@example.com",
                    at_period_end=True,
                    now=at(day).astimezone(UTC),
                )

    # The first grace was granted with her date, the second refused.
    assert grants == [True, False]
    reactivations = payloads(database, "billing.account_reactivated.v1")
    assert [(r["cause"], r["pay_by"]) for r in reactivations] == [
        ("grace", date(2026, 3, 20)),
        ("payment", None),
    ]
    (refusal,) = payloads(database, "billing.grace_refused.v1")
    assert refusal["first_grace_on"] == march_suspension + timedelta(days=1)
    suspended = payloads(database, "billing.account_suspended.v1")
    assert len(suspended) == 2 and {s["reason"] for s in suspended} == {"non_payment"}

    # Every invoice went out numbered without gaps, and every one of them was paid.
    everything = invoices(database, sub_id)
    assert [i.number for i in everything] == list(range(1, len(everything) + 1))
    assert {i.status for i in everything} == {"paid"}
    kinds = [i.kind for i in everything]
    assert kinds.count("proration") == 1
    proration = next(i for i in everything if i.kind == "proration")
    # 20 of May's 31 days remained when she moved up: (9990 - 4990) * 21 / 31, rounded.
    assert 3000 <= proration.total_minor <= 3500
    june = invoice_due(database, sub_id, date(2026, 6, 5))
    assert june.total_minor == 9990, "the renewal after the upgrade bills the new plan"

    # Invoicing stopped with the cancellation; the subscription ended on the period's end.
    assert [i for i in everything if i.due_date > date(2026, 6, 5)] == []
    (ended,) = payloads(database, "billing.subscription_ended.v1")
    assert ended["ended_on"] == date(2026, 7, 5)
    assert subscription(database, sub_id).status == "cancelled"

    # P-RESERVE: a tenth of every payment, to the cent.
    with database.transaction() as session:
        reserve = session.execute(select(func.sum(ReserveEntry.amount_minor))).scalar_one()
    assert reserve == sum((i.total_minor * 10 + 50) // 100 for i in everything)

    # The timeline tells staff why each automatic action happened.
    assert all("days overdue" in m for m in timeline(database, "account_suspended"))
    assert len(payloads(database, "billing.payment_received.v1")) == len(everything)
