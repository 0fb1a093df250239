"""P-RIGHT-SIZE plan changes prorated by day, and cancellations at period end or at once."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing.accounts import (
    BillingError,
    CustomerDetails,
    create_customer,
    next_in_sequence,
)
from services.billing.catalog import create_plan, subscribe
from services.billing.changes import (
    INVOICE_SEQUENCE,
    cancel_subscription,
    change_plan,
    prorate,
)
from services.billing.models import CreditEntry, Invoice, Plan, Subscription
from services.billing.payments import PaymentRequest, record_payment
from shared.db import Database
from tests.billing.reading import events, timeline

START = date(2026, 4, 1)  # a 30-day period: 1 April to 1 May
MID = date(2026, 4, 16)  # 15 of 30 days left
NOW = datetime(2026, 4, 16, 14, tzinfo=UTC)


def plan(
    session: Session, code: str, price: int, cycle: str = "monthly", currency: str = "BRL"
) -> Plan:
    return create_plan(session, code, code.title(), cycle, price, currency)


def subscription_on(session: Session, current: Plan) -> Subscription:
    customer = create_customer(session, CustomerDetails(name="Loja Azul", email="c@azul.example"))
    return subscribe(session, customer.id, current.id, START)


def renewal(session: Session, subscription: Subscription, paid: int = 0) -> Invoice:
    """The next period's renewal invoice, already issued by the run."""
    invoice = Invoice(
        number=next_in_sequence(session, INVOICE_SEQUENCE),
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        period_start=subscription.current_period_end,
        period_end=date(2026, 6, 1),
        currency="BRL",
        total_minor=3000,
        paid_minor=paid,
        status="issued",
        due_date=subscription.current_period_end,
    )
    session.add(invoice)
    session.flush()
    return invoice


@pytest.mark.parametrize(
    ("difference", "remaining", "period", "expected"),
    [(3000, 15, 30, 1500), (1000, 1, 30, 33), (1000, 2, 3, 667), (5, 1, 2, 3), (0, 10, 30, 0)],
)
def test_proration_is_by_day_rounded_half_up(
    difference: int, remaining: int, period: int, expected: int
) -> None:
    assert prorate(difference, remaining, period) == expected


def test_an_upgrade_is_invoiced_at_once_for_the_remaining_days(database: Database) -> None:
    with database.transaction() as session:
        basic, pro = plan(session, "basic", 3000), plan(session, "pro", 6000)
        subscription = subscription_on(session, basic)
        earlier = renewal(session, subscription)
        change = change_plan(
            session, subscription.id, pro.id, requested_by="bia@x.example", now=NOW
        )
        assert (change.direction, change.amount_minor) == ("upgrade", 1500)
        assert (change.remaining_days, change.period_days) == (15, 30)
        invoice = change.invoice
        assert invoice is not None and subscription.plan_id == pro.id
        assert invoice.number == earlier.number + 1, "the same gapless numbering"  # type: ignore[operator]
        assert (invoice.kind, invoice.status, invoice.total_minor) == ("proration", "issued", 1500)
        assert sum(line.amount_minor for line in invoice.lines) == invoice.total_minor
        assert (invoice.period_start, invoice.period_end) == (MID, date(2026, 5, 1))
        assert invoice.issued_at == NOW and invoice.due_date == date(2026, 4, 23)
        [issued] = events(session, "billing.invoice_issued.v1")
        assert issued["invoice_id"] == invoice.id and issued["total_minor"] == 1500
        assert "15 of 30 days left" in timeline(session, "plan_upgraded")[0]


def test_a_downgrade_leaves_credit_for_the_unused_difference(database: Database) -> None:
    with database.transaction() as session:
        basic, pro = plan(session, "basic", 3000), plan(session, "pro", 6000)
        subscription = subscription_on(session, pro)
        change = change_plan(
            session, subscription.id, basic.id, requested_by="bia@x.example", now=NOW
        )
        assert (change.direction, change.amount_minor, change.invoice) == ("downgrade", 1500, None)
        credit = session.execute(select(CreditEntry)).scalar_one()
        assert credit.amount_minor == 1500 and credit.customer_id == subscription.customer_id
        assert credit.reason == "Downgrade from Pro to Basic: 15 unused days"
        assert session.execute(select(Invoice)).first() is None
        assert subscription.plan_id == basic.id


def test_a_change_between_plans_of_one_price_moves_no_money(database: Database) -> None:
    with database.transaction() as session:
        basic, same = plan(session, "basic", 3000), plan(session, "basic-2", 3000)
        subscription = subscription_on(session, basic)
        change = change_plan(
            session, subscription.id, same.id, requested_by="bia@x.example", now=NOW
        )
        assert (change.direction, change.amount_minor) == ("same_price", 0)
        assert session.execute(select(CreditEntry)).first() is None


def test_changes_that_cannot_be_prorated_are_refused(database: Database) -> None:
    with database.transaction() as session:
        basic = plan(session, "basic", 3000)
        yearly = plan(session, "basic-yearly", 30000, cycle="yearly")
        dollars = plan(session, "basic-usd", 600, currency="USD")
        subscription = subscription_on(session, basic)

        def change(plan_id: int, **kwargs: Any) -> Any:
            return change_plan(session, subscription.id, plan_id, requested_by="b", **kwargs)

        with pytest.raises(BillingError, match="change the cycle at renewal"):
            change(yearly.id, now=NOW)
        with pytest.raises(BillingError, match="priced in USD"):
            change(dollars.id, now=NOW)
        with pytest.raises(BillingError, match="already on Basic"):
            change(basic.id, now=NOW)
        with pytest.raises(BillingError, match="No plan with id 999"):
            change(999, now=NOW)
        with pytest.raises(BillingError, match="outside the current period"):
            change(plan(session, "pro", 6000).id, today=date(2026, 5, 1))
        subscription.status = "suspended"
        with pytest.raises(BillingError, match="only an active subscription"):
            change(plan(session, "max", 9000).id, now=NOW)
        assert subscription.plan_id == basic.id


def test_a_new_subscription_is_announced_with_its_first_period(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscription_on(session, plan(session, "basic", 3000))
        [event] = events(session, "billing.subscription_started.v1")
        assert event["subscription_id"] == subscription.id
        assert event["customer_id"] == subscription.customer_id
        assert (event["plan_name"], event["email"]) == ("Basic", "c@azul.example")
        assert (event["period_start"], event["period_end"]) == ("2026-04-01", "2026-05-01")


def test_cancelling_at_period_end_confirms_the_date_and_stops_invoicing(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscription_on(session, plan(session, "basic", 3000))
        next_period = renewal(session, subscription, paid=1000)
        cancellation = cancel_subscription(
            session, subscription.id, "Moving to a bigger provider", requested_by="desk@x.example"
        )
        assert cancellation.at_period_end and cancellation.effective_on == date(2026, 5, 1)
        assert subscription.status == "pending_cancellation" and subscription.cancel_at_period_end
        assert subscription.cancellation_reason == "Moving to a bigger provider"
        assert subscription.cancelled_at is None
        [event] = events(session, "billing.subscription_cancelled.v1")
        assert event["at_period_end"] is True and event["effective_on"] == "2026-05-01"
        assert event["reason"] == "Moving to a bigger provider"
        assert next_period.status == "void" and cancellation.voided_invoice_ids == (next_period.id,)
        credit = session.execute(select(CreditEntry)).scalar_one()
        assert credit.amount_minor == 1000, "what was paid for the voided period is kept"
        assert "will end on 2026-05-01" in timeline(session, "subscription_cancelled")[0]


def test_cancelling_at_once(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscription_on(session, plan(session, "basic", 3000))
        cancellation = cancel_subscription(
            session,
            subscription.id,
            "Closing the shop",
            requested_by="d",
            at_period_end=False,
            now=NOW,
        )
        assert (subscription.status, subscription.cancelled_at) == ("cancelled", NOW)
        assert not subscription.cancel_at_period_end and cancellation.effective_on == MID
        [event] = events(session, "billing.subscription_cancelled.v1")
        assert event["at_period_end"] is False and event["effective_on"] == "2026-04-16"
        with pytest.raises(BillingError, match="already cancelled"):
            cancel_subscription(session, subscription.id, "again", requested_by="d")


def test_a_cancellation_needs_the_customer_s_reason(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscription_on(session, plan(session, "basic", 3000))
        with pytest.raises(BillingError, match="reason"):
            cancel_subscription(session, subscription.id, "  ", requested_by="d")
        assert subscription.status == "active"


def test_the_upgrade_invoice_is_paid_like_any_other(database: Database) -> None:
    with database.transaction() as session:
        basic, pro = plan(session, "basic", 3000), plan(session, "pro", 6000)
        subscription = subscription_on(session, basic)
        change = change_plan(session, subscription.id, pro.id, requested_by="b", now=NOW)
        assert change.invoice is not None
        request = PaymentRequest(
            amount_minor=1500, currency="BRL", method="pix", invoice_id=change.invoice.id
        )
        record_payment(session, request)
        assert change.invoice.status == "paid"


def test_a_suspended_subscription_is_cancelled_only_at_once(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscription_on(session, plan(session, "basic", 3000))
        subscription.status, subscription.suspension_reason = "suspended", "non_payment"
        with pytest.raises(BillingError, match="cancel it at once"):
            cancel_subscription(session, subscription.id, "Leaving", requested_by="d")
        assert subscription.status == "suspended"
        cancel_subscription(
            session, subscription.id, "Leaving", requested_by="d", at_period_end=False
        )
        assert subscription.status == "cancelled"


def test_today_is_the_customer_s_day_not_utc_s(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscription_on(session, plan(session, "basic", 3000))
        late_evening_in_sao_paulo = datetime(2026, 4, 17, 1, 30, tzinfo=UTC)  # 16 April, 22:30
        cancellation = cancel_subscription(
            session,
            subscription.id,
            "Closing",
            requested_by="d",
            at_period_end=False,
            now=late_evening_in_sao_paulo,
        )
        assert cancellation.effective_on == MID


def test_an_upgrade_whose_invoice_fails_its_checks_is_refused(database: Database) -> None:
    with database.transaction() as session:
        basic, pro = plan(session, "basic", 3000), plan(session, "pro", 6000)
        subscription = subscription_on(session, basic)
        subscription.customer.email = "no address on file"  # nowhere to send the invoice
        subscription_id, pro_id = subscription.id, pro.id
    with (
        pytest.raises(BillingError, match="would fail its checks"),
        database.transaction() as session,
    ):
        change_plan(session, subscription_id, pro_id, requested_by="b", now=NOW)
    with database.transaction() as session:
        assert session.get(Subscription, subscription_id).plan_id != pro_id  # type: ignore[union-attr]
        assert session.execute(select(Invoice)).first() is None
