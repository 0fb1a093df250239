"""The desk's REST API: a ticket opened by phone and found again in the queue, its page
with the customer's context, replies through the reply checker (refused with the findings
that stopped them), a trainee's reply approved by the owner, changes, P-RESOLVE, errors as
JSON and the OpenAPI document; the search gives the same tickets on PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

import services.tickets as tickets
from services.tickets import lifecycle
from services.tickets.api import init_api
from services.tickets.lifecycle import NewTicket
from services.tickets.models import (
    CustomerNote,
    CustomerReplica,
    DeliveryReplica,
    Message,
    StaffMember,
    SuggestedScript,
    Ticket,
)
from services.tickets.search import TicketSearch, search_tickets
from shared.config import load_settings
from shared.db import Database
from shared.migrations import upgrade
from tests.support.staff import StaffSession
from tests.tickets.conftest import announced
from tests.tickets.test_desk import GOOD_REPLY, RUDE_REPLY, carla

PHONE_CALL = {
    "subject": "Site fora do ar",
    "body": "Ligou dizendo que o site mostra um erro de certificado desde hoje cedo.",
    "requester_email": "carla@loja.example",
    "customer_id": 5,
    "channel": "phone",
}
SALES_CALL = {
    "subject": "Plano maior",
    "body": "Quer mais espaço para as caixas de email da equipe.",
    "requester_email": "beto@oficina.example",
    "requester_name": "Beto Lima",
    "department": "sales",
    "priority": "low",
    "channel": "phone",
}
RESOLUTION = {
    "cause": "O certificado venceu.",
    "fix": "Instalamos um certificado novo.",
    "prevention": "A renovação agora é monitorada.",
}


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Flask:
    app = tickets.create_app(load_settings("tickets", env={}, data_dir=tmp_path), database)
    if "tickets_api" not in app.blueprints:  # until create_app registers the API itself
        init_api(app)
    return app


def signed_in(app: Flask, member: StaffMember) -> StaffSession:
    identity = {"id": member.id, "name": member.name, "email": member.email, "role": member.role}
    return StaffSession(app, identity)


def opened(session: StaffSession, call: dict[str, Any]) -> dict[str, Any]:
    response = session.post("/api/tickets", call)
    assert response.status_code == 201, response.get_json()
    ticket: dict[str, Any] = response.get_json()
    return ticket


def found(session: StaffSession, query: str) -> list[int]:
    response = session.get(f"/api/tickets?{query}")
    assert response.status_code == 200, response.get_json()
    return [ticket["id"] for ticket in response.get_json()["tickets"]]


def test_a_phone_call_opens_a_ticket_the_queue_finds(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    agent = signed_in(app, staff["agent"])
    site = opened(agent, PHONE_CALL)
    assert (site["channel"], site["customer_id"], site["status"]) == ("phone", 5, "new")
    assert site["requester_name"] == "Carla Dias", "named as billing knows her"
    assert [m["author"] for m in site["messages"]] == ["customer"]
    (announcement,) = announced(database, "tickets.ticket_opened.v1")
    assert announcement["ticket_id"] == site["id"]
    sales = opened(agent, SALES_CALL)
    mine = agent.patch(f"/api/tickets/{site['id']}", {"assignee_id": staff["agent"].id})
    assert mine.status_code == 200 and mine.get_json()["assignee_id"] == staff["agent"].id
    note = agent.post(f"/api/tickets/{sales['id']}/notes", {"body": "Ligar de volta amanhã."})
    assert note.status_code == 201 and note.get_json()["internal"] is True

    page = agent.get("/api/tickets").get_json()
    assert page["total"] == 2 and page["page"] == 1
    assert [t["id"] for t in page["tickets"]] == [sales["id"], site["id"]], "newest first"
    assert found(agent, "status=open") == [sales["id"], site["id"]], "open: every open status"
    assert found(agent, "status=resolved") == []
    assert found(agent, "department=sales") == [sales["id"]]
    assert found(agent, "priority=low") == [sales["id"]]
    assert found(agent, "customer_id=5") == [site["id"]]
    assert found(agent, "assignee=me") == [site["id"]]
    assert found(agent, "assignee=none") == [sales["id"]]
    assert found(agent, f"assignee={staff['owner'].id}") == []
    assert found(agent, "q=FORA") == [site["id"]], "a word of the subject, in any case"
    assert found(agent, "q=certificado") == [site["id"]], "a word of the customer's message"
    assert found(agent, "q=amanhã") == [sales["id"]], "a word of an internal note"
    assert found(agent, "q=beto") == [sales["id"]], "the requester's name"
    assert found(agent, f"q={site['reference']}") == [site["id"]]
    assert found(agent, "q=oficina.example") == [sales["id"]], "part of the email address"
    assert found(agent, "q=espaço+equipe") == [sales["id"]], "every word, anywhere"
    assert found(agent, "q=fora+equipe") == [], "each word must be in the ticket"
    assert found(agent, "q=100%25") == [], "a % is looked for, not a wildcard"
    trainee = signed_in(app, staff["trainee"])
    assert trainee.get("/api/tickets").get_json()["total"] == 2, "a trainee works the queue"

    for query, field in (
        ("status=lost", "status"),
        ("assignee=someone", "assignee"),
        ("page=0", "page"),
        ("customer_id=99999999999", "customer_id"),
    ):
        refused = agent.get(f"/api/tickets?{query}")
        assert refused.status_code == 422, query
        assert field in refused.get_json()["errors"]["query"], query


def test_staff_cannot_open_a_ticket_from_bad_input(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    agent = signed_in(app, staff["agent"])
    for call, field in (
        ({**PHONE_CALL, "subject": None}, "subject"),
        ({**PHONE_CALL, "channel": "portal"}, "channel"),
        ({**PHONE_CALL, "priority": "asap"}, "priority"),
        ({**PHONE_CALL, "customer_id": "5"}, "customer_id"),
        ({**PHONE_CALL, "colour": "blue"}, "colour"),
    ):
        refused = agent.post("/api/tickets", call)
        assert refused.status_code == 422, call
        assert field in refused.get_json()["errors"]["json"], call
    unknown = agent.post("/api/tickets", {**PHONE_CALL, "customer_id": 99})
    assert unknown.status_code == 422 and "customer 99" in unknown.get_json()["message"]
    not_json = agent.client.post(
        "/api/tickets", data="{", headers={"X-CSRFToken": agent.token, "Content-Type": "text/json"}
    )
    assert not_json.status_code in (400, 422) and not_json.is_json
    assert announced(database, "tickets.ticket_opened.v1") == []


def test_a_ticket_shows_its_messages_history_and_the_customers_context(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    agent, trainee = signed_in(app, staff["agent"]), signed_in(app, staff["trainee"])
    ticket_id = opened(agent, PHONE_CALL)["id"]
    with database.transaction() as session:
        customer = session.get(CustomerReplica, 5)
        assert customer is not None
        customer.billing_status, customer.grace_used_on = "suspended", date(2026, 11, 3)
        customer.billing_note = "A second grace was refused (P-ONE-GRACE)."
        moment = datetime(2026, 11, 20, 12, tzinfo=UTC)
        session.add_all(
            [
                DeliveryReplica(
                    notification_id=7,
                    customer_id=5,
                    source_event_type="billing.invoice_overdue.v1",
                    channel="email",
                    status="sent",
                    at=moment,
                ),
                CustomerNote(customer_id=5, at=moment, author="ana@x", body="Prefere telefone."),
                SuggestedScript(
                    ticket_id=ticket_id,
                    playbook_id="site-down",
                    situation="site_down",
                    version=2,
                    reason="The subject says the site is down.",
                ),
            ]
        )
    relayed = agent.post(f"/api/tickets/{ticket_id}/messages", {"body": "Ligou de novo: urgente."})
    assert relayed.status_code == 201 and relayed.get_json()["author"] == "customer"
    agent.post(f"/api/tickets/{ticket_id}/notes", {"body": "Ver o certificado."})
    held = trainee.post(f"/api/tickets/{ticket_id}/replies", {"body": GOOD_REPLY})
    assert held.status_code == 201 and held.get_json()["outcome"] == "held"

    page = agent.get(f"/api/tickets/{ticket_id}")
    assert page.status_code == 200
    ticket = page.get_json()
    assert ticket["status"] == "open", "the customer's second call opens it"
    messages = [(m["author"], m["internal"], m["state"]) for m in ticket["messages"]]
    assert messages == [
        ("customer", False, "sent"),
        ("customer", False, "sent"),
        ("staff", True, "sent"),
        ("staff", False, "held"),
    ]
    assert ticket["messages"][3]["staff_name"] == "Duda"
    assert ticket["messages"][3]["findings"] == held.get_json()["findings"]
    changes = [entry["change"] for entry in ticket["history"]]
    assert changes[0] == "opened" and {"status", "relayed", "note", "reply_held"} <= set(changes)
    context = ticket["customer"]
    assert (context["billing_status"], context["grace_used_on"]) == ("suspended", "2026-11-03")
    assert "P-ONE-GRACE" in context["billing_note"]
    assert [d["notification_id"] for d in context["deliveries"]] == [7]
    assert [n["body"] for n in context["notes"]] == ["Prefere telefone."]
    assert ticket["suggested_script"]["playbook_id"] == "site-down"
    assert ticket["rating"] is None


def test_the_checker_explains_a_draft_without_sending_it(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    agent = signed_in(app, staff["agent"])
    ticket_id = opened(agent, PHONE_CALL | {"customer_id": None})["id"]
    checked = agent.post(f"/api/tickets/{ticket_id}/check", {"text": RUDE_REPLY})
    assert checked.status_code == 200
    result = checked.get_json()
    assert result["blocking"] is True
    assert all(finding["why"] and finding["lesson"] for finding in result["findings"])
    assert any(finding["rule"] == "P-POLITE" for finding in result["findings"])
    good = agent.post(f"/api/tickets/{ticket_id}/check", {"text": GOOD_REPLY}).get_json()
    assert good["blocking"] is False
    assert agent.post(f"/api/tickets/{ticket_id}/check", {"text": ""}).status_code == 422
    assert announced(database, "tickets.reply_checked.v1") == [], "a check is not an attempt"


def test_a_rude_reply_is_refused_with_the_findings_that_stopped_it(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    agent = signed_in(app, staff["agent"])
    ticket_id = opened(agent, PHONE_CALL)["id"]
    refused = agent.post(f"/api/tickets/{ticket_id}/replies", {"body": RUDE_REPLY})
    assert refused.status_code == 422
    body = refused.get_json()
    assert body["error"] == "refused"
    blocking = [f for f in body["findings"] if f["severity"] == "block"]
    assert blocking and all(f["message"] in body["message"] for f in blocking)
    assert all(f["why"] and f["lesson"] for f in body["findings"])
    assert announced(database, "tickets.reply_posted.v1") == []
    (attempt,) = announced(database, "tickets.reply_checked.v1")
    assert attempt["outcome"] == "stopped", "training still hears of the attempt"
    page = agent.get(f"/api/tickets/{ticket_id}").get_json()
    assert [m["author"] for m in page["messages"]] == ["customer"], "nothing was written"

    sent = agent.post(f"/api/tickets/{ticket_id}/replies", {"body": GOOD_REPLY})
    assert sent.status_code == 201, sent.get_json()
    reply = sent.get_json()
    assert reply["outcome"] == "sent" and reply["message"]["staff_name"] == "Bia"
    (posted,) = announced(database, "tickets.reply_posted.v1")
    assert (posted["reply_id"], posted["body"]) == (reply["message"]["id"], GOOD_REPLY)
    assert agent.get(f"/api/tickets/{ticket_id}").get_json()["status"] == "waiting"
    on_hold = agent.post(
        f"/api/tickets/{ticket_id}/replies", {"body": GOOD_REPLY, "then_status": "resolved"}
    )
    assert on_hold.status_code == 422 and "then_status" in on_hold.get_json()["errors"]["json"]

    owner = signed_in(app, staff["owner"])
    verbatim = {"body": RUDE_REPLY, "override_note": "She asked for these words, in writing."}
    assert agent.post(f"/api/tickets/{ticket_id}/replies", verbatim).status_code == 422
    overridden = owner.post(f"/api/tickets/{ticket_id}/replies", verbatim)
    assert overridden.status_code == 201 and overridden.get_json()["outcome"] == "overridden"
    assert overridden.get_json()["message"]["override_note"] == verbatim["override_note"]
    assert len(announced(database, "tickets.reply_posted.v1")) == 2


def test_a_trainees_reply_waits_for_the_owners_review(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    owner, agent = signed_in(app, staff["owner"]), signed_in(app, staff["agent"])
    trainee = signed_in(app, staff["trainee"])
    ticket_id = opened(agent, PHONE_CALL)["id"]
    held = trainee.post(f"/api/tickets/{ticket_id}/replies", {"body": GOOD_REPLY})
    assert held.status_code == 201 and held.get_json()["outcome"] == "held"
    held_id = held.get_json()["message"]["id"]
    assert announced(database, "tickets.reply_posted.v1") == []

    assert agent.get("/api/reviews").status_code == 403
    assert agent.post(f"/api/reviews/{held_id}/approve", {}).status_code == 403
    (waiting,) = owner.get("/api/reviews").get_json()
    assert waiting["reply"]["id"] == held_id and waiting["author"]["name"] == "Duda"
    assert waiting["ticket"]["id"] == ticket_id
    for comment in ({}, {"comment": "   "}):
        without = owner.post(f"/api/reviews/{held_id}/return", comment)
        assert without.status_code == 422, comment
        assert without.get_json()["errors"]["json"]["comment"] == [
            "Say what to change when returning a reply."
        ]
    edited = GOOD_REPLY + "\n(revisado)"
    approved = owner.post(f"/api/reviews/{held_id}/approve", {"body": edited})
    assert approved.status_code == 200
    assert (approved.get_json()["state"], approved.get_json()["staff_name"]) == ("sent", "Duda")
    (posted,) = announced(database, "tickets.reply_posted.v1")
    assert (posted["staff_id"], posted["body"]) == (staff["trainee"].id, edited)
    again = owner.post(f"/api/reviews/{held_id}/approve", {})
    assert again.status_code == 409 and "not waiting" in again.get_json()["message"]
    assert owner.post("/api/reviews/999/approve", {}).status_code == 404
    assert owner.get("/api/reviews").get_json() == []

    second = trainee.post(f"/api/tickets/{ticket_id}/replies", {"body": GOOD_REPLY})
    second_id = second.get_json()["message"]["id"]
    returned = owner.post(f"/api/reviews/{second_id}/return", {"comment": "Cite o prazo."})
    assert returned.status_code == 200 and returned.get_json()["state"] == "returned"
    page = trainee.get(f"/api/tickets/{ticket_id}").get_json()
    assert page["messages"][-1]["review_comment"] == "Cite o prazo."
    assert len(announced(database, "tickets.reply_posted.v1")) == 1


def test_changes_go_through_the_desks_rules(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    agent = signed_in(app, staff["agent"])
    ticket_id = opened(agent, PHONE_CALL | {"customer_id": None})["id"]
    url = f"/api/tickets/{ticket_id}"
    for change, field in (({"status": "done"}, "status"), ({"priority": "asap"}, "priority")):
        refused = agent.patch(url, change)
        assert refused.status_code == 422
        (reason,) = refused.get_json()["errors"]["json"][field]
        assert reason.startswith("Must be one of:")
    resolved = agent.patch(url, {"status": "resolved"})
    assert resolved.status_code == 422 and "P-RESOLVE" in resolved.get_json()["message"]
    nobody = agent.patch(url, {"assignee_id": 99999})
    assert nobody.status_code == 422 and "No active staff" in nobody.get_json()["message"]
    at_once = agent.patch(url, {"priority": "high", "assignee_id": 99999})
    assert at_once.status_code == 422
    assert agent.get(url).get_json()["priority"] == "normal", "all of the changes or none"

    changed = agent.patch(
        url,
        {
            "status": "on_hold",
            "priority": "high",
            "tags": ["DNS", " email ", ""],
            "assignee_id": staff["owner"].id,
        },
    )
    assert changed.status_code == 200
    ticket = changed.get_json()
    assert (ticket["status"], ticket["priority"]) == ("on_hold", "high")
    assert (ticket["tags"], ticket["assignee_id"]) == (["dns", "email"], staff["owner"].id)
    assert {"status", "priority", "tags", "assigned"} <= {e["change"] for e in ticket["history"]}
    unassigned = agent.patch(url, {"assignee_id": None}).get_json()
    assert unassigned["assignee_id"] is None


def test_a_resolution_says_cause_fix_and_prevention(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    agent = signed_in(app, staff["agent"])
    ticket_id = opened(agent, PHONE_CALL)["id"]
    url = f"/api/tickets/{ticket_id}/resolve"
    missing = agent.post(url, {**RESOLUTION, "prevention": " "})
    assert missing.status_code == 422
    assert "P-RESOLVE" in missing.get_json()["message"]
    assert "prevention" in missing.get_json()["message"]
    assert announced(database, "tickets.ticket_resolved.v1") == []

    resolved = agent.post(url, RESOLUTION)
    assert resolved.status_code == 200, resolved.get_json()
    ticket = resolved.get_json()
    assert (ticket["status"], ticket["prevention"]) == ("resolved", RESOLUTION["prevention"])
    (event,) = announced(database, "tickets.ticket_resolved.v1")
    public_url = app.extensions["cortesia.settings"].public_url
    assert event["survey_url"] == f"{public_url}/portal/tickets/{ticket_id}#rate"
    assert event["staff_id"] == staff["agent"].id
    assert event["first_response_met"] in (True, False)
    assert event["resolution_met"] in (True, False)
    again = agent.post(url, RESOLUTION)
    assert again.status_code == 422 and "already resolved" in again.get_json()["message"]


def test_errors_are_json_and_the_api_is_described(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    agent = signed_in(app, staff["agent"])
    for url in ("/api/tickets/999", "/api/tickets/99999999999999"):
        unknown = agent.get(url)
        assert unknown.status_code == 404 and unknown.is_json, url
    missing = agent.get("/api/tickets/999").get_json()
    assert missing == {"error": "not found", "message": "No ticket 999."}
    assert agent.post("/api/tickets/999/notes", {"body": "x"}).status_code == 404

    stranger = app.test_client()
    for url in ("/api/tickets", "/api/tickets/1", "/api/reviews"):
        refused = stranger.get(url)
        assert refused.status_code == 401 and refused.get_json()["error"] == "unauthorized", url

    document = stranger.get("/api/openapi.json")
    assert document.status_code == 200
    paths = document.get_json()["paths"]
    assert {
        "/api/tickets",
        "/api/tickets/{ticket_id}",
        "/api/tickets/{ticket_id}/messages",
        "/api/tickets/{ticket_id}/notes",
        "/api/tickets/{ticket_id}/check",
        "/api/tickets/{ticket_id}/replies",
        "/api/tickets/{ticket_id}/resolve",
        "/api/reviews",
        "/api/reviews/{message_id}/approve",
        "/api/reviews/{message_id}/return",
    } <= set(paths)
    assert "422" in paths["/api/tickets/{ticket_id}/replies"]["post"]["responses"]


# -- the search on PostgreSQL ----------------------------------------------------------

SEARCHES = (
    "fora",
    "CERTIFICADO",
    "beto",
    "oficina.example",
    "espaço equipe",
    "fora equipe",
    "carla@loja.example",
    "loja.example certificado",
    "oficina.example certificado",
    "100%",
    "-",
    "",
)


def _open_the_calls(database: Database) -> None:
    with database.transaction() as session:
        for call in (PHONE_CALL | {"customer_id": None}, SALES_CALL):
            lifecycle.open_ticket(session, NewTicket(**call), "test")


def _results(database: Database) -> list[list[str]]:
    with database.transaction() as session:
        return [
            [ticket.subject for ticket in search_tickets(session, TicketSearch(text=q))[0]]
            for q in SEARCHES
        ]


@pytest.fixture
def postgres_database(postgres_url: str) -> Iterator[Database]:
    upgrade(tickets.MIGRATIONS, postgres_url)
    database = Database(postgres_url)
    yield database
    database.dispose()


@pytest.mark.postgres
def test_the_search_finds_the_same_tickets_on_postgresql(
    database: Database, postgres_database: Database
) -> None:
    for each in (database, postgres_database):
        _open_the_calls(each)
    assert _results(postgres_database) == _results(database)
    assert _results(database)[:3] == [["Site fora do ar"], ["Site fora do ar"], ["Plano maior"]]


def _subjects(database: Database, text: str) -> list[str]:
    with database.transaction() as session:
        found, total = search_tickets(session, TicketSearch(text=text))
        assert total == len(found)
        return [ticket.subject for ticket in found]


@pytest.mark.postgres
def test_the_search_follows_each_change_to_a_tickets_words_on_postgresql(
    postgres_database: Database,
) -> None:
    database = postgres_database
    _open_the_calls(database)
    assert _subjects(database, "loja.example certificado") == ["Site fora do ar"]
    with database.transaction() as session:
        site, sales = (
            session.execute(select(Ticket).where(Ticket.subject == subject)).scalar_one()
            for subject in ("Site fora do ar", "Plano maior")
        )
        session.add(Message(ticket_id=sales.id, author="customer", body="E um servidor dedicado."))
    assert _subjects(database, "servidor") == ["Plano maior"], "a new message"
    with database.transaction() as session:
        first = session.execute(select(Message).where(Message.ticket_id == site.id)).scalar_one()
        first.body = first.body.replace("certificado", "domínio")
    assert _subjects(database, "certificado") == [], "a message edited"
    assert _subjects(database, "domínio") == ["Site fora do ar"]
    with database.transaction() as session:
        lifecycle.merge(session, session.merge(sales), session.merge(site), "test")
    assert _subjects(database, "servidor espaço") == ["Site fora do ar"], "messages moved"
    assert _subjects(database, "plano") == ["Plano maior"], "the subject stays its own"
    with database.transaction() as session:
        session.merge(site).subject = "Loja sem HTTPS"
    assert _subjects(database, "https") == ["Loja sem HTTPS"], "a subject changed"
    assert _subjects(database, "fora") == []
