"""Planning called directly, and notify's subscriber given a batch: what it returns is
what it wrote, once per event, each with its log entry, each event as it stood; a batch
costs the same few statements however many events it holds; and billing's descriptions
of a customer refresh the contact without touching what the customer chose."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import event, func, select

import services.notify.planning as planning
from services.notify.directory import remember_customer, remember_customers, set_preferences
from services.notify.models import (
    CustomerContact,
    DeliveryLogEntry,
    Notification,
    SourceEvent,
    StaffContact,
)
from services.notify.planning import PlannedNotification, load_payload, plan_event
from services.notify.subscribers import messages
from shared.bus.subscriber import Outcome, process_batch
from shared.db import Database
from shared.events import Envelope
from tests.notify.conftest import CONFIG

INVOICE = "billing.invoice_issued.v1"
NOON = datetime(2026, 12, 2, 17, tzinfo=UTC)  # a Wednesday, 14:00 in São Paulo
NIGHT = datetime(2026, 12, 3, 2, tzinfo=UTC)  # 23:00 there


def described(customer_id: int, **changes: Any) -> dict[str, Any]:
    """Billing's description of a customer, as its events carry it."""
    return {
        "customer_id": customer_id,
        "customer_name": f"Cliente {customer_id}",
        "email": f"c{customer_id}@cliente.example",
        "language": "pt-BR",
        "timezone": "America/Sao_Paulo",
        **changes,
    }


def invoice(customer_id: int, **changes: Any) -> dict[str, Any]:
    """An invoice event's JSON form, as it travels on the bus."""
    return {
        **described(customer_id, **changes),
        "invoice_id": customer_id,
        "invoice_number": 1000 + customer_id,
        "subscription_id": customer_id,
        "total_minor": 9900,
        "balance_minor": 9900,
        "currency": "BRL",
        "due_date": date(2026, 12, 16).isoformat(),
    }


def count(database: Database, model: Any) -> int:
    with database.transaction() as session:
        return int(session.execute(select(func.count()).select_from(model)).scalar_one())


def test_events_planned_many_to_a_transaction_are_written_once_each(
    database: Database,
) -> None:
    events = [(str(uuid.uuid4()), invoice(number)) for number in (1, 2, 3)]
    abandoned = (str(uuid.uuid4()), invoice(4))
    with database.transaction() as session:
        planned: list[PlannedNotification] = []
        for event_id, payload in events:
            with session.begin_nested():
                planned += plan_event(session, CONFIG, INVOICE, event_id, payload, NOON)
        savepoint = session.begin_nested()
        assert len(plan_event(session, CONFIG, INVOICE, *abandoned, NOON)) == 1
        savepoint.rollback()  # as a batch does with an event whose handler failed

    assert [p.address for p in planned] == [f"c{n}@cliente.example" for n in (1, 2, 3)]
    with database.transaction() as session:
        for written in planned:
            row = session.get(Notification, written.id)
            assert row is not None
            assert (row.kind, row.status, row.subject, row.body_text) == (
                written.kind,
                written.status,
                written.subject,
                written.body_text,
            )
            assert written.status == "queued" and written.subject
            (step,) = session.execute(
                select(DeliveryLogEntry).where(DeliveryLogEntry.notification_id == written.id)
            ).scalars()
            assert (step.status, step.detail) == ("queued", None)
        assert session.get(SourceEvent, abandoned[0]) is None, "rolled back with its savepoint"
        assert session.get(CustomerContact, 4) is None

    with database.transaction() as session:
        for event_id, payload in events:
            assert plan_event(session, CONFIG, INVOICE, event_id, payload, NOON) == []
        assert len(plan_event(session, CONFIG, INVOICE, *abandoned, NOON)) == 1
    assert count(database, Notification) == count(database, DeliveryLogEntry) == 4


def test_a_held_message_is_returned_and_logged_with_its_moment(database: Database) -> None:
    with database.transaction() as session:
        (held,) = plan_event(session, CONFIG, INVOICE, str(uuid.uuid4()), invoice(1), NIGHT)
    assert held.status == "held" and held.not_before == datetime(2026, 12, 3, 13, tzinfo=UTC)
    with database.transaction() as session:
        (step,) = session.execute(select(DeliveryLogEntry)).scalars()
    assert step.detail == "held until 2026-12-03T10:00-03:00 (America/Sao_Paulo)"


def test_an_event_the_caller_loaded_is_not_loaded_again(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    payload = invoice(1)
    data = load_payload(INVOICE, payload)

    def refuse(event_type: str, payload: Any) -> dict[str, Any]:
        raise AssertionError("the payload was loaded again")

    monkeypatch.setattr(planning, "load_payload", refuse)
    with database.transaction() as session:
        (written,) = plan_event(
            session, CONFIG, INVOICE, str(uuid.uuid4()), payload, NOON, data=data
        )
    assert "1001" in (written.body_text or "")


def invoice_issued(customer_id: int, **changes: Any) -> Envelope:
    return Envelope(INVOICE, "billing", invoice(customer_id, **changes), occurred_at=NOON)


def ticket_opened(ticket_id: int, customer_id: int) -> Envelope:
    payload = {
        "ticket_id": ticket_id,
        "customer_id": customer_id,
        "department": "support",
        "priority": "normal",
        "emergency": False,
        "subject": "Dúvida sobre DNS",
    }
    return Envelope("tickets.ticket_opened.v1", "tickets", payload, occurred_at=NOON)


def test_a_batch_is_planned_together_each_event_as_it_stood(database: Database) -> None:
    with database.transaction() as session:
        remember_customer(session, described(1, language="en"))
    first = invoice_issued(1)  # now in Portuguese
    opened = ticket_opened(7, 1)
    batch = [first, opened, invoice_issued(2, language="es"), invoice_issued(2, language="en")]
    batch.append(first)  # the bus delivered it twice

    results = process_batch(database, messages, [envelope.to_json() for envelope in batch])

    assert [r.outcome for r in results] == [Outcome.HANDLED] * 4 + [Outcome.DUPLICATE]
    with database.transaction() as session:
        written = [
            (n.source_event_id, n.kind, n.address, n.language)
            for n in session.execute(select(Notification).order_by(Notification.id)).scalars()
        ]
        assert written == [
            (first.event_id, "invoice_issued", "c1@cliente.example", "pt-BR"),
            (opened.event_id, "ticket_acknowledged", "c1@cliente.example", "pt-BR"),
            (batch[2].event_id, "invoice_issued", "c2@cliente.example", "es"),
            (batch[3].event_id, "invoice_issued", "c2@cliente.example", "en"),
        ]
        contact = session.get(CustomerContact, 2)
        assert contact is not None and contact.language == "en", "the last description stands"
    assert count(database, CustomerContact) == 2
    assert count(database, DeliveryLogEntry) == 4


@pytest.fixture
def statements(database: Database) -> Iterator[list[str]]:
    """The statements sent to the database while the test runs."""
    sent: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        sent.append(statement)

    event.listen(database.engine, "before_cursor_execute", seen)
    yield sent
    event.remove(database.engine, "before_cursor_execute", seen)


def test_a_batch_costs_the_same_statements_however_many_events_it_holds(
    database: Database, statements: list[str]
) -> None:
    with database.transaction() as session:
        session.add(
            StaffContact(staff_id=1, name="Ana", email="ana@cortesia.example", role="agent")
        )
        session.add(
            StaffContact(staff_id=2, name="Rui", email="rui@cortesia.example", role="owner")
        )
    for number in range(1, 41):  # customers billing told notify of before
        with database.transaction() as session:
            remember_customer(session, described(number))

    def planned_in_statements(customers: range) -> int:
        statements.clear()
        events = []
        for number in customers:
            events += [invoice_issued(number), ticket_opened(number, number)]
        results = process_batch(database, messages, [event.to_json() for event in events])
        assert {r.outcome for r in results} == {Outcome.HANDLED}
        return len(statements)

    assert planned_in_statements(range(1, 3)) == planned_in_statements(range(3, 28))
    with database.transaction() as session:
        kinds = session.execute(
            select(Notification.kind, func.count()).group_by(Notification.kind)
        ).all()
    # Each ticket acknowledged to its customer, and announced to both staff on duty.
    assert sorted(kinds) == [
        ("alert_new_ticket", 54),
        ("invoice_issued", 27),
        ("ticket_acknowledged", 27),
    ]


def test_descriptions_of_one_customer_in_a_row_are_each_seen_and_written_once(
    database: Database, statements: list[str]
) -> None:
    with database.transaction() as session:
        first, second = remember_customers(
            session, [described(1, language="es"), described(1, language="en", managed=True)]
        )
    assert (first.language, first.managed) == ("es", False)
    assert (second.language, second.managed) == ("en", True)
    assert first.token == second.token
    assert sum(statement.lstrip().upper().startswith("INSERT") for statement in statements) == 1
    with database.transaction() as session:
        stored = session.get(CustomerContact, 1)
        assert stored is not None
        assert (stored.language, stored.managed, stored.token) == ("en", True, first.token)


def updates(statements: list[str]) -> list[str]:
    return [
        statement for statement in statements if statement.lstrip().upper().startswith("UPDATE")
    ]


def test_billing_refreshes_its_description_and_keeps_what_the_customer_chose(
    database: Database, statements: list[str]
) -> None:
    with database.transaction() as session:
        new = remember_customer(session, described(1, managed=True))
    assert (new.channels, new.opted_out, new.managed, new.phone) == ("email", False, True, None)
    with database.transaction() as session:
        contact = session.get(CustomerContact, 1)
        assert contact is not None and contact.token == new.token
        set_preferences(
            contact,
            channels=["email", "sms"],
            phone="+5511912345678",
            chat_handle=None,
            opted_out=True,
            second_language="es",
        )
    statements.clear()

    with database.transaction() as session:
        same = remember_customer(session, described(1))
    assert updates(statements) == [], "nothing changed, nothing written"
    assert same.chose("sms") and same.opted_out and same.second_language == "es"

    moved = described(1, customer_name="Cliente Um", email="um@cliente.example", language="es")
    with database.transaction() as session:
        refreshed = remember_customer(session, {**moved, "timezone": "Europe/Madrid"})
    assert len(updates(statements)) == 1
    with database.transaction() as session:
        stored = session.get(CustomerContact, 1)
        assert stored is not None
        for seen in (refreshed, stored):
            assert (seen.name, seen.email, seen.language, seen.timezone) == (
                "Cliente Um",
                "um@cliente.example",
                "es",
                "Europe/Madrid",
            )
            assert seen.managed, "kept: this event did not say"
            assert seen.token == new.token
            assert (seen.channels, seen.phone, seen.opted_out) == (
                "email,sms",
                "+5511912345678",
                True,
            )
            assert seen.second_language == "es"


def test_a_contact_the_session_already_holds_is_refreshed_in_place(database: Database) -> None:
    with database.transaction() as session:
        remember_customer(session, described(1))
    with database.transaction() as session:
        held = session.get(CustomerContact, 1)
        remembered = remember_customer(session, described(1, customer_name="Cliente Um"))
        assert remembered is held, "not a second, stale copy beside it"
        assert session.get(CustomerContact, 1) is held and held.name == "Cliente Um"
    with database.transaction() as session:
        stored = session.get(CustomerContact, 1)
        assert stored is not None and stored.name == "Cliente Um"
