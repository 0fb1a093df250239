"""The gateway webhook: a signed delivery records a payment once; unproven ones change nothing."""

from __future__ import annotations

import json
import threading
import time
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

import services.billing as billing
from services.billing.accounts import CustomerDetails, create_customer, next_in_sequence
from services.billing.catalog import create_plan, subscribe
from services.billing.changes import INVOICE_SEQUENCE
from services.billing.models import Invoice, Payment, ReserveEntry
from services.billing.webhook import (
    SECRET_VARIABLE,
    SIGNATURE_HEADER,
    SignatureError,
    handle_delivery,
    sign,
    verify,
)
from shared.bus.tables import outbox
from shared.config import load_settings
from shared.db import Database
from shared.migrations import upgrade

SECRET = "whsec_test_0123456789abcdef0123456789"
URL = "/api/webhooks/payments"


def migrated(url: str) -> Database:
    upgrade(billing.MIGRATIONS, url)
    return Database(url)


def build_app(tmp_path: Path, database: Database) -> Flask:
    settings = load_settings("billing", env={}, data_dir=tmp_path)
    return billing.create_app(settings, database)


@pytest.fixture
def database(tmp_path: Path) -> Database:
    return migrated(f"sqlite:///{tmp_path / 'billing.sqlite3'}")


@pytest.fixture
def client(tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch) -> FlaskClient:
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    return build_app(tmp_path, database).test_client()


def open_invoice(database: Database, total: int = 5000) -> int:
    with database.transaction() as session:
        customer = create_customer(session, CustomerDetails(name="Loja", email="c@loja.example"))
        plan = create_plan(session, "basic", "Basic", "monthly", total)
        subscription = subscribe(session, customer.id, plan.id, date(2026, 3, 1))
        invoice = Invoice(
            number=next_in_sequence(session, INVOICE_SEQUENCE),
            customer_id=customer.id,
            subscription_id=subscription.id,
            period_start=date(2026, 4, 1),
            currency="BRL",
            total_minor=total,
            paid_minor=0,
            status="issued",
            due_date=date(2026, 4, 1),
        )
        session.add(invoice)
        session.flush()
        return invoice.id


def body_for(invoice_id: int, transaction: str = "tx-1001", amount: int = 5000) -> bytes:
    return json.dumps(
        {
            "transaction_id": transaction,
            "invoice_id": invoice_id,
            "amount_minor": amount,
            "currency": "BRL",
        }
    ).encode()


def deliver(
    client: FlaskClient, raw: bytes, *, at: float | None = None, secret: str = SECRET
) -> Any:
    header = sign(secret, raw, int(time.time() if at is None else at))
    return client.post(
        URL, data=raw, headers={SIGNATURE_HEADER: header, "Content-Type": "application/json"}
    )


def state(database: Database) -> tuple[int, int, int, int]:
    """Payments, reserve entries, outbox rows and the invoice's paid amount."""
    with database.transaction() as session:
        return (
            session.scalar(select(func.count()).select_from(Payment)) or 0,
            session.scalar(select(func.count()).select_from(ReserveEntry)) or 0,
            session.scalar(select(func.count()).select_from(outbox)) or 0,
            session.scalar(select(func.coalesce(func.sum(Invoice.paid_minor), 0))) or 0,
        )


def test_a_signed_delivery_records_the_payment_once(
    client: FlaskClient, database: Database
) -> None:
    raw = body_for(open_invoice(database))
    first = deliver(client, raw)
    assert first.status_code == 200 and first.json["status"] == "recorded"
    recorded = state(database)
    assert recorded[0] == 1 and recorded[1] == 1 and recorded[3] == 5000
    with database.transaction() as session:
        payment = session.execute(select(Payment)).scalar_one()
        assert (payment.method, payment.gateway_transaction_id) == ("gateway", "tx-1001")
        assert payment.recorded_by is None
        assert session.execute(select(Invoice.status)).scalar_one() == "paid"
    replay = deliver(client, raw)
    assert replay.status_code == 200 and replay.json["status"] == "already recorded"
    assert replay.json["payment_id"] == first.json["payment_id"]
    assert state(database) == recorded, "a replay changes nothing"


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda h: h[:-1] + ("0" if h[-1] != "0" else "1"), id="one-hex-digit"),
        pytest.param(lambda h: h.split(",")[0], id="no-v1"),
        pytest.param(lambda h: "v1=" + h.split("v1=")[1], id="no-timestamp"),
        pytest.param(lambda h: "t=abc," + h.split(",")[1], id="bad-timestamp"),
        pytest.param(lambda h: "", id="empty"),
    ],
)
def test_a_bad_signature_gets_401_and_changes_nothing(
    client: FlaskClient, database: Database, tamper: Any
) -> None:
    raw = body_for(open_invoice(database))
    before = state(database)
    header = tamper(sign(SECRET, raw, int(time.time())))
    response: Any = client.post(URL, data=raw, headers={SIGNATURE_HEADER: header})
    assert response.status_code == 401 and response.json["error"] == "invalid signature"
    assert state(database) == before


def test_a_missing_signature_or_another_secret_gets_401(
    client: FlaskClient, database: Database
) -> None:
    raw = body_for(open_invoice(database))
    before = state(database)
    missing: Any = client.post(URL, data=raw)
    assert missing.status_code == 401 and SIGNATURE_HEADER in missing.json["message"]
    assert deliver(client, raw, secret="another secret entirely").status_code == 401
    assert state(database) == before


@pytest.mark.parametrize("skew", [-301, 301, -3600])
def test_a_stale_or_future_timestamp_gets_401(
    client: FlaskClient, database: Database, skew: int
) -> None:
    raw = body_for(open_invoice(database))
    before = state(database)
    response = deliver(client, raw, at=time.time() + skew)
    assert response.status_code == 401 and "300 seconds" in response.json["message"]
    assert state(database) == before


def test_a_body_changed_after_signing_gets_401(client: FlaskClient, database: Database) -> None:
    raw = body_for(open_invoice(database), amount=100)
    header = sign(SECRET, raw, int(time.time()))
    tampered = raw.replace(b'"amount_minor": 100', b'"amount_minor": 5000')
    assert tampered != raw
    before = state(database)
    response = client.post(URL, data=tampered, headers={SIGNATURE_HEADER: header})
    assert response.status_code == 401
    # Re-serialised JSON with the same meaning is not the signed bytes either.
    reformatted = json.dumps(json.loads(raw), separators=(",", ":")).encode()
    assert client.post(URL, data=reformatted, headers={SIGNATURE_HEADER: header}).status_code == 401
    assert state(database) == before


def test_without_a_secret_the_endpoint_answers_503(
    tmp_path: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_VARIABLE, raising=False)
    client = build_app(tmp_path, database).test_client()
    raw = body_for(open_invoice(database))
    response = deliver(client, raw)
    assert response.status_code == 503 and SECRET_VARIABLE in response.json["message"]
    assert state(database)[0] == 0


def test_signed_but_unusable_payments_get_a_clear_4xx(
    client: FlaskClient, database: Database
) -> None:
    invoice_id = open_invoice(database)
    cases = {
        b"not json": 400,
        json.dumps({"transaction_id": "t1", "amount_minor": 5000, "currency": "BRL"}).encode(): 400,
        body_for(invoice_id, amount=-5): 400,
        json.dumps(
            {
                "transaction_id": "t2",
                "invoice_id": invoice_id,
                "amount_minor": 10.5,
                "currency": "BRL",
            }
        ).encode(): 400,
        body_for(999_999): 404,
        json.dumps(
            {
                "transaction_id": "t3",
                "invoice_id": invoice_id,
                "amount_minor": 50,
                "currency": "USD",
            }
        ).encode(): 422,
    }
    for raw, status in cases.items():
        response = deliver(client, raw)
        assert response.status_code == status, raw
        assert response.json["message"], raw
    assert state(database)[0] == 0


def test_rotating_secrets_accepts_any_listed_signature() -> None:
    raw = b'{"a": 1}'
    now = 1_800_000_000
    old = sign("old secret", raw, now).split("v1=")[1]
    header = sign(SECRET, raw, now) + f",v1={old}"
    verify("old secret", header, raw, now=now)
    verify(SECRET, header, raw, now=now + 300)
    with pytest.raises(SignatureError, match="does not match"):
        verify("third secret", header, raw, now=now)
    with pytest.raises(SignatureError, match="300 seconds"):
        verify(SECRET, header, raw, now=now + 301)


def test_the_webhook_needs_no_session_or_csrf_token_but_staff_apis_do(
    client: FlaskClient, database: Database
) -> None:
    raw = body_for(open_invoice(database))
    assert deliver(client, raw).status_code == 200
    assert client.post("/api/payments", json={}).status_code == 400, "CSRF still guards the API"


@pytest.mark.postgres
def test_webhook_and_payment_on_postgresql(
    postgres_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    database = migrated(postgres_url)
    monkeypatch.setenv(SECRET_VARIABLE, SECRET)
    client = build_app(tmp_path, database).test_client()
    invoice_id = open_invoice(database, total=10_005)
    partial = deliver(client, body_for(invoice_id, "pg-1", 5_000))
    assert partial.status_code == 200
    rest = body_for(invoice_id, "pg-2", 6_000)
    assert deliver(client, rest).json["credit_minor"] == 995
    assert deliver(client, rest).json["status"] == "already recorded"
    with database.transaction() as session:
        invoice = session.get(Invoice, invoice_id)
        assert invoice is not None and invoice.status == "paid" and invoice.paid_minor == 10_005
        reserves = session.execute(select(ReserveEntry.amount_minor)).scalars().all()
        assert sorted(reserves) == [500, 600]
        types = session.execute(select(outbox.c.event_type)).scalars().all()
        assert types.count("billing.payment_received.v1") == 2
        assert types.count("billing.invoice_paid.v1") == 1
    _racing_deliveries_record_one_payment(database, invoice_id)
    database.dispose()


def _racing_deliveries_record_one_payment(database: Database, invoice_id: int) -> None:
    """Two deliveries of one transaction at the same moment: the unique key decides."""
    raw = body_for(invoice_id, "pg-race", 700)
    header = sign(SECRET, raw, int(time.time()))
    start = threading.Barrier(4)
    answers: list[Any] = []

    def post() -> None:
        start.wait()
        answers.append(handle_delivery(database, SECRET, header, raw, reserve_percent=10))

    threads = [threading.Thread(target=post) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answer.body["status"] for answer in answers) == [
        "already recorded",
        "already recorded",
        "already recorded",
        "recorded",
    ]
    with database.transaction() as session:
        race = select(func.count()).where(Payment.gateway_transaction_id == "pg-race")
        assert session.scalar(race) == 1
