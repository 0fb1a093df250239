"""Billing's staff pages: the customer's account, forms that act on it, boards and the report."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select
from wtforms.fields.core import UnboundField

from services.billing.accounts import CustomerDetails, create_customer, next_in_sequence
from services.billing.catalog import create_plan, subscribe
from services.billing.changes import INVOICE_SEQUENCE
from services.billing.forms import (
    PAYMENT_METHODS,
    CancellationForm,
    CustomerForm,
    GraceForm,
    PaymentForm,
    SubscriptionForm,
    parse_amount,
)
from services.billing.models import (
    CYCLES,
    INVOICE_STATUSES,
    SUBSCRIPTION_STATUSES,
    Invoice,
    InvoiceLine,
    Payment,
    ReserveEntry,
    Subscription,
)
from services.billing.staff_words import WORDS
from shared.db import Database
from tests.billing.test_api import Staff

# The customers' own date (São Paulo), which billing dates their changes by: after 21:00
# there the server's UTC date is already tomorrow.
TODAY = datetime.now(ZoneInfo("America/Sao_Paulo")).date()


@pytest.fixture
def suspended_customer(database: Database) -> int:
    """Marta, whose hosting is suspended over an invoice 10 days overdue."""
    with database.transaction() as session:
        customer = create_customer(
            session, CustomerDetails("Marta Lima", "marta@example.com", language="pt-BR")
        )
        plan = create_plan(session, "basic", "Hosting Basic", "monthly", 4990)
        subscription = subscribe(session, customer.id, plan.id, TODAY - timedelta(days=40))
        invoice = Invoice(
            number=next_in_sequence(session, INVOICE_SEQUENCE),
            customer_id=customer.id,
            subscription_id=subscription.id,
            period_start=TODAY - timedelta(days=10),
            period_end=TODAY + timedelta(days=20),
            currency="BRL",
            total_minor=4990,
            status="issued",
            due_date=TODAY - timedelta(days=10),
            issued_at=datetime.now(UTC) - timedelta(days=24),
            lines=[InvoiceLine(description="Hosting Basic", unit_minor=4990, amount_minor=4990)],
        )
        session.add(invoice)
        subscription.status = "suspended"
        subscription.suspension_reason = "non_payment"
        return customer.id


def token_of(page: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match
    return match.group(1)


def test_amounts_are_read_the_way_staff_type_them() -> None:
    assert parse_amount("49.90") == 4990
    assert parse_amount("1.234,56") == 123456
    assert parse_amount("10,5") == 1050
    for bad in ("-5", "0", "abc", "1.001"):
        with pytest.raises(ValueError):
            parse_amount(bad)


def test_customers_are_found_by_name_or_email(app: Flask, suspended_customer: int) -> None:
    staff = Staff(app, "billing")
    assert "Marta Lima" in staff.get("/customers?q=marta@").text
    assert "No customer matches" in staff.get("/customers?q=nobody").text
    assert Staff(app, "agent").get("/customers", headers={"Accept": "text/html"}).status_code == 403


def test_a_payment_typed_wrong_is_refused_with_a_message(
    app: Flask, suspended_customer: int
) -> None:
    staff = Staff(app, "billing")
    page = staff.get(f"/customers/{suspended_customer}").text
    response = staff.client.post(
        f"/customers/{suspended_customer}/payments",
        data={"csrf_token": token_of(page), "amount": "-10", "invoice_id": "0", "method": "pix"},
    )
    assert response.status_code == 400 and "more than zero" in response.text


def test_paying_lifts_the_suspension_and_books_the_reserve(
    app: Flask, database: Database, suspended_customer: int
) -> None:
    staff = Staff(app, "billing")
    page = staff.get(f"/customers/{suspended_customer}").text
    assert "suspended" in page and "non payment" in page
    response = staff.client.post(
        f"/customers/{suspended_customer}/payments",
        data={"csrf_token": token_of(page), "amount": "49,90", "invoice_id": "0", "method": "pix"},
        follow_redirects=True,
    )
    assert "Payment of BRL 49.90 recorded; BRL 4.99 to the reserve." in response.text
    with database.transaction() as session:
        assert session.execute(select(Subscription.status)).scalar_one() == "active"
        assert session.execute(select(Payment.recorded_by)).scalar_one() == "bia@example.com"
        assert session.execute(select(ReserveEntry.amount_minor)).scalar_one() == 499
    assert "(automatic)" in response.text, "the timeline says what happened and why"


def test_the_one_time_grace_is_granted_once_then_refused(
    app: Flask, database: Database, suspended_customer: int
) -> None:
    staff = Staff(app, "billing")
    pay_by = (TODAY + timedelta(days=10)).isoformat()

    def ask() -> str:
        page = staff.get(f"/customers/{suspended_customer}").text
        return staff.client.post(
            f"/customers/{suspended_customer}/graces",
            data={"csrf_token": token_of(page), "subscription_id": "1", "pay_by": pay_by},
            follow_redirects=True,
        ).text

    assert "Grace granted" in ask()
    assert "One-time grace used on" in staff.get(f"/customers/{suspended_customer}").text
    with database.transaction() as session:  # the customer misses the promised date again
        subscription = session.execute(select(Subscription)).scalar_one()
        subscription.status, subscription.suspension_reason = "suspended", "non_payment"
    assert "Grace refused" in ask()


def test_boards_and_the_reserve_report(app: Flask, suspended_customer: int) -> None:
    staff = Staff(app, "owner")
    overdue = staff.get("/overdue").text
    assert "Marta Lima" in overdue and ">10<" in overdue
    assert "No invoice is held." in staff.get("/invoices/held").text
    report = staff.get("/reserve").text
    assert "Outstanding" in report and "BRL 49.90" in report and "<svg" in report
    assert staff.get("/reserve?as_of=yesterday").status_code == 400


def test_invoices_read_in_the_customers_language_as_html_and_pdf(
    app: Flask, database: Database, suspended_customer: int
) -> None:
    staff = Staff(app, "billing")
    page = staff.get("/invoices/1")
    assert page.status_code == 200
    assert 'lang="pt-BR"' in page.text and "Fatura número 1" in page.text
    assert "R$\xa049,90" in page.text and "Saldo a pagar" in page.text
    with database.transaction() as session:
        session.execute(select(Invoice)).scalar_one().customer.language = "es"
    spanish = staff.get("/invoices/1").text
    assert "Factura número 1" in spanish and "Vencimiento" in spanish
    pdf = staff.get("/invoices/1.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF") and len(pdf.data) > 1000
    assert staff.get("/invoices/99").status_code == 404


def test_held_invoices_are_checked_again_or_voided_by_staff(
    app: Flask, database: Database, suspended_customer: int
) -> None:
    with database.transaction() as session:
        subscription = session.execute(select(Subscription)).scalar_one()
        for total in (4990, 1):  # the second one's total does not match its line
            session.add(
                Invoice(
                    customer_id=suspended_customer,
                    subscription_id=subscription.id,
                    period_start=subscription.current_period_end + timedelta(days=total),
                    period_end=subscription.current_period_end + timedelta(days=30 + total),
                    currency="BRL",
                    total_minor=total,
                    status="held",
                    hold_reasons='["No deliverable contact for the customer."]',
                    due_date=subscription.current_period_end,
                    lines=[
                        InvoiceLine(description="Hosting Basic", unit_minor=4990, amount_minor=4990)
                    ],
                )
            )
    staff = Staff(app, "billing")
    page = staff.get("/invoices/held").text
    assert page.count("No deliverable contact for the customer.") == 2
    token = token_of(page)
    issued = staff.client.post(
        "/invoices/2/review", data={"csrf_token": token, "action": "recheck"}, follow_redirects=True
    )
    assert "passed its checks and was issued" in issued.text
    still = staff.client.post(
        "/invoices/3/review", data={"csrf_token": token, "action": "recheck"}, follow_redirects=True
    )
    assert "still fails its checks" in still.text
    voided = staff.client.post(
        "/invoices/3/review", data={"csrf_token": token, "action": "void"}, follow_redirects=True
    )
    assert "was voided" in voided.text and "No invoice is held." in voided.text
    assert (
        staff.client.post(
            "/invoices/2/review", data={"csrf_token": token, "action": "void"}
        ).status_code
        == 409
    )
    with database.transaction() as session:
        statuses = dict(session.execute(select(Invoice.id, Invoice.status)).all())
        numbers = dict(session.execute(select(Invoice.id, Invoice.number)).all())
    assert statuses == {1: "issued", 2: "issued", 3: "void"}
    assert numbers[2] == 2, "the next number of the gapless sequence"


def test_settings_show_the_policy_in_force(app: Flask) -> None:
    page = Staff(app, "owner").get("/settings").text
    assert "10% of every payment" in page and "CORTESIA_BILLING_RESERVE_PERCENT" in page
    assert "5 days overdue, in business hours" in page


def test_staff_add_a_customer_and_start_a_subscription(app: Flask, database: Database) -> None:
    with database.transaction() as session:
        create_plan(session, "basic", "Hosting Basic", "monthly", 4990)
        create_plan(session, "usd", "Hosting USD", "monthly", 1000, currency="USD")
    staff = Staff(app, "billing")
    token = token_of(staff.get("/customers").text)
    refused = staff.client.post(
        "/customers",
        data={
            "csrf_token": token,
            "name": "Tienda Sol",
            "email": "hola@sol.example",
            "language": "es",
            "timezone": "Mars/Olympus",
            "currency": "MXN",
        },
    )
    assert refused.status_code == 400 and "is not a timezone" in refused.text
    added = staff.client.post(
        "/customers",
        data={
            "csrf_token": token,
            "name": "Tienda Sol",
            "email": "hola@sol.example",
            "language": "es",
            "timezone": "America/Mexico_City",
            "currency": "BRL",
        },
        follow_redirects=True,
    )
    assert "Customer Tienda Sol added." in added.text
    assert "Hosting USD" not in added.text, "only plans in the customer's currency are offered"
    started = staff.client.post(
        "/customers/1/subscriptions",
        data={
            "csrf_token": token,
            "plan_id": "1",
            "start": TODAY.isoformat(),
        },
        follow_redirects=True,
    )
    assert "Subscription started." in started.text
    with database.transaction() as session:
        subscription = session.execute(select(Subscription)).scalar_one()
        assert subscription.customer.language == "es" and subscription.plan.code == "basic"


HTML = {"Accept": "text/html"}
PORTUGUESE = {**HTML, "Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}


def test_the_pages_speak_the_staff_members_language(
    app: Flask, database: Database, suspended_customer: int
) -> None:
    staff = Staff(app, "owner")
    customers = staff.get("/customers", headers=PORTUGUESE).text
    assert "<h1>Clientes</h1>" in customers and "Faturas retidas" in customers
    assert ">suspensa</span>" in customers, "the status in Portuguese too"
    account = staff.get(f"/customers/{suspended_customer}", headers=PORTUGUESE).text
    assert "suspensa</span> (falta de pagamento)" in account
    assert "emitida (em atraso)" in account and "Hosting Basic (BRL 49.90 mensal)" in account
    assert '<label for="method">Forma de pagamento</label>' in account
    assert ">Transferência bancária</option>" in account and "Reativar com carência" in account
    overdue = staff.get("/overdue", headers=PORTUGUESE).text
    assert "Faturas em atraso" in overdue and "Dias de atraso" in overdue
    assert "Nenhuma fatura retida." in staff.get("/invoices/held", headers=PORTUGUESE).text
    reserve = staff.get("/reserve", headers=PORTUGUESE).text
    assert "Relatório da reserva" in reserve and "A receber" in reserve
    assert 'aria-label="Receita e reserva por mês, BRL"' in reserve
    settings = staff.get("/settings", headers=PORTUGUESE).text
    assert "10% de cada pagamento" in settings and "com 5 dias de atraso" in settings
    assert "Overdue invoices" in staff.get("/overdue", headers=HTML).text, "English by default"
    assert "Overdue invoices" in staff.get("/overdue").text


def test_an_invoice_keeps_the_customers_language_whatever_the_staff_members(
    app: Flask, database: Database, suspended_customer: int
) -> None:
    with database.transaction() as session:
        session.execute(select(Invoice)).scalar_one().customer.language = "es"
    invoice = Staff(app, "billing").get("/invoices/1", headers=PORTUGUESE).text
    assert 'lang="es"' in invoice and "Factura número 1" in invoice


def test_the_views_messages_and_the_forms_errors_speak_it_too(
    app: Flask, suspended_customer: int
) -> None:
    staff = Staff(app, "billing")
    account = f"/customers/{suspended_customer}"
    token = token_of(staff.get(account).text)
    payment = {"csrf_token": token, "invoice_id": "0", "method": "pix"}
    refused = staff.client.post(
        f"{account}/payments", data={**payment, "amount": "-10"}, headers=PORTUGUESE
    )
    assert refused.status_code == 400 and "O valor deve ser maior que zero." in refused.text
    no_reason = staff.client.post(
        f"{account}/cancellations",
        data={"csrf_token": token, "subscription_id": "1", "when": "now", "reason": ""},
        headers=PORTUGUESE,
    )
    assert no_reason.status_code == 400 and "Preencha este campo." in no_reason.text
    paid = staff.client.post(
        f"{account}/payments",
        data={**payment, "amount": "49,90"},
        headers=PORTUGUESE,
        follow_redirects=True,
    )
    assert "Pagamento de BRL 49.90 registrado; BRL 4.99 para a reserva." in paid.text
    assert "BRL 49.90 via PIX (registrado por bia@example.com)" in paid.text
    missing = staff.get("/invoices/99", headers=PORTUGUESE)
    assert missing.status_code == 404 and "Nenhuma fatura com o id 99." in missing.text


def test_every_word_billing_shows_is_there_in_both_languages() -> None:
    english, portuguese = WORDS["en"], WORDS["pt-BR"]
    assert set(english) <= set(portuguese), sorted(set(english) - set(portuguese))
    for key, text in english.items():
        placeholders = set(re.findall(r"{(\w+)}", text))
        assert placeholders == set(re.findall(r"{(\w+)}", portuguese[key])), key
    forms = (CustomerForm, SubscriptionForm, PaymentForm, GraceForm, CancellationForm)
    fields = {
        name
        for form in forms
        for name, value in vars(form).items()
        if isinstance(value, UnboundField)
    }
    assert "pay_by" in fields and {f"field.{name}" for name in fields} <= set(english)
    shown = {
        "status": (*SUBSCRIPTION_STATUSES, *INVOICE_STATUSES),
        "cycle": tuple(CYCLES),
        "paid_by": PAYMENT_METHODS,
        "kind": ("renewal", "proration", "late_fee"),
        "reason": ("non_payment",),
    }
    for group, values in shown.items():
        for value in values:
            assert f"{group}.{value}" in portuguese, f"{group}.{value}"
