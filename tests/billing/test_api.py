"""The billing REST API: roles, CSRF, clear 4xx answers, and each resource end to end."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import select

import services.billing as billing
from services.billing.accounts import next_in_sequence
from services.billing.changes import INVOICE_SEQUENCE
from services.billing.models import Invoice, Subscription
from shared.config import load_settings
from shared.db import Database
from tests.support.staff import StaffSession

# The customers' own date (São Paulo), which billing dates their changes by: after 21:00
# there the server's UTC date is already tomorrow.
TODAY = datetime.now(ZoneInfo("America/Sao_Paulo")).date()
STAFF = {
    "owner": {"id": 1, "name": "Ana", "email": "ana@example.com", "role": "owner"},
    "billing": {"id": 2, "name": "Bia", "email": "bia@example.com", "role": "billing"},
    "agent": {"id": 3, "name": "Caio", "email": "caio@example.com", "role": "agent"},
}


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Flask:
    return billing.create_app(load_settings("billing", env={}, data_dir=tmp_path), database)


class Staff(StaffSession):
    def __init__(self, app: Flask, role: str) -> None:
        super().__init__(app, STAFF[role])


@pytest.fixture
def owner(app: Flask) -> Staff:
    return Staff(app, "owner")


@pytest.fixture
def clerk(app: Flask) -> Staff:
    return Staff(app, "billing")


def created(response: Any) -> Any:
    assert response.status_code == 201, response.json
    return response.json


def customer(staff: Staff, name: str = "Loja Azul", currency: str = "BRL") -> Any:
    email = f"{name.split()[0].lower()}@example.com"
    return created(
        staff.post("/api/customers", {"name": name, "email": email, "currency": currency})
    )


def plan(staff: Staff, code: str = "basic", price: int = 3000, currency: str = "BRL") -> Any:
    body = {"code": code, "name": code.title(), "cycle": "monthly", "price_minor": price}
    return created(staff.post("/api/plans", {**body, "currency": currency}))


def subscription(staff: Staff, customer_id: int, plan_id: int, start: date = TODAY) -> Any:
    body = {"customer_id": customer_id, "plan_id": plan_id, "start": start.isoformat()}
    return created(staff.post("/api/subscriptions", body))


def overdue_invoice(
    database: Database, subscription_id: int, total: int = 3000, days_overdue: int = 10
) -> int:
    """An issued, overdue invoice, with its subscription suspended for non-payment."""
    with database.transaction() as session:
        subscribed = session.get(Subscription, subscription_id)
        assert subscribed is not None
        subscribed.status, subscribed.suspension_reason = "suspended", "non_payment"
        invoice = Invoice(
            number=next_in_sequence(session, INVOICE_SEQUENCE),
            customer_id=subscribed.customer_id,
            subscription_id=subscription_id,
            period_start=TODAY - timedelta(days=days_overdue),
            currency="BRL",
            total_minor=total,
            paid_minor=0,
            status="issued",
            due_date=TODAY - timedelta(days=days_overdue),
        )
        session.add(invoice)
        session.flush()
        return invoice.id


@pytest.mark.parametrize("role", ["owner", "billing"])
def test_owner_and_billing_may_use_the_api(app: Flask, role: str) -> None:
    staff = Staff(app, role)
    assert staff.get("/api/customers").status_code == 200
    assert customer(staff)["name"] == "Loja Azul"


def test_other_staff_get_403_and_strangers_401(app: Flask) -> None:
    agent = Staff(app, "agent")
    for url in ("/api/customers", "/api/invoices", "/api/reports/reserve", "/api/plans"):
        refused = agent.get(url)
        assert refused.status_code == 403 and "billing" in refused.json["message"], url
        stranger: Any = app.test_client().get(url)
        assert stranger.status_code == 401 and stranger.json["error"] == "unauthorized", url
    write = agent.post("/api/customers", {"name": "X", "email": "x@example.com"})
    assert write.status_code == 403


def test_writes_need_the_csrf_token_in_a_header(owner: Staff) -> None:
    body = {"name": "Loja", "email": "loja@example.com"}
    assert owner.client.post("/api/customers", json=body).status_code == 400
    bad = owner.client.post("/api/customers", json=body, headers={"X-CSRFToken": "forged"})
    assert bad.status_code == 400
    assert owner.post("/api/customers", body).status_code == 201


def test_customers_are_created_searched_read_and_updated(owner: Staff) -> None:
    azul = customer(owner, "Loja Azul")
    customer(owner, "Padaria Sol")
    customer(owner, "Oficina 100%")
    assert [c["name"] for c in owner.get("/api/customers?q=azul").json] == ["Loja Azul"]
    assert [c["name"] for c in owner.get("/api/customers?q=PADARIA").json] == ["Padaria Sol"]
    assert [c["name"] for c in owner.get("/api/customers?q=100%25").json] == ["Oficina 100%"]
    assert owner.get("/api/customers?q=%25").json[0]["name"] == "Oficina 100%", "% is literal"
    assert len(owner.get("/api/customers").json) == 3
    read = owner.get(f"/api/customers/{azul['id']}").json
    assert read["timezone"] == "America/Sao_Paulo" and read["currency"] == "BRL"
    updated = owner.patch(f"/api/customers/{azul['id']}", {"language": "es", "managed": True})
    assert updated.status_code == 200
    assert (updated.json["language"], updated.json["managed"], updated.json["name"]) == (
        "es",
        True,
        "Loja Azul",
    )


def test_an_international_domain_is_kept_the_way_dns_knows_it(owner: Staff) -> None:
    made = owner.post("/api/customers", {"name": "Café", "email": "Contato@Café.example"})
    assert created(made)["email"] == "contato@xn--caf-dma.example"


def test_bad_input_gets_a_clear_4xx_never_a_500(owner: Staff) -> None:
    azul = customer(owner)
    basic = plan(owner)
    cases: list[tuple[str, str, dict[str, Any], int, str]] = [
        ("get", "/api/customers/999", {}, 404, "No customer with id 999"),
        ("post", "/api/customers", {"name": "X", "email": "nope"}, 422, "errors"),
        (
            "post",
            "/api/customers",
            {"name": "X", "email": "x@e.com", "timezone": "Mars/Base"},
            422,
            "not a known timezone",
        ),
        (
            "post",
            "/api/customers",
            {"name": "Luísa", "email": "luísa@loja.example"},
            422,
            "non-ASCII letters before the @",
        ),
        (
            "post",
            "/api/plans",
            {"code": "p", "name": "P", "cycle": "monthly", "price_minor": -1},
            422,
            "errors",
        ),
        (
            "post",
            "/api/plans",
            {"code": "p", "name": "P", "cycle": "weekly", "price_minor": 1},
            422,
            "errors",
        ),
        (
            "post",
            "/api/subscriptions",
            {"customer_id": azul["id"], "plan_id": 999},
            404,
            "No plan with id 999",
        ),
        (
            "post",
            "/api/subscriptions",
            {"customer_id": 999, "plan_id": basic["id"]},
            404,
            "No customer with id 999",
        ),
        (
            "post",
            "/api/payments",
            {"customer_id": azul["id"], "amount_minor": -5, "currency": "BRL"},
            422,
            "errors",
        ),
        (
            "post",
            "/api/payments",
            {"customer_id": azul["id"], "amount_minor": 12.5, "currency": "BRL"},
            422,
            "whole number of minor units",
        ),
        (
            "post",
            "/api/payments",
            {"customer_id": azul["id"], "amount_minor": "100", "currency": "BRL"},
            422,
            "whole number of minor units",
        ),
        (
            "post",
            "/api/payments",
            {"customer_id": azul["id"], "amount_minor": True, "currency": "BRL"},
            422,
            "whole number of minor units",
        ),
        (
            "post",
            "/api/payments",
            {"customer_id": azul["id"], "amount_minor": 100, "currency": "USD"},
            422,
            "pays in BRL",
        ),
        (
            "post",
            "/api/payments",
            {"amount_minor": 100, "currency": "BRL"},
            422,
            "Name the invoice_id or the customer_id",
        ),
        (
            "post",
            "/api/payments",
            {"invoice_id": 999, "amount_minor": 100, "currency": "BRL"},
            404,
            "No invoice with id 999",
        ),
        ("get", "/api/invoices?status=lost", {}, 422, "errors"),
        ("get", "/api/invoices/999", {}, 404, "No invoice"),
        ("get", "/api/subscriptions/999", {}, 404, "No subscription"),
    ]
    for method, url, body, status, text in cases:
        response = owner.get(url) if method == "get" else owner.post(url, body)
        assert response.status_code == status, (url, body, response.json)
        assert text in str(response.json), (url, body, response.json)
        assert response.json["message"], (url, body)
    dollars = plan(owner, "usd", 600, "USD")
    wrong_currency = owner.post(
        "/api/subscriptions", {"customer_id": azul["id"], "plan_id": dollars["id"]}
    )
    assert wrong_currency.status_code == 422 and "priced in USD" in wrong_currency.json["message"]


def test_a_payment_is_recorded_with_its_reserve_and_credit(
    owner: Staff, clerk: Staff, database: Database
) -> None:
    azul = customer(owner)
    subscribed = subscription(owner, azul["id"], plan(owner)["id"], TODAY - timedelta(days=40))
    invoice_id = overdue_invoice(database, subscribed["id"])
    body = {"invoice_id": invoice_id, "amount_minor": 3505, "currency": "BRL", "method": "pix"}
    paid = created(clerk.post("/api/payments", body))
    assert (paid["recorded_by"], paid["applied_minor"], paid["credit_minor"]) == (
        "bia@example.com",
        3000,
        505,
    )
    assert paid["reserve_minor"] == 351 and paid["paid_invoice_ids"] == [invoice_id]
    assert paid["reactivated_subscription_ids"] == [subscribed["id"]]
    assert owner.get(f"/api/subscriptions/{subscribed['id']}").json["status"] == "active"
    invoice = owner.get(f"/api/invoices/{invoice_id}").json
    assert (invoice["status"], invoice["balance_minor"]) == ("paid", 0)
    listed = owner.get(f"/api/invoices?customer_id={azul['id']}&status=paid").json
    assert [row["id"] for row in listed] == [invoice_id], listed
    assert owner.get(f"/api/invoices?customer_id={azul['id']}&status=issued").json == []


def test_graces_through_the_api_with_the_owner_s_override(
    owner: Staff, clerk: Staff, database: Database
) -> None:
    azul = customer(owner)
    subscribed = subscription(owner, azul["id"], plan(owner)["id"], TODAY - timedelta(days=40))
    overdue_invoice(database, subscribed["id"])
    url = f"/api/subscriptions/{subscribed['id']}/graces"
    pay_by = (TODAY + timedelta(days=5)).isoformat()
    first = clerk.post(url, {"pay_by": pay_by})
    assert first.status_code == 200 and first.json["granted"] and first.json["pay_by"] == pay_by
    overdue_invoice(database, subscribed["id"], days_overdue=3)  # suspended again
    second = clerk.post(url, {"pay_by": pay_by})
    assert second.status_code == 200 and not second.json["granted"]
    assert "already had its one grace" in second.json["message"]
    assert second.json["first_grace_on"] == TODAY.isoformat()
    not_owner = clerk.post(url, {"pay_by": pay_by, "owner_override": True, "note": "please"})
    assert not_owner.status_code == 422 and "Only the owner" in not_owner.json["message"]
    no_note = owner.post(url, {"pay_by": pay_by, "owner_override": True})
    assert no_note.status_code == 422 and "note" in no_note.json["message"]
    too_far = owner.post(url, {"pay_by": (TODAY + timedelta(days=16)).isoformat()})
    assert too_far.status_code == 422 and "at most 15 days" in too_far.json["message"]
    overridden = owner.post(url, {"pay_by": pay_by, "owner_override": True, "note": "Flood."})
    assert overridden.status_code == 200 and overridden.json["granted"]


def test_plan_changes_and_cancellation_through_the_api(owner: Staff, database: Database) -> None:
    azul = customer(owner)
    basic, pro = plan(owner, "basic", 3000), plan(owner, "pro", 6000)
    subscribed = subscription(owner, azul["id"], basic["id"])
    change = owner.post(
        f"/api/subscriptions/{subscribed['id']}/plan-change", {"plan_id": pro["id"]}
    )
    assert change.status_code == 200 and change.json["direction"] == "upgrade"
    assert change.json["amount_minor"] == 3000, "the whole period remains on its first day"
    assert change.json["subscription"]["plan_name"] == "Pro"
    with database.transaction() as session:
        proration = session.execute(select(Invoice)).scalar_one()
        assert proration.kind == "proration" and proration.number == 1
    cancel_url = f"/api/subscriptions/{subscribed['id']}/cancellation"
    assert owner.post(cancel_url, {}).status_code == 422, "the reason is required"
    cancelled = owner.post(cancel_url, {"reason": "Too expensive"})
    assert cancelled.status_code == 200 and cancelled.json["at_period_end"] is True
    assert cancelled.json["subscription"]["status"] == "pending_cancellation"
    assert cancelled.json["effective_on"] == subscribed["current_period_end"]


def test_the_reserve_report_sums_per_currency(owner: Staff, database: Database) -> None:
    azul = customer(owner)
    subscribed = subscription(owner, azul["id"], plan(owner)["id"], TODAY - timedelta(days=40))
    overdue_invoice(database, subscribed["id"], total=3000)
    overdue_invoice(database, subscribed["id"], total=2000, days_overdue=3)
    body = {"customer_id": azul["id"], "amount_minor": 1005, "currency": "BRL"}
    created(owner.post("/api/payments", body))
    report = owner.get("/api/reports/reserve").json
    assert report["as_of"] == TODAY.isoformat()
    assert report["currencies"] == [
        {
            "currency": "BRL",
            "revenue_minor": 1005,
            "reserve_minor": 101,
            "outstanding_minor": 3995,
            "overdue_minor": 3995,
            "credit_minor": 0,
        }
    ]
    earlier = owner.get(f"/api/reports/reserve?as_of={(TODAY - timedelta(days=30)).isoformat()}")
    assert earlier.json["currencies"][0]["overdue_minor"] == 0


def test_the_openapi_document_describes_the_api(app: Flask) -> None:
    document: Any = app.test_client().get("/api/openapi.json")
    assert document.status_code == 200
    paths = document.json["paths"]
    for path in (
        "/api/customers",
        "/api/customers/{customer_id}",
        "/api/plans",
        "/api/subscriptions/{subscription_id}/graces",
        "/api/invoices",
        "/api/payments",
        "/api/reports/reserve",
        "/api/webhooks/payments",
    ):
        assert path in paths, path
    assert "PaymentIn" in document.json["components"]["schemas"]


def test_the_billing_page_keeps_its_html_error_pages(app: Flask) -> None:
    page = Staff(app, "agent").get("/", headers={"Accept": "text/html"})
    assert page.status_code == 403 and "needs one of the roles" in page.text
    assert "<html" in page.text.lower()
    assert (
        Staff(app, "billing").get("/customers", headers={"Accept": "text/html"}).status_code == 200
    )
