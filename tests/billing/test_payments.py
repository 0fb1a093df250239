"""Payments: partial, full, overpaid; credit; the reserve; lifting a non-payment suspension."""

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
    next_in_sequence,
)
from services.billing.catalog import create_plan, subscribe
from services.billing.changes import INVOICE_SEQUENCE
from services.billing.models import (
    CreditEntry,
    Invoice,
    InvoiceLine,
    Payment,
    ReserveEntry,
    Subscription,
)
from services.billing.payments import (
    DuplicatePayment,
    PaymentRequest,
    format_money,
    record_payment,
    share_half_up,
)
from shared.db import Database
from tests.billing.reading import events, timeline

TODAY = date(2026, 3, 20)
NOW = datetime(2026, 3, 20, 15, 0, tzinfo=UTC)


def subscribed_customer(session: Session, price_minor: int = 5000) -> Subscription:
    customer = create_customer(session, CustomerDetails(name="Loja Azul", email="c@azul.example"))
    plan = create_plan(session, "basic", "Basic hosting", "monthly", price_minor)
    return subscribe(session, customer.id, plan.id, date(2026, 3, 1))


def issue_invoice(session: Session, subscription: Subscription, due: date, total: int) -> Invoice:
    """An issued renewal invoice, as the daily run would leave it."""
    invoice = Invoice(
        number=next_in_sequence(session, INVOICE_SEQUENCE),
        kind="renewal",
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        period_start=due,
        period_end=due.replace(month=due.month + 1),
        currency="BRL",
        total_minor=total,
        paid_minor=0,
        status="issued",
        due_date=due,
        issued_at=NOW,
        lines=[InvoiceLine(description="Basic", quantity=1, unit_minor=total, amount_minor=total)],
    )
    session.add(invoice)
    session.flush()
    return invoice


def suspend(subscription: Subscription, reason: str) -> None:
    subscription.status = "suspended"
    subscription.suspension_reason = reason
    subscription.suspended_at = NOW


def pay(session: Session, amount: int, **target: Any) -> Any:
    request = PaymentRequest(
        amount_minor=amount,
        currency=target.pop("currency", "BRL"),
        method="pix",
        recorded_by="bia@example.com",
        **target,
    )
    return record_payment(session, request, now=NOW)


def test_partial_payments_accumulate_until_the_invoice_is_paid(database: Database) -> None:
    with database.transaction() as session:
        invoice = issue_invoice(session, subscribed_customer(session), date(2026, 4, 1), 5000)
        first = pay(session, 2000, invoice_id=invoice.id)
        assert (invoice.paid_minor, invoice.balance_minor, invoice.status) == (2000, 3000, "issued")
        assert first.paid_invoices == [] and first.credit_minor == 0
        assert events(session, "billing.invoice_paid.v1") == []
        second = pay(session, 3000, invoice_id=invoice.id)
        assert (invoice.paid_minor, invoice.status, invoice.paid_at) == (5000, "paid", NOW)
        assert second.paid_invoices == [invoice]
        paid = events(session, "billing.invoice_paid.v1")
        assert len(paid) == 1 and paid[0]["invoice_id"] == invoice.id
        assert paid[0]["balance_minor"] == 0
        received = events(session, "billing.payment_received.v1")
        assert [event["amount_minor"] for event in received] == [2000, 3000]
        assert all(event["credit_minor"] == 0 for event in received)
        assert "BRL 30.00 is still open" in timeline(session, "invoice_partly_paid")[0]
        assert timeline(session, "invoice_paid") == [f"invoice #{invoice.number} is paid in full."]


def test_overpayment_becomes_credit_with_its_reason(database: Database) -> None:
    with database.transaction() as session:
        invoice = issue_invoice(session, subscribed_customer(session), date(2026, 4, 1), 5000)
        outcome = pay(session, 7500, invoice_id=invoice.id)
        assert invoice.status == "paid" and invoice.paid_minor == 5000
        assert (outcome.applied_minor, outcome.credit_minor) == (5000, 2500)
        credit = session.execute(select(CreditEntry)).scalar_one()
        assert credit.amount_minor == 2500 and credit.payment_id == outcome.payment.id
        assert credit.reason == f"Overpayment of invoice #{invoice.number}"
        assert events(session, "billing.payment_received.v1")[0]["credit_minor"] == 2500
        assert "will be applied to the next invoice" in timeline(session, "credit_added")[0]


def test_a_payment_on_account_settles_the_oldest_open_invoice_first(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        later = issue_invoice(session, subscription, date(2026, 5, 1), 5000)
        earlier = issue_invoice(session, subscription, date(2026, 4, 1), 5000)
        outcome = pay(session, 6000, customer_id=subscription.customer_id)
        assert earlier.status == "paid" and later.paid_minor == 1000
        assert outcome.credit_minor == 0 and outcome.payment.invoice_id is None
        settled = pay(session, 5000, customer_id=subscription.customer_id)
        assert later.status == "paid" and settled.credit_minor == 1000
        credit = session.execute(select(CreditEntry)).scalar_one()
        assert credit.reason == "Payment on account beyond the open invoices"


@pytest.mark.parametrize(
    ("amount", "reserve"),
    [(1005, 101), (1004, 100), (1000, 100), (5, 1), (4, 0), (123_456_789, 12_345_679)],
)
def test_the_reserve_takes_ten_percent_rounded_half_up(
    database: Database, amount: int, reserve: int
) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        outcome = pay(session, amount, customer_id=subscription.customer_id)
        entry = session.execute(select(ReserveEntry)).scalar_one()
        assert entry.amount_minor == outcome.reserve_minor == reserve
        assert entry.payment_id == outcome.payment.id and entry.currency == "BRL"


def test_the_reserve_share_follows_the_policy_percent(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        request = PaymentRequest(
            amount_minor=999, currency="BRL", method="pix", customer_id=subscription.customer_id
        )
        assert record_payment(session, request, reserve_percent=15).reserve_minor == 150
    assert share_half_up(0, 10) == 0 and share_half_up(250, 2) == 5 and share_half_up(25, 2) == 1


@pytest.mark.parametrize("amount", [0, -100, 10.5, "1000", True, None])
def test_an_amount_must_be_a_positive_whole_number_of_minor_units(
    database: Database, amount: Any
) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        with pytest.raises(BillingError, match="amount must be"):
            pay(session, amount, customer_id=subscription.customer_id)
        assert session.scalar(select(func.count()).select_from(Payment)) == 0


def test_a_payment_in_another_currency_is_refused_and_changes_nothing(database: Database) -> None:
    with database.transaction() as session:
        invoice = issue_invoice(session, subscribed_customer(session), date(2026, 4, 1), 5000)
        invoice_id, customer_id = invoice.id, invoice.customer_id
    for target in ({"invoice_id": invoice_id}, {"customer_id": customer_id}):
        with pytest.raises(BillingError, match="USD"), database.transaction() as session:
            pay(session, 5000, currency="USD", **target)
    with database.transaction() as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 0
        assert session.get(Invoice, invoice_id).paid_minor == 0  # type: ignore[union-attr]
        assert events(session, "billing.payment_received.v1") == []


def test_paying_the_invoice_lifts_a_non_payment_suspension(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        invoice = issue_invoice(session, subscription, date(2026, 3, 10), 5000)
        suspend(subscription, "non_payment")
        pay(session, 4000, invoice_id=invoice.id)
        assert subscription.status == "suspended", "a partial payment does not lift it"
        outcome = pay(session, 1000, invoice_id=invoice.id)
        assert subscription.status == "active" and subscription.suspension_reason is None
        assert subscription.suspended_at is None
        assert outcome.reactivated_subscriptions == [subscription.id]
        [event] = events(session, "billing.account_reactivated.v1")
        assert event["cause"] == "payment" and event["pay_by"] is None
        assert "settles the non-payment" in timeline(session, "account_reactivated")[0]


@pytest.mark.parametrize("reason", ["abuse", "customer_request", "other"])
def test_paying_does_not_lift_a_suspension_for_another_reason(
    database: Database, reason: str
) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        invoice = issue_invoice(session, subscription, date(2026, 3, 10), 5000)
        suspend(subscription, reason)
        pay(session, 5000, invoice_id=invoice.id)
        assert invoice.status == "paid"
        assert (subscription.status, subscription.suspension_reason) == ("suspended", reason)
        assert events(session, "billing.account_reactivated.v1") == []
        assert f"suspended for {reason}" in timeline(session, "suspension_kept")[0]


def test_the_suspension_stays_while_another_invoice_is_still_overdue(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        older = issue_invoice(session, subscription, date(2026, 2, 10), 5000)
        newer = issue_invoice(session, subscription, date(2026, 3, 10), 5000)
        suspend(subscription, "non_payment")
        pay(session, 5000, invoice_id=newer.id)
        assert subscription.status == "suspended"
        assert f"until invoice #{older.number}" in timeline(session, "suspension_kept")[0]
        pay(session, 5000, invoice_id=older.id)
        assert subscription.status == "active"


def test_money_paid_to_a_settled_invoice_is_kept_as_credit(database: Database) -> None:
    with database.transaction() as session:
        invoice = issue_invoice(session, subscribed_customer(session), date(2026, 4, 1), 5000)
        pay(session, 5000, invoice_id=invoice.id)
        again = pay(session, 5000, invoice_id=invoice.id)
        assert invoice.paid_minor == 5000 and again.credit_minor == 5000
        assert len(events(session, "billing.invoice_paid.v1")) == 1
        credit = session.execute(select(CreditEntry)).scalar_one()
        assert credit.reason == f"Paid to invoice #{invoice.number}, which was paid"


def test_the_same_gateway_transaction_is_recorded_once(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        request = PaymentRequest(
            amount_minor=5000,
            currency="BRL",
            method="gateway",
            customer_id=subscription.customer_id,
            gateway_transaction_id="tx-1",
        )
        first = record_payment(session, request)
        with pytest.raises(DuplicatePayment) as duplicate:
            record_payment(session, request)
        assert duplicate.value.payment_id == first.payment.id
        assert (
            "posted by the payment gateway (transaction tx-1)"
            in (timeline(session, "payment_received")[0])
        )


def test_unknown_targets_are_refused(database: Database) -> None:
    with database.transaction() as session:
        subscription = subscribed_customer(session)
        with pytest.raises(BillingError, match="No invoice with id 999"):
            pay(session, 100, invoice_id=999)
        with pytest.raises(BillingError, match="No customer with id 999"):
            pay(session, 100, customer_id=999)
        with pytest.raises(BillingError, match="names an invoice or a customer"):
            pay(session, 100)
        invoice = issue_invoice(session, subscription, date(2026, 4, 1), 5000)
        with pytest.raises(BillingError, match="another customer"):
            pay(session, 100, invoice_id=invoice.id, customer_id=subscription.customer_id + 1)


def test_money_is_shown_with_its_currency() -> None:
    assert format_money(123456, "BRL") == "BRL 1,234.56"
    assert format_money(-5, "USD") == "USD -0.05"
