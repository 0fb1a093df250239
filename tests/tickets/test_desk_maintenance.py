"""The desk's maintenance page in the browser's terms: the windows coming up and just over
with their customers, scheduling one on the company's clock (and saying so when it leaves
the customers less than the notice they are promised), the form's refusals, calling one
off, and who may do any of it."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from flask import Flask

from services.tickets.models import MaintenanceWindow, StaffMember
from services.tickets.replicas import billing_state
from services.tickets.staff import add_staff
from shared.db import Database
from tests.support.staff import StaffSession
from tests.tickets.conftest import PASSWORD, announced, feed
from tests.tickets.test_desk import carla
from tests.tickets.test_desk_pages import session_of

HTML = {"Accept": "text/html"}
PORTUGUESE = {"Accept": "text/html", "Accept-Language": "pt-BR"}
COMPANY = ZoneInfo("America/Sao_Paulo")


def customers(database: Database) -> None:
    carla(database)
    feed(
        database,
        billing_state,
        "billing.customer_created.v1",
        {
            "customer_id": 6,
            "customer_name": "Eduardo Lima",
            "email": "edu@oficina.example",
            "language": "en",
            "timezone": "Europe/Lisbon",
            "currency": "BRL",
            "managed": False,
        },
    )


def on_company_clock(after: timedelta) -> datetime:
    return (datetime.now(UTC) + after).astimezone(COMPANY).replace(second=0, microsecond=0)


def local(moment: datetime) -> str:
    """What a browser's date and time field sends."""
    return moment.strftime("%Y-%m-%dT%H:%M")


def window_form(session: StaffSession, starts: datetime, **changes: object) -> dict[str, object]:
    return {
        "title": "Atualização do servidor de e-mail",
        "details": "As mensagens esperam na fila e chegam logo depois.",
        "starts_at": local(starts),
        "ends_at": local(starts + timedelta(hours=2)),
        "customer_ids": ["5", "6"],
        "csrf_token": session.token,
        **changes,
    }


def test_an_agent_schedules_a_window_with_its_customers_on_the_company_clock(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    customers(database)
    agent = session_of(app, staff["agent"])
    page = agent.get("/desk/maintenance", headers=HTML)
    assert page.status_code == 200
    assert 'href="/desk/maintenance">Maintenance</a>' in page.text, "in the sub-navigation"
    assert "No maintenance scheduled." in page.text
    assert 'name="customer_ids" value="5"' in page.text and "Eduardo Lima" in page.text
    assert 'type="datetime-local" id="starts_at"' in page.text
    assert "America/Sao_Paulo" in page.text

    starts = on_company_clock(timedelta(days=3))
    done = agent.client.post("/desk/maintenance", data=window_form(agent, starts), headers=HTML)
    assert done.status_code == 303, done.text
    (event,) = announced(database, "tickets.maintenance_scheduled.v1")
    assert event["customer_ids"] == [5, 6]
    assert datetime.fromisoformat(event["starts_at"]) == starts, "São Paulo's clock, not UTC"
    assert event["title"] == "Atualização do servidor de e-mail"

    listed = agent.get("/desk/maintenance", headers=HTML, follow_redirects=True)
    assert "Scheduled: Atualização do servidor de e-mail." in listed.text
    assert "at least 48 hours ahead" in listed.text
    assert starts.strftime("%d/%m/%Y %H:%M") in listed.text
    assert "2 customers affected" in listed.text and "Carla Dias" in listed.text
    assert "scheduled" in listed.text and "bia@cortesia.example" in listed.text
    assert "announced at once:" not in listed.text
    assert f"/desk/maintenance/{event['maintenance_id']}/call-off" in listed.text


def test_a_window_less_than_48_hours_ahead_is_confirmed_as_announced_at_once(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    customers(database)
    owner = session_of(app, staff["owner"])
    starts = on_company_clock(timedelta(hours=5))
    asked = owner.client.post("/desk/maintenance", data=window_form(owner, starts), headers=HTML)
    assert asked.status_code == 422
    assert "starts in less than 48 hours: notify tells the customers at once" in asked.text
    assert 'id="short-notice" role="status">' in asked.text, "the warning is shown, not hidden"
    assert "Confirm that the customers are told at once" in asked.text
    assert 'value="Atualização do servidor de e-mail"' in asked.text, "what was typed stays"
    assert f'value="{local(starts)}"' in asked.text
    assert not announced(database, "tickets.maintenance_scheduled.v1")

    confirmed = owner.client.post(
        "/desk/maintenance",
        data=window_form(owner, starts, short_notice_ok="y"),
        headers=HTML,
        follow_redirects=True,
    )
    assert confirmed.status_code == 200
    assert "It starts in less than 48 hours, so notify tells the 2 customer(s)" in confirmed.text
    assert "announced at once: less than 48 hours&#39; notice" in confirmed.text
    assert len(announced(database, "tickets.maintenance_scheduled.v1")) == 1

    soon = on_company_clock(timedelta(minutes=30))
    within_the_hour = owner.client.post(
        "/desk/maintenance", data=window_form(owner, soon), headers=HTML
    )
    assert within_the_hour.status_code == 422
    assert 'id="no-reminder">' in within_the_hour.text
    assert "there will be no reminder, only the announcement" in within_the_hour.text


def test_bad_input_comes_back_with_what_is_wrong(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    customers(database)
    agent = session_of(app, staff["agent"])
    starts = on_company_clock(timedelta(days=3))
    refusals: dict[str, dict[str, object]] = {
        "Say what the maintenance is": {"title": "  "},
        "A title is at most 200 characters.": {"title": "x" * 201},
        "Give a date and a time.": {"starts_at": "tomorrow at nine"},
        "The window ends after it starts.": {"ends_at": local(starts - timedelta(hours=1))},
        "Choose the customers the maintenance affects.": {"customer_ids": []},
        "Choose the customers from the list.": {"customer_ids": ["5", "carla"]},
        "choose a start later than now": {"starts_at": local(starts - timedelta(days=4))},
        "Billing has not told the desk about customer(s) 77.": {"customer_ids": ["5", "77"]},
    }
    for message, change in refusals.items():
        answer = agent.client.post(
            "/desk/maintenance", data=window_form(agent, starts, **change), headers=HTML
        )
        assert answer.status_code == 422, message
        assert message in answer.text, message
    empty = agent.client.post("/desk/maintenance", data={"csrf_token": agent.token}, headers=HTML)
    assert empty.status_code == 422 and "Give a date and a time." in empty.text
    portuguese = agent.client.post(
        "/desk/maintenance",
        data=window_form(agent, starts, ends_at=local(starts)),
        headers=PORTUGUESE,
    )
    assert portuguese.status_code == 422 and "O término vem depois do início." in portuguese.text
    forged = agent.client.post(
        "/desk/maintenance", data={**window_form(agent, starts), "csrf_token": ""}, headers=HTML
    )
    assert forged.status_code == 400
    assert not announced(database, "tickets.maintenance_scheduled.v1")


def test_calling_a_window_off_and_the_windows_just_over(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    customers(database)
    agent = session_of(app, staff["agent"])
    starts = on_company_clock(timedelta(days=4))
    agent.client.post("/desk/maintenance", data=window_form(agent, starts), headers=HTML)
    (event,) = announced(database, "tickets.maintenance_scheduled.v1")
    maintenance_id = event["maintenance_id"]
    with database.transaction() as session:
        session.add(
            MaintenanceWindow(
                title="Troca dos discos",
                details="",
                starts_at=datetime.now(UTC) - timedelta(days=2),
                ends_at=datetime.now(UTC) - timedelta(days=2) + timedelta(hours=1),
                customer_ids=json.dumps([5, 404]),
                scheduled_by="ana@cortesia.example",
            )
        )

    call_off = f"/desk/maintenance/{maintenance_id}/call-off"
    assert agent.client.post(call_off, data={}, headers=HTML).status_code == 400, "CSRF"
    done = agent.client.post(
        call_off, data={"csrf_token": agent.token}, headers=HTML, follow_redirects=True
    )
    assert done.status_code == 200
    assert "Called off: Atualização do servidor de e-mail." in done.text
    assert "called off" in done.text and "by bia@cortesia.example" in done.text
    assert call_off not in done.text, "nothing left to call off"
    assert announced(database, "tickets.maintenance_cancelled.v1") == [
        {"maintenance_id": maintenance_id}
    ]
    again = agent.client.post(
        call_off, data={"csrf_token": agent.token}, headers=HTML, follow_redirects=True
    )
    assert f"Maintenance {maintenance_id} was already called off." in again.text
    assert len(announced(database, "tickets.maintenance_cancelled.v1")) == 1
    missing = agent.client.post(
        "/desk/maintenance/999/call-off", data={"csrf_token": agent.token}, headers=HTML
    )
    assert missing.status_code == 404

    page = agent.get("/desk/maintenance", headers=HTML).text
    past = page[page.index("Over in the last 30 days") :]
    assert "Troca dos discos" in past and "customer #404 (not known to the desk)" in past
    assert "/call-off" not in past


def test_trainees_and_billing_clerks_cannot_schedule_or_call_off(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    customers(database)
    with database.transaction() as session:
        clerk = add_staff(session, "Gil", "gil@cortesia.example", "billing", PASSWORD)
        session.flush()
        session.expunge(clerk)
    agent = session_of(app, staff["agent"])
    starts = on_company_clock(timedelta(days=3))
    agent.client.post("/desk/maintenance", data=window_form(agent, starts), headers=HTML)
    (event,) = announced(database, "tickets.maintenance_scheduled.v1")
    for member in (staff["trainee"], clerk):
        someone = session_of(app, member)
        assert someone.get("/desk/maintenance", headers=HTML).status_code == 403
        tried = someone.client.post(
            "/desk/maintenance", data=window_form(someone, starts), headers=HTML
        )
        assert tried.status_code == 403
        called_off = someone.client.post(
            f"/desk/maintenance/{event['maintenance_id']}/call-off",
            data={"csrf_token": someone.token},
            headers=HTML,
        )
        assert called_off.status_code == 403
        assert "/desk/maintenance" not in someone.get("/desk/", headers=HTML).text
    assert len(announced(database, "tickets.maintenance_scheduled.v1")) == 1
    assert not announced(database, "tickets.maintenance_cancelled.v1")
