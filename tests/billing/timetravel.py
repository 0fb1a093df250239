"""Helpers for the billing run's tests: a migrated database, days that pass, and what they left.

Time travels by calling the run with a chosen ``now`` for each day: the
company's wall clock in America/Sao_Paulo, where business hours are judged.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

import services.billing as billing
from services.billing.accounts import CustomerDetails, create_customer
from services.billing.catalog import create_plan, subscribe
from services.billing.models import (
    BillingRun,
    Invoice,
    Subscription,
    TimelineEntry,
)
from services.billing.policy import BillingPolicy
from services.billing.run import RunReport, run_billing
from services.billing.subscribers import deliveries, desk_tickets
from shared.bus.subscriber import Outcome, process_message
from shared.bus.tables import outbox
from shared.business_hours import BusinessCalendar
from shared.db import Database
from shared.events import REGISTRY, Envelope
from shared.events.envelope import decode_envelope
from shared.migrations import upgrade

ZONE = ZoneInfo("America/Sao_Paulo")
CALENDAR = BusinessCalendar()
POLICY = BillingPolicy()
MORNING = time(8)
"""Before the office opens: suspensions wait."""
AFTERNOON = time(15)
"""Inside business hours."""


def migrated_database(url: str) -> Database:
    upgrade(billing.MIGRATIONS, url)
    return Database(url)


def at(day: date, clock: time = time(11)) -> datetime:
    return datetime.combine(day, clock, ZONE)


def days(first: date, last: date) -> Iterator[date]:
    """Every day from ``first`` to ``last``, both included."""
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def run(
    database: Database, day: date, clock: time = time(11), policy: BillingPolicy = POLICY
) -> RunReport:
    return run_billing(database, day, policy, CALENDAR, at(day, clock))


def subscribed(
    database: Database,
    start: date,
    *,
    name: str = "Loja Azul",
    email: str = "contas@lojaazul.example",
    price_minor: int = 5000,
    plan_code: str | None = None,
) -> int:
    """A customer on a monthly plan from ``start``; returns the subscription's id."""
    with database.transaction() as session:
        customer = create_customer(session, CustomerDetails(name=name, email=email))
        code = plan_code or f"basic-{customer.id}"
        plan = create_plan(session, code, "Basic hosting", "monthly", price_minor)
        return subscribe(session, customer.id, plan.id, start).id


def subscription(database: Database, subscription_id: int) -> Subscription:
    with database.transaction() as session:
        found = session.get(Subscription, subscription_id)
        assert found is not None
        session.expunge(found)
        return found


def invoices(database: Database, subscription_id: int | None = None) -> list[Invoice]:
    with database.transaction() as session:
        query = select(Invoice).order_by(Invoice.id)
        if subscription_id is not None:
            query = query.where(Invoice.subscription_id == subscription_id)
        found = list(session.execute(query).scalars())
        for invoice in found:
            invoice.lines  # noqa: B018 - loaded before the session closes
        session.expunge_all()
        return found


def pay(database: Database, invoice_id: int, day: date, *, reactivate: bool = True) -> None:
    """Settle an invoice in full, and lift a non-payment suspension as a payment does."""
    with database.transaction() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None and invoice.status == "issued"
        invoice.status = "paid"
        invoice.paid_minor = invoice.total_minor
        invoice.paid_at = at(day, time(12, 30)).astimezone(UTC)
        sub = invoice.subscription
        if reactivate and sub is not None and sub.suspension_reason == "non_payment":
            sub.status, sub.suspension_reason, sub.suspended_at = "active", None, None


def envelopes(database: Database, event_type: str | None = None) -> list[Envelope]:
    with database.transaction() as session:
        query = select(outbox.c.body).order_by(outbox.c.id)
        if event_type is not None:
            query = query.where(outbox.c.event_type == event_type)
        return [decode_envelope(body) for body in session.execute(query).scalars()]


def payloads(database: Database, event_type: str) -> list[dict[str, Any]]:
    """The events' payloads as consumers load them (dates as dates)."""
    return [REGISTRY.load(envelope) for envelope in envelopes(database, event_type)]


def timeline(database: Database, kind: str | None = None) -> list[str]:
    with database.transaction() as session:
        query = select(TimelineEntry.message).order_by(TimelineEntry.id)
        if kind is not None:
            query = query.where(TimelineEntry.kind == kind)
        return list(session.execute(query).scalars())


def completed_days(database: Database) -> list[date]:
    with database.transaction() as session:
        return list(
            session.execute(select(BillingRun.run_date).order_by(BillingRun.run_date)).scalars()
        )


def deliver(database: Database, event_type: str, payload: dict[str, Any]) -> None:
    """Hand billing an event from another service, as the bus would."""
    subscriber = desk_tickets if event_type.startswith("tickets.") else deliveries
    envelope = Envelope(
        event_type=event_type,
        producer=event_type.split(".", 1)[0],
        payload=REGISTRY.dump(event_type, payload),
    )
    result = process_message(database, subscriber, envelope.to_json())
    assert result.outcome is Outcome.HANDLED, result


def notify_sent(database: Database, invoice: Invoice, sent: datetime) -> None:
    assert invoice.issued_event_id is not None
    deliver(
        database,
        "notify.notification_sent.v1",
        {
            "notification_id": invoice.id,
            "source_event_id": invoice.issued_event_id,
            "source_event_type": "billing.invoice_issued.v1",
            "channel": "email",
            "customer_id": invoice.customer_id,
            "sent_at": sent,
        },
    )


def hold_reasons(invoice: Invoice) -> list[str]:
    return list(json.loads(invoice.hold_reasons or "[]"))
