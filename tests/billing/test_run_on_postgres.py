"""The daily run on PostgreSQL, where a batch's rows go in with COPY and ids come from sequences.

Enough renewals to fill batches (and so take the COPY path), one with credit
that covers part of it, one whose customer has no deliverable address; then
the same day again, which must create nothing.
"""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from sqlalchemy import func, select

from services.billing.models import (
    CreditEntry,
    Customer,
    Invoice,
    InvoiceLine,
    Subscription,
    TimelineEntry,
)
from services.billing.run import RunReport, run_billing
from shared.bus.tables import outbox
from shared.db import Database
from tests.billing.timetravel import CALENDAR, POLICY, at, migrated_database, subscribed

pytestmark = pytest.mark.postgres

RENEWALS = 40
BATCH = 16
"""Three batches, each large enough to be copied in."""
DAY = date(2026, 4, 2)


def run_day(database: Database) -> RunReport:
    return run_billing(database, DAY, POLICY, CALENDAR, at(DAY), batch_size=BATCH)


def count(database: Database, what: Any) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(what)).scalar_one())


def test_a_day_of_renewals_is_written_whole_and_only_once(postgres_url: str) -> None:
    database = migrated_database(postgres_url)
    subscriptions = [
        subscribed(database, date(2026, 3, 16), name=f"Loja {n}", email=f"contas{n}@loja.example")
        for n in range(RENEWALS)
    ]
    credited, unreachable = subscriptions[3], subscriptions[7]
    with database.transaction() as session:
        credited_customer = session.get(Subscription, credited).customer_id  # type: ignore[union-attr]
        session.add(
            CreditEntry(
                customer_id=credited_customer, amount_minor=1500, currency="BRL", reason="Refund"
            )
        )
        lost = session.get(Subscription, unreachable).customer  # type: ignore[union-attr]
        lost.email = "not an address"
        lost.contacts.clear()

    report = run_day(database)

    assert report.counts["invoices_issued"] == RENEWALS - 1
    assert report.counts["invoices_held"] == 1
    with database.transaction() as session:
        invoices = list(session.execute(select(Invoice).order_by(Invoice.id)).scalars())
        numbers = sorted(i.number for i in invoices if i.number is not None)
        assert numbers == list(range(1, RENEWALS)), "gapless, one number per issued invoice"
        by_subscription = {i.subscription_id: i for i in invoices}
        held = by_subscription[unreachable]
        assert held.status == "held" and "No deliverable contact" in (held.hold_reasons or "")
        part = by_subscription[credited]
        assert part.total_minor == 5000 - 1500
        assert [line.amount_minor for line in part.lines] == [5000, -1500]
        balance = session.execute(
            select(func.sum(CreditEntry.amount_minor)).where(
                CreditEntry.customer_id == credited_customer
            )
        ).scalar_one()
        assert balance == 0
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == "billing.invoice_issued.v1")
        ).scalars()
        issued = {json.loads(body)["event_id"]: json.loads(body)["payload"] for body in bodies}
        for invoice in invoices:
            if invoice.status == "issued":
                assert issued[invoice.issued_event_id]["invoice_id"] == invoice.id
        customers = session.execute(select(func.count()).select_from(Customer)).scalar_one()
        assert customers == RENEWALS
    rows = {table: count(database, table) for table in (InvoiceLine, TimelineEntry, outbox)}
    assert rows[InvoiceLine] == RENEWALS + 1

    again = run_day(database)

    assert not any(name.startswith("invoices") for name in again.counts)
    assert {table: count(database, table) for table in rows} == rows
    assert count(database, Invoice) == RENEWALS
    database.dispose()
