"""Events in, messages out over a real SMTP server: the right language and hour, one
delivery per event and recipient whatever the bus re-delivers, retries when the server is
down, parked messages with their reason, and no customer's data in another's message."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from services.notify.channels import HttpProviderChannel
from services.notify.dispatcher import Dispatcher, Outcome
from services.notify.models import (
    CustomerContact,
    DeliveryLogEntry,
    Notification,
    StaffContact,
)
from shared.bus.tables import outbox
from shared.db import Database
from shared.testing.provider import FakeProvider
from shared.testing.smtp import MailSink, ReceivedMail
from tests.notify.conftest import Clock, deliver, edit_template_unchecked

SAO_PAULO_NOON = datetime(2026, 12, 2, 17, tzinfo=UTC)  # Wednesday, 14:00 there
SAO_PAULO_NIGHT = datetime(2026, 12, 3, 2, tzinfo=UTC)  # Wednesday 23:00 there
THURSDAY_OPENING = datetime(2026, 12, 3, 13, tzinfo=UTC)  # 10:00 there


def customer(
    customer_id: int, name: str, email: str, language: str = "pt-BR", **extra: Any
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "customer_name": name,
        "email": email,
        "language": language,
        "timezone": extra.pop("timezone", "America/Sao_Paulo"),
        **extra,
    }


def invoice(
    who: dict[str, Any], invoice_id: int, total_minor: int, currency: str = "BRL"
) -> dict[str, Any]:
    return {
        **who,
        "invoice_id": invoice_id,
        "invoice_number": 1000 + invoice_id,
        "subscription_id": 1,
        "total_minor": total_minor,
        "balance_minor": total_minor,
        "currency": currency,
        "due_date": date(2026, 12, 16),
    }


def ticket(ticket_id: int, customer_id: int, *, emergency: bool = False) -> dict[str, Any]:
    return {
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "department": "support",
        "priority": "urgent" if emergency else "normal",
        "emergency": emergency,
        "subject": "Site fora do ar" if emergency else "Dúvida sobre DNS",
        "reference": f"T-{ticket_id}",
    }


def notifications(database: Database) -> list[Notification]:
    with database.transaction() as session:
        return list(session.execute(select(Notification).order_by(Notification.id)).scalars())


def outbox_events(database: Database, event_type: str) -> list[dict[str, Any]]:
    with database.transaction() as session:
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        ).scalars()
        return [json.loads(body)["payload"] for body in bodies]


def hire(database: Database, staff_id: int, role: str = "owner", **contact: Any) -> None:
    deliver(
        database,
        "tickets.staff_added.v1",
        {
            "staff_id": staff_id,
            "name": f"Staff {staff_id}",
            "email": f"s{staff_id}@cortesia.example",
            "role": role,
        },
        SAO_PAULO_NOON,
    )
    if contact:
        with database.transaction() as session:
            member = session.get(StaffContact, staff_id)
            assert member is not None
            for name, value in contact.items():
                setattr(member, name, value)


def received(sink: MailSink, count: int) -> list[ReceivedMail]:
    sink.wait_for(count)
    return list(sink.deliveries)


def body(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content()).replace("\xa0", " ")


def test_an_invoice_is_emailed_once_in_the_customers_language_and_reported(
    database: Database, sink: MailSink, dispatcher: Dispatcher
) -> None:
    ana = customer(7, "Ana Souza", "ana@padaria.example")
    line = {
        "description": "Hospedagem Pro, dezembro",
        "quantity": 1,
        "unit_minor": 12990,
        "amount_minor": 12990,
    }
    issued = deliver(
        database,
        "billing.invoice_issued.v1",
        {**invoice(ana, 41, 12990), "lines": [line]},
        SAO_PAULO_NOON,
    )
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(ana, 41, 12990),
        SAO_PAULO_NOON,
        event_id=issued.event_id,
    )  # the bus delivers it again
    assert dispatcher.drain() == 1
    (mail,) = received(sink, 1)
    assert mail.recipients == ("ana@padaria.example",)
    assert "Ana" in body(mail.message) and "R$" in body(mail.message)
    assert "Hospedagem Pro, dezembro: R$ 129,90" in body(mail.message), "the invoice goes with it"
    assert mail.message.get_body(("html",)) is not None
    assert dispatcher.drain() == 0, "nothing is sent twice"
    (sent,) = outbox_events(database, "notify.notification_sent.v1")
    assert sent["source_event_id"] == issued.event_id and sent["customer_id"] == 7
    (notification,) = notifications(database)
    assert (notification.status, notification.language, notification.attempts) == (
        "sent",
        "pt-BR",
        1,
    )
    assert (
        mail.message["Message-ID"] == f"<n{notification.id}.{issued.event_id[:8]}@cortesia.example>"
    )


def test_each_customer_reads_their_own_language_and_money(
    database: Database, sink: MailSink, dispatcher: Dispatcher
) -> None:
    people = [
        customer(1, "Ana Souza", "ana@x.example", "pt-BR"),
        customer(2, "Lucía Gómez", "lucia@y.example", "es", timezone="Europe/Madrid"),
        customer(3, "Emma Clarke", "emma@z.example", "en", timezone="America/Mexico_City"),
    ]
    for number, (who, currency) in enumerate(zip(people, ("BRL", "EUR", "MXN"), strict=True), 1):
        deliver(
            database,
            "billing.invoice_issued.v1",
            invoice(who, number, 5000, currency),
            SAO_PAULO_NOON,
        )
    dispatcher.clock = Clock(SAO_PAULO_NOON + timedelta(days=1))  # every window has opened
    dispatcher.drain()
    mails = {mail.recipients[0]: body(mail.message) for mail in received(sink, 3)}
    assert "R$ 50,00" in mails["ana@x.example"]
    assert "50,00 €" in mails["lucia@y.example"]
    assert "MX$50.00" in mails["emma@z.example"] or "$50.00" in mails["emma@z.example"]
    languages = {n.address: n.language for n in notifications(database)}
    assert languages == {"ana@x.example": "pt-BR", "lucia@y.example": "es", "emma@z.example": "en"}


def test_routine_messages_wait_for_business_hours_and_emergencies_do_not(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    hire(database, 1, "owner")
    hire(database, 2, "agent")
    deliver(
        database,
        "billing.customer_created.v1",
        {**customer(7, "Ana", "ana@x.example"), "currency": "BRL", "managed": False},
        SAO_PAULO_NIGHT,
    )
    deliver(database, "tickets.ticket_opened.v1", ticket(10, 7), SAO_PAULO_NIGHT)
    deliver(database, "tickets.ticket_opened.v1", ticket(11, 7, emergency=True), SAO_PAULO_NIGHT)
    clock.now = SAO_PAULO_NIGHT
    dispatcher.drain()
    night = {(m.recipients[0], m.message["Subject"]) for m in received(sink, 2)}
    assert len(night) == 2, night
    assert {address for address, _ in night} == {"ana@x.example", "s1@cortesia.example"}, (
        "the emergency's acknowledgement and the owner's alert go at once"
    )
    held = {n.kind: n for n in notifications(database) if n.status == "held"}
    assert set(held) == {"ticket_acknowledged", "alert_new_ticket"}
    assert held["ticket_acknowledged"].not_before.replace(tzinfo=UTC) == THURSDAY_OPENING
    clock.now = THURSDAY_OPENING
    dispatcher.drain()
    assert len(received(sink, 5)) == 5
    alerts = [n for n in notifications(database) if n.kind == "alert_new_ticket"]
    assert {(n.status, n.recipient_key) for n in alerts} == {
        ("sent", "staff:1"),
        ("sent", "staff:2"),
    }, "the routine ticket's alert reaches whoever is on duty at the opening"


def test_a_customer_abroad_is_written_to_in_their_own_business_hours(
    database: Database, dispatcher: Dispatcher, clock: Clock
) -> None:
    lucia = customer(2, "Lucía", "lucia@y.example", "es", timezone="Europe/Madrid")
    at = datetime(2026, 12, 2, 12, 30, tzinfo=UTC)  # 09:30 in São Paulo, 13:30 in Madrid
    deliver(database, "billing.invoice_issued.v1", invoice(lucia, 5, 1000, "EUR"), at)
    (notification,) = notifications(database)
    assert notification.status == "held"
    assert notification.not_before.replace(tzinfo=UTC) == datetime(2026, 12, 2, 13, tzinfo=UTC)


def test_the_smtp_server_down_then_up_retries_and_finally_fails_with_an_alert(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    hire(database, 1, "owner")
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(customer(7, "Ana", "ana@x.example"), 1, 990),
        SAO_PAULO_NOON,
    )
    sink.stop()
    assert dispatcher.run_once() == 1
    (waiting,) = notifications(database)
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert "connect" in (waiting.reason or "")
    assert dispatcher.run_once() == 0, "the next attempt waits a minute"
    clock.now += timedelta(minutes=1)
    sink.start()
    assert dispatcher.run_once() == 1
    assert len(received(sink, 1)) == 1
    assert notifications(database)[0].status == "sent"

    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(customer(8, "Bia", "bia@x.example"), 2, 990),
        clock.now,
    )
    sink.stop()
    for _ in range(20):
        dispatcher.drain()
        clock.now += timedelta(hours=1)
    failed = next(n for n in notifications(database) if n.address == "bia@x.example")
    assert failed.status == "failed" and failed.attempts == 9
    (report,) = outbox_events(database, "notify.notification_failed.v1")
    assert report["source_event_id"] == failed.source_event_id
    alert = next(n for n in notifications(database) if n.kind == "alert_delivery_failed")
    assert alert.recipient_key == "staff:1" and "Bia" in (alert.body_text or "")
    with database.transaction() as session:
        steps = (
            session.execute(
                select(DeliveryLogEntry.status).where(DeliveryLogEntry.notification_id == failed.id)
            )
            .scalars()
            .all()
        )
    assert steps[0] == "queued" and steps[-1] == "failed" and steps.count("queued") == 9


def test_a_broken_template_parks_the_message_with_the_reason(
    database: Database, sink: MailSink, dispatcher: Dispatcher
) -> None:
    edit_template_unchecked(database, "invoice_issued", "pt-BR", "Olá {{ data.no_such_field }}")
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(customer(7, "Ana", "ana@x.example"), 1, 990),
        SAO_PAULO_NOON,
    )
    (parked,) = notifications(database)
    assert parked.status == "parked" and "no_such_field" in (parked.reason or "")
    assert parked.body_text is None, "nothing half-rendered is kept to be sent"
    assert dispatcher.drain() == 0 and sink.deliveries == []


def test_a_missing_translation_falls_back_and_is_reported(
    database: Database, dispatcher: Dispatcher
) -> None:
    hire(database, 1, "owner", language="es")  # staff alerts are written in pt-BR and en
    deliver(database, "tickets.ticket_opened.v1", ticket(10, 7), SAO_PAULO_NOON)
    alert = next(n for n in notifications(database) if n.kind == "alert_new_ticket")
    assert (alert.language, alert.fell_back_from) == ("en", "es")
    with database.transaction() as session:
        detail = session.execute(
            select(DeliveryLogEntry.detail).where(DeliveryLogEntry.notification_id == alert.id)
        ).scalar_one()
    assert detail == "no es text for alert_new_ticket email: written in en"


def test_no_message_carries_another_customers_data(
    database: Database, sink: MailSink, dispatcher: Dispatcher
) -> None:
    ana = customer(1, "Ana Souza", "ana@padaria.example")
    beto = customer(2, "Roberto Lima", "beto@oficina.example")
    for who in (ana, beto):
        deliver(
            database,
            "billing.customer_created.v1",
            {**who, "currency": "BRL", "managed": True},
            SAO_PAULO_NOON,
        )
    deliver(database, "billing.invoice_issued.v1", invoice(ana, 1, 11111), SAO_PAULO_NOON)
    deliver(database, "billing.invoice_issued.v1", invoice(beto, 2, 22222), SAO_PAULO_NOON)
    window = {
        "maintenance_id": 3,
        "title": "Troca de discos",
        "details": "",
        "starts_at": SAO_PAULO_NOON + timedelta(days=5),
        "ends_at": SAO_PAULO_NOON + timedelta(days=5, hours=2),
        "customer_ids": [1, 2],
    }
    deliver(database, "tickets.maintenance_scheduled.v1", window, SAO_PAULO_NOON)
    dispatcher.drain()
    mails = received(sink, 4)
    for mail in mails:
        (address,) = mail.recipients
        text = mail.raw.decode("utf-8", "replace") + body(mail.message)
        mine, theirs = (ana, beto) if address == ana["email"] else (beto, ana)
        assert theirs["customer_name"] not in text and theirs["email"] not in text
        assert ("111,11" if theirs is ana else "222,22") not in text
        assert mine["customer_name"].split()[0] in text


def test_maintenance_is_announced_ahead_reminded_an_hour_before_and_called_off(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    deliver(
        database,
        "billing.customer_created.v1",
        {**customer(1, "Ana", "ana@x.example"), "currency": "BRL", "managed": True},
        SAO_PAULO_NOON,
    )
    starts = datetime(2026, 12, 6, 5, tzinfo=UTC)  # Sunday 02:00 in São Paulo
    window = {
        "maintenance_id": 9,
        "title": "Troca de discos",
        "details": "",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=2),
        "customer_ids": [1],
    }
    deliver(database, "tickets.maintenance_scheduled.v1", window, SAO_PAULO_NOON)
    planned = {n.kind: n for n in notifications(database)}
    assert planned["maintenance_announcement"].status == "queued"
    assert planned["maintenance_reminder"].not_before.replace(tzinfo=UTC) == starts - timedelta(
        hours=1
    )
    dispatcher.drain()
    assert len(received(sink, 1)) == 1
    clock.now = starts - timedelta(hours=1)
    dispatcher.drain()
    assert len(received(sink, 2)) == 2, "the reminder goes at night: it is timed, not routine"

    later = {
        **window,
        "maintenance_id": 10,
        "starts_at": starts + timedelta(days=7),
        "ends_at": starts + timedelta(days=7, hours=1),
    }
    deliver(database, "tickets.maintenance_scheduled.v1", later, SAO_PAULO_NOON)
    deliver(database, "tickets.maintenance_cancelled.v1", {"maintenance_id": 10}, SAO_PAULO_NOON)
    statuses = {
        n.kind: n.status
        for n in notifications(database)
        if n.not_before.replace(tzinfo=UTC) > starts
    }
    assert statuses == {"maintenance_reminder": "cancelled"}


def test_a_maintenance_too_close_for_office_hours_is_announced_at_once(
    database: Database, clock: Clock
) -> None:
    deliver(
        database,
        "billing.customer_created.v1",
        {**customer(1, "Ana", "ana@x.example"), "currency": "BRL", "managed": True},
        SAO_PAULO_NIGHT,
    )
    starts = SAO_PAULO_NIGHT + timedelta(hours=30)
    window = {
        "maintenance_id": 9,
        "title": "Urgente",
        "details": "",
        "starts_at": starts,
        "ends_at": starts + timedelta(hours=1),
        "customer_ids": [1],
    }
    deliver(database, "tickets.maintenance_scheduled.v1", window, SAO_PAULO_NIGHT)
    announcement = next(n for n in notifications(database) if n.kind == "maintenance_announcement")
    assert announcement.status == "queued"


def test_opting_out_stops_what_is_not_transactional_only(
    database: Database, dispatcher: Dispatcher
) -> None:
    deliver(
        database,
        "billing.customer_created.v1",
        {**customer(1, "Ana", "ana@x.example"), "currency": "BRL", "managed": True},
        SAO_PAULO_NOON,
    )
    with database.transaction() as session:
        contact = session.get(CustomerContact, 1)
        assert contact is not None
        contact.opted_out = True
    follow_up = {
        "ticket_id": 5,
        "customer_id": 1,
        "subject": "DNS",
        "resolved_on": date(2026, 11, 28),
    }
    deliver(database, "tickets.follow_up_due.v1", follow_up, SAO_PAULO_NOON)
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(customer(1, "Ana", "ana@x.example"), 1, 990),
        SAO_PAULO_NOON,
    )
    statuses = {n.kind: n.status for n in notifications(database)}
    assert statuses == {"follow_up_check": "skipped", "invoice_issued": "queued"}


def test_an_urgent_alert_goes_by_sms_and_falls_back_to_email_when_it_fails(
    database: Database, sink: MailSink, dispatcher: Dispatcher
) -> None:
    with FakeProvider() as provider:
        sms = HttpProviderChannel("sms", provider.url, provider.token)
        dispatcher.channels = {**dispatcher.channels, "sms": sms}
        hire(database, 1, "owner", phone="+5511999990000")
        deliver(
            database, "tickets.ticket_opened.v1", ticket(11, 7, emergency=True), SAO_PAULO_NIGHT
        )
        dispatcher.clock = Clock(SAO_PAULO_NIGHT)
        provider.refuse_recipient("+5511999990000", status=400, error="number not in service")
        dispatcher.drain()
    alerts = [n for n in notifications(database) if n.kind == "alert_emergency"]
    assert [(n.channel, n.status) for n in alerts] == [("sms", "failed"), ("email", "sent")]
    assert "number not in service" in (alerts[0].reason or "")
    (mail,) = received(sink, 1)
    assert mail.recipients == ("s1@cortesia.example",)


def test_a_delivery_interrupted_before_its_record_is_sent_again_with_the_same_message_id(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    deliver(
        database,
        "billing.invoice_issued.v1",
        invoice(customer(7, "Ana", "ana@x.example"), 1, 990),
        SAO_PAULO_NOON,
    )
    with database.transaction() as session:
        (notification,) = session.execute(select(Notification)).scalars()
        notification.status, notification.claimed_at = "sending", clock.now  # the process died
    assert dispatcher.run_once() == 0, "a delivery in flight is left alone"
    clock.now += timedelta(minutes=6)
    assert dispatcher.run_once() == 1
    (mail,) = received(sink, 1)
    assert mail.message["Message-ID"].startswith(f"<n{notification.id}.")


def test_a_password_link_and_a_running_late_notice_go_at_once_at_night(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    link = {
        "staff_id": 9,
        "name": "Duda",
        "email": "duda@cortesia.example",
        "link": "https://cortesia.example/tickets/password/abc",
        "expires_at": SAO_PAULO_NIGHT + timedelta(hours=24),
        "new_account": True,
    }
    deliver(database, "tickets.password_link_requested.v1", link, SAO_PAULO_NIGHT)
    late = {**customer(7, "Ana", "ana@x.example"), "minutes": 15, "staff_name": "Bia"}
    deliver(database, "tickets.running_late.v1", late, SAO_PAULO_NIGHT)
    clock.now = SAO_PAULO_NIGHT
    assert dispatcher.drain() == 2
    mails = {m.recipients[0]: body(m.message) for m in received(sink, 2)}
    assert "https://cortesia.example/tickets/password/abc" in mails["duda@cortesia.example"]
    assert "Bia vai se atrasar uns 15 minutos" in mails["ana@x.example"]


def invoices_at_noon(database: Database, count: int) -> None:
    """``count`` customers' invoices, to c1@x.example onwards, due at once."""
    for number in range(1, count + 1):
        who = customer(number, f"Cliente {number}", f"c{number}@x.example")
        deliver(database, "billing.invoice_issued.v1", invoice(who, number, 990), SAO_PAULO_NOON)


def test_a_batch_sends_the_others_when_the_server_refuses_one_for_now(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    invoices_at_noon(database, 5)
    sink.refuse_recipient("c3@x.example", code=451, message="4.7.1 greylisted, try later")
    dispatcher.batch_size, dispatcher.most_unrecorded = 5, 2
    assert dispatcher.run_once() == 5
    assert sorted(m.recipients[0] for m in received(sink, 4)) == [
        "c1@x.example",
        "c2@x.example",
        "c4@x.example",
        "c5@x.example",
    ]
    by_address = {n.address: n for n in notifications(database)}
    assert {a: n.status for a, n in by_address.items()} == {
        "c1@x.example": "sent",
        "c2@x.example": "sent",
        "c3@x.example": "queued",
        "c4@x.example": "sent",
        "c5@x.example": "sent",
    }
    greylisted = by_address["c3@x.example"]
    assert greylisted.attempts == 1 and "greylisted" in (greylisted.reason or "")
    sent_events = outbox_events(database, "notify.notification_sent.v1")
    assert sorted(e["notification_id"] for e in sent_events) == sorted(
        n.id for n in by_address.values() if n.status == "sent"
    )

    sink.clear()
    clock.now += timedelta(minutes=1)
    assert dispatcher.run_once() == 1
    (mail,) = received(sink, 1)
    assert mail.recipients == ("c3@x.example",)
    assert mail.message["Message-ID"].startswith(f"<n{greylisted.id}.")


def test_deliveries_are_recorded_in_small_groups_and_a_crash_sends_few_again(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    invoices_at_noon(database, 10)
    dispatcher.most_unrecorded = 3
    record = dispatcher._record
    recorded: list[int] = []

    def record_then_die_on_the_second_group(outcomes: Sequence[Outcome]) -> None:
        if recorded:
            raise ConnectionError("the database went away")
        record(outcomes)
        recorded.extend(o.notification_id for o in outcomes)

    dispatcher._record = record_then_die_on_the_second_group  # type: ignore[method-assign]
    with pytest.raises(ConnectionError):
        dispatcher.run_once()
    statuses = [n.status for n in notifications(database)]
    delivered = len(received(sink, len(recorded)))
    assert statuses.count("sent") == len(recorded)
    # The first group recorded; the second sent but not recorded (sent again later, with
    # the same Message-ID); nothing sent after the failure.
    assert len(recorded) == 3
    assert delivered == 6, "the sender stopped when recording failed"

    # Later the interrupted three go again under their own Message-IDs, and the rest once.
    first_copies = {m.recipients: m.message["Message-ID"] for m in sink.deliveries[3:6]}
    dispatcher._record = record  # type: ignore[method-assign]
    clock.now += dispatcher.stale_after + timedelta(minutes=1)
    sink.clear()
    assert dispatcher.drain() == 7
    again = {m.recipients: m.message["Message-ID"] for m in received(sink, 7)}
    assert {r: again[r] for r in first_copies} == first_copies
    assert [n.status for n in notifications(database)] == ["sent"] * 10
    sent_events = outbox_events(database, "notify.notification_sent.v1")
    assert sorted(e["notification_id"] for e in sent_events) == [
        n.id for n in notifications(database)
    ]
