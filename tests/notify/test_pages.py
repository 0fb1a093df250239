"""Notify's pages and API: the delivery log and sending again, the template editor with its
preview, duty hours, and the customers' own preferences and unsubscribe links."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import services.notify as notify
from services.notify.directory import on_duty
from services.notify.models import CustomerContact, Notification
from shared import clock
from shared.config import load_settings
from shared.db import Database
from tests.notify.conftest import CONFIG, deliver, edit_template_unchecked
from tests.notify.test_delivery import SAO_PAULO_NIGHT, SAO_PAULO_NOON, customer, hire, invoice
from tests.support.staff import StaffSession

OWNER = {"id": 1, "name": "Ana", "email": "ana@cortesia.example", "role": "owner"}
AGENT = {"id": 2, "name": "Bia", "email": "bia@cortesia.example", "role": "agent"}
TRAINEE = {"id": 3, "name": "Duda", "email": "duda@cortesia.example", "role": "trainee"}
HTML = {"Accept": "text/html"}


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Flask:
    return notify.create_app(load_settings("notify", env={}, data_dir=tmp_path), database)


def carla(database: Database, **extra: object) -> CustomerContact:
    who = customer(5, "Carla Dias", "carla@loja.example", "es", timezone="Europe/Madrid")
    deliver(
        database,
        "billing.customer_created.v1",
        {**who, "currency": "EUR", "managed": True},
        SAO_PAULO_NOON,
    )
    with database.transaction() as session:
        contact = session.get(CustomerContact, 5)
        assert contact is not None
        for name, value in extra.items():
            setattr(contact, name, value)
        return contact


def invoice_ana(database: Database, at: datetime) -> None:
    """Billing issues Ana Souza's invoice at ``at``."""
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(customer(7, "Ana Souza", "ana@padaria.example"), 1, 990),
        at,
    )


def test_the_delivery_log_finds_messages_and_shows_their_steps(
    app: Flask, database: Database
) -> None:
    invoice_ana(database, SAO_PAULO_NOON)
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(customer(8, "Beto Lima", "beto@oficina.example"), 2, 990),
        SAO_PAULO_NOON,
    )
    agent = StaffSession(app, AGENT)
    page = agent.get("/?q=padaria", headers=HTML)
    assert page.status_code == 200 and "ana@padaria.example" in page.text
    assert "beto@oficina.example" not in page.text
    assert agent.get("/?status=lost", headers=HTML).status_code == 400
    assert agent.get("/?since=yesterday", headers=HTML).status_code == 400

    found = agent.get("/api/notifications?q=oficina").get_json()
    assert found["total"] == 1 and found["notifications"][0]["address"] == "beto@oficina.example"
    # Moments carry their offset, SQLite's naive ones too: a client reads them unambiguously.
    moments = found["notifications"][0]
    assert datetime.fromisoformat(moments["held_until"]) == SAO_PAULO_NOON
    assert datetime.fromisoformat(moments["created_at"]).utcoffset() is not None
    one = agent.get(f"/api/notifications/{found['notifications'][0]['id']}").get_json()
    assert one["status"] == "queued" and one["steps"][0]["status"] == "queued"
    assert "Beto" in one["text"]
    assert agent.get("/api/notifications/999").status_code == 404
    assert agent.get("/api/notifications?status=lost").status_code == 422
    detail = agent.get(f"/notifications/{one['id']}", headers=HTML)
    assert detail.status_code == 200 and "srcdoc" in detail.text
    assert StaffSession(app, TRAINEE).get("/", headers=HTML).status_code == 403


def test_the_delivery_log_reads_days_and_times_on_the_company_clock(
    app: Flask, database: Database
) -> None:
    # Wednesday 23:00 in São Paulo is already Thursday in UTC.
    clock.travel(SAO_PAULO_NIGHT)
    try:
        invoice_ana(database, SAO_PAULO_NIGHT)
    finally:
        clock.travel(None)
    agent = StaffSession(app, AGENT)
    wednesday = agent.get("/?since=2026-12-02&until=2026-12-02", headers=HTML)
    assert "ana@padaria.example" in wednesday.text
    assert "held until 03/12/2026 10:00" in wednesday.text, "the opening, on São Paulo's clock"
    assert "ana@padaria.example" not in agent.get("/?since=2026-12-03", headers=HTML).text
    found = agent.get("/api/notifications?since=2026-12-02&until=2026-12-02").get_json()
    assert found["total"] == 1
    detail = agent.get(f"/notifications/{found['notifications'][0]['id']}", headers=HTML)
    assert "02/12/2026 23:00" in detail.text, "its first step, when it happened there"


def test_a_parked_message_is_sent_again_once_its_template_is_fixed(
    app: Flask, database: Database
) -> None:
    owner = StaffSession(app, OWNER)
    broken = {"subject": "Fatura", "text": "Olá {{ data.nothing_here }}", "html": None}
    refused = owner.send("PUT", "/api/templates/invoice_issued/email/pt-BR", broken)
    assert refused.status_code == 422 and "nothing_here" in refused.get_json()["message"]

    # An edit that bypassed the checks still cannot send half a message: it parks it.
    edit_template_unchecked(database, "invoice_issued", "pt-BR", "Olá {{ data.nothing_here }}")
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(customer(7, "Ana", "ana@x.example"), 1, 990),
        SAO_PAULO_NOON,
    )
    with database.transaction() as session:
        parked = session.execute(select(Notification)).scalar_one()
        assert parked.status == "parked"
    again = owner.post(f"/api/notifications/{parked.id}/retry", {})
    assert again.status_code == 409 and "still cannot be written" in again.get_json()["message"]
    fixed = {
        "subject": "Fatura {{ data.invoice_number }}",
        "text": "Olá {{ recipient.name }}",
        "html": None,
    }
    assert owner.send("PUT", "/api/templates/invoice_issued/email/pt-BR", fixed).status_code == 200
    queued = owner.post(f"/api/notifications/{parked.id}/retry", {})
    assert queued.status_code == 200 and queued.get_json()["status"] == "queued"
    assert queued.get_json()["subject"] == "Fatura 1001"
    assert owner.post(f"/api/notifications/{parked.id}/retry", {}).status_code == 409, "not twice"


def test_the_owner_edits_a_template_with_a_live_preview(app: Flask) -> None:
    owner, agent = StaffSession(app, OWNER), StaffSession(app, AGENT)
    page = owner.get("/templates/invoice_issued/email/es", headers=HTML)
    assert page.status_code == 200 and "Preview on sample data" in page.text
    assert "Su factura" in page.text, "the preview is the Spanish text on the sample invoice"
    assert owner.get("/templates/no_such_kind/email/es", headers=HTML).status_code == 404
    assert owner.get("/templates/invoice_issued/sms/es", headers=HTML).status_code == 404

    form = {
        "subject": "Factura {{ data.invoice_number }}",
        "text": "Hola {{ recipient.name }}",
        "csrf_token": owner.token,
    }
    preview = owner.client.post("/templates/invoice_issued/email/es/preview", data=form)
    assert preview.status_code == 200 and preview.get_json()["subject"].startswith("Factura ")
    bad = owner.client.post(
        "/templates/invoice_issued/email/es/preview", data={**form, "text": "{% if %}"}
    )
    assert bad.status_code == 422 and "invoice_issued email es" in bad.get_json()["error"]

    assert (
        agent.client.post(
            "/templates/invoice_issued/email/es", data={**form, "csrf_token": agent.token}
        ).status_code
        == 403
    )
    refused = owner.client.post(
        "/templates/invoice_issued/email/es", data={**form, "text": "Hola {{ nope }}"}
    )
    assert refused.status_code == 422 and "nope" in refused.text
    saved = owner.client.post("/templates/invoice_issued/email/es", data=form)
    assert saved.status_code == 303
    assert owner.get("/api/templates/invoice_issued/email/es").get_json()["edited"] is True
    listing = owner.get("/templates", headers=HTML)
    assert "(edited)" in listing.text
    assert owner.send("DELETE", "/api/templates/invoice_issued/email/es", None).status_code == 204
    assert owner.get("/api/templates/invoice_issued/email/es").get_json()["edited"] is False
    kinds = owner.get("/api/templates").get_json()
    assert {"invoice_issued", "alert_emergency", "periodic_report"} <= {k["kind"] for k in kinds}


def test_customers_choose_channels_and_unsubscribe_with_one_click(
    app: Flask, database: Database
) -> None:
    contact = carla(database)
    visitor = app.test_client()
    page = visitor.get(f"/preferences/{contact.token}")
    assert page.status_code == 200 and "Sus mensajes" in page.text
    assert visitor.get("/preferences/not-a-token").status_code == 404

    token = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    refused = visitor.post(
        f"/preferences/{contact.token}",
        data={"csrf_token": token, "channels": "sms", "phone": "612 34 56"},
    )
    assert refused.status_code == 422 and "+5511912345678" in refused.text
    saved = visitor.post(
        f"/preferences/{contact.token}",
        data={
            "csrf_token": token,
            "channels": "sms",
            "phone": "+34612345678",
            "second_language": "pt-BR",
        },
    )
    assert saved.status_code == 200 and "Listo" in saved.text
    with database.transaction() as session:
        stored = session.get(CustomerContact, 5)
        assert stored is not None
        assert (stored.channels, stored.phone, stored.second_language) == (
            "email,sms",
            "+34612345678",
            "pt-BR",
        )

    follow_up = {
        "ticket_id": 5,
        "customer_id": 5,
        "subject": "DNS",
        "resolved_on": date(2026, 11, 28),
    }
    deliver(database, "tickets.follow_up_due.v1", follow_up, datetime(2026, 12, 2, 21, tzinfo=UTC))
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(
            customer(5, "Carla Dias", "carla@loja.example", "es", timezone="Europe/Madrid"),
            3,
            990,
            "EUR",
        ),
        datetime(2026, 12, 2, 21, tzinfo=UTC),
    )
    one_click = app.test_client().post(
        f"/unsubscribe/{contact.token}", data={"List-Unsubscribe": "One-Click"}
    )
    assert one_click.status_code == 200
    with database.transaction() as session:
        statuses = {
            n.kind: (n.status, n.reason) for n in session.execute(select(Notification)).scalars()
        }
        assert session.get(CustomerContact, 5).opted_out is True  # type: ignore[union-attr]
    assert statuses["follow_up_check"] == ("skipped", "the customer unsubscribed")
    assert statuses["invoice_issued"][0] == "held", "invoices still go, in her business hours"

    staff = StaffSession(app, AGENT)
    assert staff.get("/api/customers/5/preferences").get_json()["opted_out"] is True
    bad = staff.send(
        "PUT", "/api/customers/5/preferences", {"channels": ["fax"], "opted_out": False}
    )
    assert bad.status_code == 422
    assert (
        staff.send(
            "PUT", "/api/customers/99/preferences", {"channels": [], "opted_out": False}
        ).status_code
        == 404
    )


def test_duty_hours_decide_who_is_alerted(app: Flask, database: Database) -> None:
    hire(database, 1, "owner")
    hire(database, 2, "agent")
    owner = StaffSession(app, OWNER)
    wrong = owner.client.post(
        "/duty/2", data={"slots": "Saturday morning", "csrf_token": owner.token}
    )
    assert wrong.status_code == 303
    assert "write e.g. Mon 10:00-19:00" in owner.get("/duty", headers=HTML).text
    saved = owner.client.post(
        "/duty/2",
        data={"slots": "Sat 09:00-13:00", "phone": "+5511988887777", "csrf_token": owner.token},
    )
    assert saved.status_code == 303
    saturday_morning = datetime(2026, 12, 5, 13, tzinfo=UTC)  # 10:00 in São Paulo
    wednesday = datetime(2026, 12, 2, 17, tzinfo=UTC)
    with database.transaction() as session:
        assert [m.staff_id for m in on_duty(session, saturday_morning, CONFIG.calendar)] == [2]
        assert [m.staff_id for m in on_duty(session, wednesday, CONFIG.calendar)] == [1], (
            "the agent keeps her own hours; the owner has business hours"
        )
    agent = StaffSession(app, AGENT)
    refused = agent.client.post("/duty/2", data={"slots": "", "csrf_token": agent.token})
    assert refused.status_code == 403


PORTUGUESE = {**HTML, "Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}


def test_the_pages_speak_the_staff_members_language(app: Flask, database: Database) -> None:
    invoice_ana(database, SAO_PAULO_NIGHT)
    agent = StaffSession(app, AGENT)
    log = agent.get("/", headers=PORTUGUESE).text
    assert "Registro de envios" in log and "1 mensagem." in log
    assert "retida até 03/12/2026 10:00" in log
    assert ">retida</span>" in log, "the status in Portuguese too"
    templates = agent.get("/templates", headers=PORTUGUESE).text
    assert "Uma nova fatura foi emitida" in templates and "Alertas à equipe" in templates
    assert "A new invoice was issued" in agent.get("/templates", headers=HTML).text
    editor = agent.get("/templates/invoice_issued/email/pt-BR", headers=PORTUGUESE).text
    assert "Prévia com dados de exemplo" in editor and "Este é o texto do catálogo." in editor


def test_duty_hours_are_written_with_the_days_of_either_language(
    app: Flask, database: Database
) -> None:
    hire(database, 1, "owner")
    hire(database, 2, "agent")
    owner = StaffSession(app, OWNER)
    wrong = owner.client.post(
        "/duty/2", data={"slots": "sábado de manhã", "csrf_token": owner.token}, headers=PORTUGUESE
    )
    assert wrong.status_code == 303
    page = owner.get("/duty", headers=PORTUGUESE).text
    assert "escreva, por exemplo, Seg 10:00-19:00" in page
    assert 'Staff 1 <span class="muted">(dona)</span>' in page
    saved = owner.client.post(
        "/duty/2",
        data={"slots": "Sáb 09:00-13:00\nsab 15:00-16:00", "csrf_token": owner.token},
        headers=PORTUGUESE,
    )
    assert saved.status_code == 303
    assert "Sáb 09:00-13:00\nSáb 15:00-16:00" in owner.get("/duty", headers=PORTUGUESE).text
    assert "Sat 09:00-13:00\nSat 15:00-16:00" in owner.get("/duty", headers=HTML).text
    saturday_morning = datetime(2026, 12, 5, 13, tzinfo=UTC)  # 10:00 in São Paulo
    with database.transaction() as session:
        assert [m.staff_id for m in on_duty(session, saturday_morning, CONFIG.calendar)] == [2]


def test_the_local_mailbox_shows_what_the_embedded_mail_server_kept(app: Flask) -> None:
    page = StaffSession(app, AGENT).get("/mailbox", headers=HTML)
    assert page.status_code == 200 and "No email yet." in page.text
