"""P-ONE-GRACE: the first reactivation on the customer's date is granted, a second declined."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.billing.accounts import (
    BillingError,
    CustomerDetails,
    create_customer,
    customer_day,
    next_in_sequence,
)
from services.billing.catalog import create_plan, subscribe
from services.billing.changes import INVOICE_SEQUENCE
from services.billing.grace import GraceRequest, request_grace
from services.billing.models import Grace, Invoice, Subscription
from shared.db import Database
from tests.billing.reading import events, timeline

TODAY = date(2026, 3, 20)


def suspended_for_non_payment(session: Session, reason: str = "non_payment") -> Subscription:
    """A subscription suspended over an invoice due on 2026-03-10 (10 days overdue)."""
    customer = create_customer(session, CustomerDetails(name="Loja Azul", email="c@azul.example"))
    plan = create_plan(session, "basic", "Basic hosting", "monthly", 5000)
    subscription = subscribe(session, customer.id, plan.id, date(2026, 2, 10))
    session.add(
        Invoice(
            number=next_in_sequence(session, INVOICE_SEQUENCE),
            customer_id=customer.id,
            subscription_id=subscription.id,
            period_start=date(2026, 3, 10),
            period_end=date(2026, 4, 10),
            currency="BRL",
            total_minor=5000,
            paid_minor=0,
            status="issued",
            due_date=date(2026, 3, 10),
        )
    )
    suspend(subscription, reason)
    session.flush()
    return subscription


def suspend(subscription: Subscription, reason: str = "non_payment") -> None:
    subscription.status = "suspended"
    subscription.suspension_reason = reason
    subscription.suspended_at = datetime(2026, 3, 16, 13, tzinfo=UTC)


def ask(
    session: Session,
    subscription: Subscription,
    pay_by: date,
    *,
    by: str = "bia@example.com",
    by_owner: bool = False,
    override: bool = False,
    note: str | None = None,
    grace_max_days: int = 15,
) -> Any:
    request = GraceRequest(
        subscription_id=subscription.id,
        pay_by=pay_by,
        requested_by=by,
        by_owner=by_owner,
        owner_override=override,
        note=note,
    )
    return request_grace(session, request, today=TODAY, grace_max_days=grace_max_days)


def test_the_first_request_reactivates_and_moves_the_due_date(database: Database) -> None:
    with database.transaction() as session:
        subscription = suspended_for_non_payment(session)
        decision = ask(session, subscription, date(2026, 3, 30))
        assert decision.granted and decision.grace is not None
        assert (subscription.status, subscription.suspension_reason) == ("active", None)
        invoice = session.execute(select(Invoice)).scalar_one()
        assert invoice.due_date == date(2026, 3, 30)
        assert decision.moved_invoice_ids == (invoice.id,)
        grace = session.execute(select(Grace)).scalar_one()
        assert (grace.pay_by, grace.requested_by, grace.owner_override) == (
            date(2026, 3, 30),
            "bia@example.com",
            False,
        )
        [event] = events(session, "billing.account_reactivated.v1")
        assert event["cause"] == "grace" and event["pay_by"] == "2026-03-30"
        assert "the account's one grace" in timeline(session, "account_reactivated")[0]
        assert "was 2026-03-10" in timeline(session, "due_date_moved")[0]


def test_a_second_request_is_declined_with_the_date_of_the_first(database: Database) -> None:
    with database.transaction() as session:
        subscription = suspended_for_non_payment(session)
        first = ask(session, subscription, date(2026, 3, 25))
        suspend(subscription)  # the promise was not kept, the run suspended it again
        second = ask(session, subscription, date(2026, 3, 30))
        # The day on the customer's calendar, as they and the desk are told.
        first_on = customer_day(subscription.customer.timezone, first.grace.granted_at)
        assert not second.granted and second.grace is None
        assert second.first_grace_on == first_on
        assert "already had its one grace" in second.message
        assert subscription.status == "suspended", "a refusal reactivates nothing"
        assert session.scalar(select(func.count()).select_from(Grace)) == 1
        [refused] = events(session, "billing.grace_refused.v1")
        assert refused["first_grace_on"] == first_on.isoformat()
        assert refused["reason"] == second.message
        assert len(events(session, "billing.account_reactivated.v1")) == 1
        assert timeline(session, "grace_refused")[0].startswith("Grace declined.")


def test_the_rule_is_per_account_not_per_subscription(database: Database) -> None:
    with database.transaction() as session:
        subscription = suspended_for_non_payment(session)
        ask(session, subscription, date(2026, 3, 25))
        plan = create_plan(session, "mail", "Mail", "monthly", 1000)
        other = subscribe(session, subscription.customer_id, plan.id, date(2026, 2, 1))
        suspend(other)
        assert not ask(session, other, date(2026, 3, 25)).granted


def test_only_the_owner_overrides_and_only_with_a_note(database: Database) -> None:
    with database.transaction() as session:
        subscription = suspended_for_non_payment(session)
        ask(session, subscription, date(2026, 3, 25))
        suspend(subscription)
        with pytest.raises(BillingError, match="Only the owner"):
            ask(session, subscription, date(2026, 3, 30), override=True, note="hospital")
        with pytest.raises(BillingError, match="needs a note"):
            ask(session, subscription, date(2026, 3, 30), by_owner=True, override=True, note=" ")
        decision = ask(
            session,
            subscription,
            date(2026, 3, 30),
            by="ana@example.com",
            by_owner=True,
            override=True,
            note="Owner was in hospital; long-time customer.",
        )
        assert decision.granted and subscription.status == "active"
        override = session.execute(select(Grace).where(Grace.owner_override)).scalar_one()
        assert override.note == "Owner was in hospital; long-time customer."
        second_reactivation = timeline(session, "account_reactivated")[1]
        assert "the owner overrode the one-grace rule" in second_reactivation


def test_the_owner_without_override_is_declined_like_anyone(database: Database) -> None:
    with database.transaction() as session:
        subscription = suspended_for_non_payment(session)
        ask(session, subscription, date(2026, 3, 25))
        suspend(subscription)
        assert not ask(session, subscription, date(2026, 3, 30), by_owner=True).granted


@pytest.mark.parametrize(
    ("pay_by", "max_days", "message"),
    [
        (date(2026, 3, 19), 15, "in the past"),
        (date(2026, 4, 5), 15, "at most 15 days ahead"),
        (date(2026, 3, 28), 7, "at most 7 days ahead"),
    ],
)
def test_the_pay_by_date_must_be_within_the_policy(
    database: Database, pay_by: date, max_days: int, message: str
) -> None:
    with database.transaction() as session:
        subscription = suspended_for_non_payment(session)
        with pytest.raises(BillingError, match=message):
            ask(session, subscription, pay_by, grace_max_days=max_days)
        assert subscription.status == "suspended"
        assert ask(session, subscription, date(2026, 4, 4)).granted, "15 days ahead is allowed"


def test_today_is_a_valid_pay_by_date(database: Database) -> None:
    with database.transaction() as session:
        assert ask(session, suspended_for_non_payment(session), TODAY).granted


def test_only_a_non_payment_suspension_can_be_graced(database: Database) -> None:
    with database.transaction() as session:
        abuse = suspended_for_non_payment(session, reason="abuse")
        with pytest.raises(BillingError, match="suspended for abuse"):
            ask(session, abuse, date(2026, 3, 25))
        abuse.status, abuse.suspension_reason = "active", None
        with pytest.raises(BillingError, match="is active, not suspended"):
            ask(session, abuse, date(2026, 3, 25))
        assert session.scalar(select(func.count()).select_from(Grace)) == 0
        assert events(session, "billing.grace_refused.v1") == []
