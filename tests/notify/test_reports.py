"""P-REPORT: a managed customer's monthly report of their tickets, incidents and invoices,
with room for their comments after each section; their reply comes back as an event."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

import services.notify as notify
from services.notify.dispatcher import Dispatcher
from services.notify.models import Notification
from services.notify.reports import activity, previous_month, write_reports
from shared.bus.subscriber import Outcome, process_message
from shared.bus.tables import outbox
from shared.config import load_settings
from shared.db import Database
from shared.events import REGISTRY, Envelope
from shared.testing.smtp import MailSink
from tests.notify.conftest import CONFIG, Clock, deliver
from tests.notify.test_delivery import customer, invoice, outbox_events
from tests.support.staff import StaffSession

NOVEMBER = datetime(2026, 11, 10, 15, tzinfo=UTC)
OCTOBER = datetime(2026, 10, 10, 15, tzinfo=UTC)
DECEMBER_2 = datetime(2026, 12, 2, 17, tzinfo=UTC)


def follow(database: Database, event_type: str, payload: dict[str, object], at: datetime) -> None:
    """An event reaching both the message planner and the account's activity."""
    deliver(database, event_type, payload, at)
    envelope = Envelope(
        event_type, event_type.split(".")[0], REGISTRY.dump(event_type, payload), occurred_at=at
    )
    assert process_message(database, activity, envelope.to_json()).outcome is Outcome.HANDLED


def a_month_of_work(database: Database) -> None:
    ana = customer(1, "Ana Souza", "ana@padaria.example")
    deliver(
        database,
        "billing.customer_created.v1",
        {**ana, "currency": "BRL", "managed": True},
        OCTOBER,
    )
    other = customer(2, "Beto Lima", "beto@oficina.example")
    deliver(
        database,
        "billing.customer_created.v1",
        {**other, "currency": "BRL", "managed": False},
        OCTOBER,
    )
    follow(database, "billing.invoice_issued.v1", invoice(ana, 1, 9990), OCTOBER)
    follow(database, "billing.invoice_issued.v1", invoice(ana, 2, 14990), NOVEMBER)
    follow(
        database,
        "billing.invoice_paid.v1",
        {**invoice(ana, 2, 14990), "balance_minor": 0},
        NOVEMBER,
    )
    ticket = {
        "ticket_id": 40,
        "customer_id": 1,
        "department": "support",
        "priority": "normal",
        "emergency": False,
        "subject": "Emails da loja não chegam",
        "reference": "T-40",
    }
    follow(database, "tickets.ticket_opened.v1", ticket, NOVEMBER)
    window = {
        "maintenance_id": 3,
        "title": "Troca de discos",
        "details": "",
        "starts_at": datetime(2026, 11, 20, 5, tzinfo=UTC),
        "ends_at": datetime(2026, 11, 20, 6, tzinfo=UTC),
        "customer_ids": [1, 2],
    }
    follow(database, "tickets.maintenance_scheduled.v1", window, NOVEMBER)


def test_last_month_is_reported_once_to_each_managed_customer(database: Database) -> None:
    a_month_of_work(database)
    assert previous_month(date(2026, 12, 2)) == (date(2026, 11, 1), date(2026, 11, 30))
    with database.transaction() as session:
        (report,) = write_reports(session, CONFIG, DECEMBER_2)
        assert write_reports(session, CONFIG, DECEMBER_2) == [], "once a month"
        assert report.customer_id == 1 and report.status == "queued"
        text = report.body_text or ""
        headers = json.loads(report.headers or "{}")
    assert "Emails da loja não chegam" in text and "Troca de discos" in text
    assert "1002" in text and "1001" not in text, "October's invoice is not November's"
    assert text.count("comentários") >= 3, "room for comments after each section"
    assert headers["Reply-To"].startswith("oi+report-") and headers["Reply-To"].endswith(
        "@cortesia.example"
    )
    assert "List-Unsubscribe" in headers, "a report is optional: it can be unsubscribed"


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Flask:
    return notify.create_app(load_settings("notify", env={}, data_dir=tmp_path), database)


def test_a_reply_to_the_report_comes_back_for_the_desk(
    app: Flask, database: Database, sink: MailSink, dispatcher: Dispatcher
) -> None:
    a_month_of_work(database)
    with database.transaction() as session:
        write_reports(session, CONFIG, DECEMBER_2)
    dispatcher.clock = Clock(DECEMBER_2)
    dispatcher.drain()
    (sent,) = [message for message in sink.wait_for(1) if message["Reply-To"]]
    assert sent["Reply-To"].startswith("oi+report-")

    reply = EmailMessage()
    reply["From"] = "Ana Souza <ana@padaria.example>"
    reply["To"] = sent["Reply-To"]
    reply["Subject"] = "Re: " + str(sent["Subject"])
    reply["In-Reply-To"] = sent["Message-ID"]
    reply.set_content(
        "Tudo ótimo! Podemos falar sobre um plano maior?\n\n"
        "Em 2 de dez. de 2026, Cortesia escreveu:\n"
        "> == CHAMADOS ==\n> - T-40: Emails da loja não chegam (aberto)\n"
        "> >> Seus comentários e ideias sobre esta seção:\n"
        "Resolvido depois, obrigada.\n"
        "> == FATURAS ==\n> - 1002\n"
    )
    staff = StaffSession(app, {"id": 2, "name": "Bia", "email": "bia@x.example", "role": "agent"})
    answer = staff.client.post(
        "/api/reports/replies",
        data=reply.as_bytes(),
        headers={"Content-Type": "message/rfc822", "X-CSRFToken": staff.token},
    )
    assert answer.status_code == 202 and answer.get_json() == {"customer_id": 1}
    (event,) = outbox_events(database, "notify.report_reply_received.v1")
    assert event["comments"] == (
        "Tudo ótimo! Podemos falar sobre um plano maior?\nCHAMADOS: Resolvido depois, obrigada."
    )
    assert (event["period_start"], event["period_end"]) == ("2026-11-01", "2026-11-30")

    del reply["To"]
    reply["To"] = "oi+report-not-a-real-token-at-all@cortesia.example"
    refused = staff.client.post(
        "/api/reports/replies",
        data=reply.as_bytes(),
        headers={"Content-Type": "message/rfc822", "X-CSRFToken": staff.token},
    )
    assert refused.status_code == 422 and "reply address" in refused.get_json()["message"]
    empty = staff.client.post(
        "/api/reports/replies", data=b"", headers={"X-CSRFToken": staff.token}
    )
    assert empty.status_code == 400
    with database.transaction() as session:
        assert (
            session.execute(select(Notification.kind)).scalars().all().count("periodic_report") == 1
        )


def test_a_reply_through_the_desks_inbound_mail_reaches_the_report(
    database: Database, sink: MailSink, dispatcher: Dispatcher
) -> None:
    from services.tickets import inbound

    a_month_of_work(database)
    with database.transaction() as session:
        write_reports(session, CONFIG, DECEMBER_2)
    dispatcher.clock = Clock(DECEMBER_2)
    dispatcher.drain()
    (sent,) = [message for message in sink.wait_for(1) if message["Reply-To"]]
    reply = EmailMessage()
    reply["From"] = "ana@padaria.example"
    reply["To"] = sent["Reply-To"]
    reply["Subject"] = "Re: relatório"
    reply["In-Reply-To"] = sent["Message-ID"]
    reply.set_content("Mandem o relatório para o meu sócio também.")
    # The desk's listener hands it over as an event (its own database is not needed here:
    # the event is recorded in the session's outbox and delivered to notify's subscriber).
    with database.transaction() as session:
        assert inbound.receive(session, reply.as_bytes()) is None
        (handed,) = [
            row
            for row in session.execute(select(outbox)).mappings()
            if row["event_type"] == "tickets.report_reply_arrived.v1"
        ]
    envelope = json.loads(handed["body"])
    assert (
        process_message(database, activity, json.dumps(envelope).encode()).outcome
        is Outcome.HANDLED
    )
    (event,) = outbox_events(database, "notify.report_reply_received.v1")
    assert (
        event["customer_id"] == 1
        and event["comments"] == "Mandem o relatório para o meu sócio também."
    )
