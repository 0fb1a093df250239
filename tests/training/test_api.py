"""Training's API: the checker for every signed-in staff member, playbook versions and the
checker's tuning for the owner, clear 4xx answers for bad input."""

from __future__ import annotations

import json

import pytest
from flask import Flask
from sqlalchemy import select

from services.training.subscribers import customer_directory
from services.training.versions import import_files
from shared.bus.subscriber import Outcome, process_message
from shared.bus.tables import outbox
from shared.db import Database
from shared.events import REGISTRY, Envelope
from tests.support.staff import StaffSession

STAFF = {
    "owner": {"id": 1, "name": "Ana", "email": "ana@example.com", "role": "owner"},
    "agent": {"id": 3, "name": "Caio", "email": "caio@example.com", "role": "agent"},
    "trainee": {"id": 4, "name": "Duda", "email": "duda@example.com", "role": "trainee"},
}


class Staff(StaffSession):
    def __init__(self, app: Flask, role: str) -> None:
        super().__init__(app, STAFF[role])


@pytest.fixture
def owner(app: Flask) -> Staff:
    return Staff(app, "owner")


@pytest.fixture
def agent(app: Flask) -> Staff:
    return Staff(app, "agent")


def announce_customer(database: Database, customer_id: int, name: str, email: str) -> None:
    payload = {
        "customer_id": customer_id,
        "customer_name": name,
        "email": email,
        "language": "pt-BR",
        "timezone": "America/Sao_Paulo",
        "currency": "BRL",
        "managed": False,
    }
    event = "billing.customer_created.v1"
    envelope = Envelope(event, "billing", REGISTRY.dump(event, payload))
    result = process_message(database, customer_directory, envelope.to_json())
    assert result.outcome is Outcome.HANDLED


def test_any_staff_member_checks_a_reply_against_the_customer_directory(
    app: Flask, database: Database, agent: Staff
) -> None:
    announce_customer(database, 1, "Padaria Pão Dourado", "contato@paodourado.com.br")
    announce_customer(database, 2, "Oficina do Zé", "ze@gmail.com")
    text = "Olá! A Padaria Pão Dourado teve o mesmo problema. Abraços"
    answer = agent.send("POST", "/api/checks", {"text": text, "context": {"customer_id": 2}})
    assert answer.status_code == 200
    body = answer.get_json()
    assert body["language"] == "pt-BR" and body["blocking"] is True
    (finding,) = body["findings"]
    assert finding["check"] == "P-NO-GOSSIP:other-customer"
    assert finding["evidence"] == "Padaria Pão Dourado" and finding["lesson"] == "p-no-gossip"
    assert text[finding["start"] : finding["end"]] == "Padaria Pão Dourado"
    # A public mail domain says nothing about a customer: gmail.com is not confidential.
    plain = "Olá! Use o gmail.com como de costume. Abraços"
    assert agent.send("POST", "/api/checks", {"text": plain})
    assert agent.send("POST", "/api/checks", {"text": plain}).get_json()["findings"] == []


def test_bad_check_requests_get_a_clear_422(agent: Staff, app: Flask) -> None:
    for body in ({}, {"text": ""}, {"text": "Hi", "context": {"kind": "poem"}}):
        answer = agent.send("POST", "/api/checks", body)
        assert answer.status_code == 422, body
        assert answer.get_json()["errors"]
    assert app.test_client().get("/api/playbooks").status_code in (302, 401), "signed in only"


def test_the_owner_edits_a_playbook_as_a_new_version_with_its_diff_and_event(
    owner: Staff, agent: Staff, database: Database
) -> None:
    listed = owner.get("/api/playbooks").get_json()
    assert {p["id"] for p in listed} >= {"p-resolve", "reactivation-first"}
    first = owner.get("/api/playbooks/p-resolve").get_json()
    assert first["version"] == 1 and first["kind"] == "lesson"

    edited = first["source"].replace("kind: lesson", "kind: lesson\n# reviewed by Ana", 1)
    refused = agent.send("PUT", "/api/playbooks/p-resolve", {"source": edited})
    assert refused.status_code == 403
    answer = owner.send("PUT", "/api/playbooks/p-resolve", {"source": edited, "note": "Reviewed"})
    assert answer.status_code == 200 and answer.get_json()["version"] == 2

    history = owner.get("/api/playbooks/p-resolve/versions").get_json()
    assert [(v["version"], v["author"], v["from_file"]) for v in history] == [
        (1, "playbook files", True),
        (2, "ana@example.com", False),
    ]
    diff = owner.get("/api/playbooks/p-resolve/diff?from=1&to=2").get_json()["diff"]
    assert "+# reviewed by Ana" in diff
    with database.transaction() as session:
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == "training.playbook_published.v1")
        ).scalars()
        published = [json.loads(b)["payload"] for b in bodies]
    assert {"playbook_id": "p-resolve", "version": 2}.items() <= published[-1].items()

    # Importing the files again adds nothing: their text is already a version.
    with database.transaction() as session:
        assert import_files(session) == []


def test_a_broken_edit_is_refused_and_changes_nothing(owner: Staff) -> None:
    for source, reason in (
        ("id: [unclosed", "not valid YAML"),
        ("id: p-other\nkind: lesson\nrules: [P-RESOLVE]\n", "title"),
    ):
        answer = owner.send("PUT", "/api/playbooks/p-resolve", {"source": source})
        assert answer.status_code == 422 and reason in answer.get_json()["message"]
    assert owner.send("PUT", "/api/playbooks/nothing", {"source": "x"}).status_code == 404
    assert owner.get("/api/playbooks/p-resolve").get_json()["version"] == 1
    assert owner.get("/api/playbooks/p-resolve/diff?from=1&to=9").status_code == 404


def test_the_owner_tunes_a_check_and_every_reply_is_checked_with_it(
    owner: Staff, agent: Staff
) -> None:
    text = "Hi Ana, as per my last email, the DNS is fine. Thanks"
    assert agent.send("POST", "/api/checks", {"text": text}).get_json()["findings"] == []
    change = {"phrases": {"en": ["as per my last email"]}, "severity": "warn"}
    url = "/api/checker/settings/P-POLITE:condescending"
    assert agent.send("PATCH", url, change).status_code == 403
    tuned = owner.send("PATCH", url, change)
    assert tuned.status_code == 200 and tuned.get_json()["severity"] == "warn"
    body = agent.send("POST", "/api/checks", {"text": text}).get_json()
    assert [f["check"] for f in body["findings"]] == ["P-POLITE:condescending"]
    assert body["blocking"] is False
    settings = owner.get("/api/checker/settings").get_json()
    assert settings["P-POLITE:condescending"]["phrases"]["en"] == ["as per my last email"]
    bad = owner.send("PATCH", url, {"severity": "loud"})
    assert bad.status_code == 422
    unknown = owner.send("PATCH", "/api/checker/settings/P-NOPE:x", {"severity": "warn"})
    assert unknown.status_code == 422 and "no check" in unknown.get_json()["message"]
