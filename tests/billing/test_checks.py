"""P-INVOICE checks: each reason on its own, on invoices built in memory."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from services.billing.checks import (
    CREDIT_LINE,
    check_invoice,
    deliverable_address,
    is_email,
)
from services.billing.drafts import DraftLine, RenewalDraft
from services.billing.models import Contact, Customer, Invoice, InvoiceLine, Plan, Subscription

START, END = date(2026, 4, 16), date(2026, 5, 16)


def plan(price: int = 5000, currency: str = "BRL") -> Plan:
    return Plan(id=1, code="basic", name="Basic hosting", cycle="monthly", price_minor=price,
                currency=currency)  # fmt: skip


def customer(email: str = "ana@loja.example", currency: str = "BRL") -> Customer:
    return Customer(id=1, name="Loja Azul", email=email, currency=currency, contacts=[])


def line(amount: int, description: str = "Basic hosting", quantity: int = 1) -> InvoiceLine:
    return InvoiceLine(
        description=description,
        quantity=quantity,
        unit_minor=amount // quantity,
        amount_minor=amount,
    )


def invoice(*lines: InvoiceLine, total: int | None = None, **fields: object) -> Invoice:
    values: dict[str, object] = {
        "id": 10,
        "kind": "renewal",
        "subscription_id": 3,
        "period_start": START,
        "period_end": END,
        "currency": "BRL",
        "status": "held",
        "customer": customer(),
        **fields,
    }
    total = sum(item.amount_minor for item in lines) if total is None else total
    return Invoice(lines=list(lines), total_minor=total, **values)


def test_a_plain_renewal_passes() -> None:
    assert check_invoice(invoice(line(5000)), plan(), []) == []


def test_the_total_must_be_the_sum_of_the_lines() -> None:
    reasons = check_invoice(invoice(line(5000), total=4000), plan(), [])
    assert reasons == ["The total 4000 is not the sum of the lines (5000)."]


def test_each_line_is_quantity_times_unit() -> None:
    bad = InvoiceLine(description="Basic hosting", quantity=2, unit_minor=2000, amount_minor=5000)
    reasons = check_invoice(invoice(bad), plan(), [])
    assert reasons == ["Line 'Basic hosting': 2 x 2000 is not 5000."]


def test_a_line_with_quantity_passes() -> None:
    assert check_invoice(invoice(line(5000, quantity=2)), plan(), []) == []


def test_an_invoice_needs_lines() -> None:
    assert "The invoice has no lines." in check_invoice(invoice(), plan(), [])


def test_the_amount_must_match_the_plan() -> None:
    reasons = check_invoice(invoice(line(4500)), plan(), [])
    assert reasons == [
        "The charge 4500 does not match the price of Basic hosting (5000); only credit and "
        "proration lines may change it."
    ]


def test_credit_and_proration_lines_are_the_documented_exceptions() -> None:
    lines = (line(5000), line(800, "Proration: upgrade for 10 days"), line(-1200, CREDIT_LINE))
    assert check_invoice(invoice(*lines), plan(), []) == []


def test_credit_must_be_negative_and_only_credit_may_be() -> None:
    reasons = check_invoice(invoice(line(5000), line(100, CREDIT_LINE)), plan(), [])
    assert "Line 'Credit applied' must be negative (credit)." in reasons
    reasons = check_invoice(invoice(line(5000), line(-100, "Discount")), plan(), [])
    assert "Line 'Discount' is negative but is not a 'Credit applied' line." in reasons


def test_credit_may_not_take_the_total_below_zero() -> None:
    reasons = check_invoice(invoice(line(5000), line(-6000, CREDIT_LINE)), plan(), [])
    assert reasons == ["The total is negative: credit beyond the charges stays on the account."]


def test_the_plan_check_applies_to_renewals_only() -> None:
    fee = invoice(line(100, "Late fee: invoice #1 was due on 2026-04-16"), kind="late_fee")
    assert check_invoice(fee, None, []) == []
    assert check_invoice(invoice(line(5000)), None, []) == [
        "A renewal invoice must belong to a subscription with a plan."
    ]


@pytest.mark.parametrize(
    ("invoice_currency", "customer_currency", "plan_currency", "expected"),
    [
        ("USD", "BRL", "USD", ["The invoice is in USD; the customer pays in BRL."]),
        ("BRL", "BRL", "USD", ["The plan Basic hosting is priced in USD, not BRL."]),
        ("BRL", "BRL", "BRL", []),
    ],
)
def test_currencies_are_consistent(
    invoice_currency: str, customer_currency: str, plan_currency: str, expected: list[str]
) -> None:
    checked = invoice(
        line(5000), currency=invoice_currency, customer=customer(currency=customer_currency)
    )
    assert check_invoice(checked, plan(currency=plan_currency), []) == expected


def test_a_deliverable_contact_is_needed() -> None:
    nobody = customer(email="contas at loja")
    nobody.contacts = [Contact(name="Rui", email="rui@loja.example", receives_invoices=False),
                       Contact(name="Bia", email=None, receives_invoices=True)]  # fmt: skip
    reasons = check_invoice(invoice(line(5000), customer=nobody), plan(), [])
    assert len(reasons) == 1 and reasons[0].startswith("No deliverable contact")
    nobody.contacts.append(Contact(name="Caio", email="caio@loja.example", receives_invoices=True))
    assert check_invoice(invoice(line(5000), customer=nobody), plan(), []) == []
    assert deliverable_address(nobody) == "caio@loja.example"
    assert deliverable_address(customer()) == "ana@loja.example"


@pytest.mark.parametrize(
    ("address", "valid"),
    [("ana@loja.example", True), ("ana@", False), ("", False), (None, False), ("a b@c.d", False)],
)
def test_email_addresses(address: str | None, valid: bool) -> None:
    assert is_email(address) is valid


def test_no_second_invoice_for_the_same_period() -> None:
    first = invoice(line(5000), id=9, number=4, status="issued")
    reasons = check_invoice(invoice(line(5000)), plan(), [first])
    assert reasons == ["Invoice #4 already bills this subscription for 2026-04-16 to 2026-05-16."]


def test_an_overlapping_renewal_is_a_duplicate_too() -> None:
    overlapping = invoice(
        line(5000), id=9, status="held", period_start=date(2026, 5, 1), period_end=date(2026, 6, 1)
    )
    reasons = check_invoice(invoice(line(5000)), plan(), [overlapping])
    assert reasons == [
        "Invoice (id 9, held) already bills this subscription for 2026-05-01 to 2026-06-01."
    ]


@pytest.mark.parametrize(
    "other",
    [
        {"id": 9, "status": "void"},
        {"id": 9, "status": "issued", "kind": "proration"},
        {"id": 9, "status": "issued", "subscription_id": 4},
        {"id": 9, "status": "issued", "period_start": END, "period_end": date(2026, 6, 16)},
        {"id": 10, "status": "issued"},
    ],
)
def test_what_is_not_a_duplicate(other: dict[str, Any]) -> None:
    """Void invoices, other kinds, other subscriptions, the next period, the invoice itself."""
    assert check_invoice(invoice(line(5000)), plan(), [invoice(line(5000), **other)]) == []


def test_a_renewal_draft_fills_every_column_of_its_invoice_row() -> None:
    subscription = Subscription(id=3, customer_id=1, plan_id=1)
    draft = RenewalDraft(
        customer=customer(),
        subscription=subscription,
        period_start=START,
        period_end=END,
        due_date=START,
        currency="BRL",
        total_minor=5000,
        created_at=datetime(2026, 4, 2, 14, tzinfo=UTC),
        lines=[DraftLine("Basic hosting", 1, 5000, 5000)],
    )
    draft.id = 10
    assert set(draft.row()) == set(Invoice.__table__.columns.keys())
    assert [set(row) for row in draft.line_rows()] == [
        set(InvoiceLine.__table__.columns.keys()) - {"id"}
    ]
    assert check_invoice(draft, plan(), []) == []
