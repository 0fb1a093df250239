"""Coaching from the desk's events: findings, ratings and SLA outcomes per staff member,
supervision that follows a trainee's work, and revocation only on the owner's word."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask

from services.training import coaching, onboarding
from services.training.coaching import desk_activity
from services.training.models import Enrolment
from services.training.performance import RecentWork
from services.training.staff_words import WORDS
from services.training.subscribers import staff_directory
from shared.bus.subscriber import Outcome, Subscriber, process_message
from shared.db import Database
from shared.events import REGISTRY, Envelope
from tests.support.staff import StaffSession
from tests.training.test_onboarding import OWNER, events

NOW = datetime.now(UTC)
TRAINEE, AGENT = 7, 8
_tickets = itertools.count(100)


def deliver(database: Database, subscriber: Subscriber, event_type: str, payload: Any) -> None:
    envelope = Envelope(event_type, "tickets", REGISTRY.dump(event_type, payload))
    result = process_message(database, subscriber, envelope.to_json())
    assert result.outcome is Outcome.HANDLED, result.reason


def hire(database: Database, staff_id: int, name: str, role: str) -> None:
    payload = {"staff_id": staff_id, "name": name, "email": f"{name}@example.com", "role": role}
    deliver(database, staff_directory, "tickets.staff_added.v1", payload)


def reply(
    database: Database,
    staff_id: int,
    *findings: tuple[str, str],
    ticket_id: int | None = None,
    outcome: str = "sent",
    at: datetime = NOW,
) -> int:
    ticket_id = ticket_id or next(_tickets)
    payload = {
        "ticket_id": ticket_id,
        "staff_id": staff_id,
        "customer_id": 3,
        "outcome": outcome,
        "findings": [
            {"check": check, "rule": check.split(":")[0], "severity": severity}
            for check, severity in findings
        ],
        "checked_at": at,
    }
    deliver(database, desk_activity, "tickets.reply_checked.v1", payload)
    return ticket_id


def rate(database: Database, staff_id: int, ticket_id: int, rating: int, comment: str = "") -> None:
    payload = {
        "ticket_id": ticket_id,
        "customer_id": 3,
        "staff_id": staff_id,
        "rating": rating,
        "comment": comment or None,
        "rated_at": NOW,
    }
    deliver(database, desk_activity, "tickets.ticket_rated.v1", payload)


def resolve(database: Database, staff_id: int, ticket_id: int, *, sla_met: bool) -> None:
    payload = {
        "ticket_id": ticket_id,
        "customer_id": 3,
        "subject": "Site slow",
        "staff_id": staff_id,
        "staff_name": "Duda",
        "cause": "a full disk",
        "fix": "cleaned the logs",
        "prevention": "log rotation",
        "first_response_met": True,
        "resolution_met": sla_met,
        "resolved_at": NOW,
    }
    deliver(database, desk_activity, "tickets.ticket_resolved.v1", payload)


def test_the_coaching_view_counts_findings_ratings_and_sla_and_explains_a_low_rating(
    database: Database,
) -> None:
    hire(database, AGENT, "Beto", "agent")
    rude = reply(database, AGENT, ("P-POLITE:greeting", "block"), ("P-RESOLVE:prevention", "warn"))
    reply(database, AGENT, ticket_id=rude)
    good = reply(database, AGENT)
    reply(database, AGENT, ("P-POLITE:closing", "warn"), at=NOW - timedelta(weeks=3))
    reply(database, AGENT, ("P-POLITE:closing", "warn"), at=NOW - timedelta(weeks=20))
    resolve(database, AGENT, rude, sla_met=False)
    resolve(database, AGENT, good, sla_met=True)
    rate(database, AGENT, rude, 2, "Nobody said hello and it broke again")
    rate(database, AGENT, good, 5)

    with database.transaction() as session:
        view = coaching.staff_coaching(session, AGENT)
    assert len(view.weeks) == coaching.WEEKS_SHOWN
    this_week, three_weeks_ago = view.weeks[-1], view.weeks[-4]
    assert this_week.replies == 3 and dict(this_week.findings) == {"P-POLITE": 1, "P-RESOLVE": 1}
    assert three_weeks_ago.replies == 1 and dict(three_weeks_ago.findings) == {"P-POLITE": 1}
    assert view.replies == 4, "the reply of 20 weeks ago is outside the view"
    assert view.rules == ["P-POLITE", "P-RESOLVE"]
    assert view.average_rating == 3.5 and this_week.ratings == (2, 5)
    assert view.sla_adherence == 0.5
    (low,) = view.low_ratings
    assert low.ticket_id == rude and low.comment == "Nobody said hello and it broke again"
    assert [finding["check"] for finding in low.broken] == [
        "P-POLITE:greeting",
        "P-RESOLVE:prevention",
    ]


def test_supervision_follows_the_trainees_replies_and_ratings(database: Database) -> None:
    hire(database, TRAINEE, "Duda", "trainee")
    tickets = [reply(database, TRAINEE, outcome="held") for _ in range(5)]
    assert events(database, "training.review_policy_changed.v1") == [], "no ratings yet"
    for ticket in tickets[:3]:
        rate(database, TRAINEE, ticket, 5)
    (lowered,) = events(database, "training.review_policy_changed.v1")
    assert lowered["share_held"] == 85
    assert "5 of the last 5 replies" in lowered["reason"] and "5.0 of 5" in lowered["reason"]

    for _ in range(6):
        rate(database, TRAINEE, reply(database, TRAINEE, outcome="held"), 1)
    raised = events(database, "training.review_policy_changed.v1")[-1]
    assert raised["share_held"] == 100


@pytest.mark.parametrize(
    ("blocking", "ratings", "share", "why"),
    [
        ([0] * 10, (5, 4, 4), 35, "modules passed"),
        ([0] * 10, (5, 5, 4), 20, "fewer replies reviewed"),
        ([0, 0, 0, 0], (5, 5, 5), 35, "modules passed"),
        ([1, 1, 1, 0, 0], (), 75, "more replies reviewed"),
        ([0] * 10, (2, 3, 2), 75, "rating 2.3 of 5: more replies reviewed"),
    ],
)
def test_the_share_held_weighs_modules_replies_and_ratings(
    blocking: list[int], ratings: tuple[int, ...], share: int, why: str
) -> None:
    work = RecentWork(len(blocking), blocking.count(0), ratings)
    held, reason = onboarding.supervision_share(6, 7, work)
    assert held == share and reason.startswith("6 of 7 modules passed") and why in reason


def certify(database: Database, staff_id: int) -> None:
    with database.transaction() as session:
        enrolment = session.get(Enrolment, staff_id)
        assert enrolment is not None
        enrolment.status, enrolment.share_held, enrolment.certified_at = "certified", 0, NOW


def test_repeated_blocking_findings_propose_revocation_which_only_the_owner_confirms(
    database: Database,
) -> None:
    hire(database, TRAINEE, "Duda", "trainee")
    certify(database, TRAINEE)
    blocked = ("P-CONFIDENTIAL:other-customer", "block")
    reply(database, TRAINEE, blocked, outcome="stopped", at=NOW - timedelta(days=20))
    reply(database, TRAINEE, blocked, outcome="stopped")
    reply(database, TRAINEE, ("P-POLITE:closing", "warn"))
    with database.transaction() as session:
        assert coaching.open_proposals(session) == [], "one old, one recent: not repeated yet"
    reply(database, TRAINEE, blocked, outcome="stopped")
    reply(database, TRAINEE, blocked, outcome="stopped")
    reply(database, TRAINEE, blocked, outcome="stopped")
    with database.transaction() as session:
        (proposal,) = coaching.open_proposals(session)
        assert proposal.reason == "3 replies with a blocking finding in the last 14 days"
        unchanged = session.get(Enrolment, TRAINEE)
        assert unchanged is not None and unchanged.status == "certified", "nothing changes yet"
        with pytest.raises(coaching.CoachingError, match="note"):
            coaching.decide(session, proposal.id, confirm=True, owner_email="ana@x", note=" ")
        coaching.decide(
            session, proposal.id, confirm=True, owner_email="ana@x", note="Read P-CONFIDENTIAL"
        )
        enrolment = session.get(Enrolment, TRAINEE)
        assert enrolment is not None
        assert (enrolment.status, enrolment.share_held) == ("supervised", 50)
    (revoked,) = events(database, "training.certification_revoked.v1")
    assert revoked == {
        "staff_id": TRAINEE,
        "share_held": 50,
        "reason": "3 replies with a blocking finding in the last 14 days: Read P-CONFIDENTIAL",
        "confirmed_by": "ana@x",
    }
    reply(database, TRAINEE, blocked, outcome="held")
    with database.transaction() as session:
        assert coaching.open_proposals(session) == [], "supervised again: the review catches it"


def test_a_dismissed_proposal_is_not_raised_again_from_the_same_replies(
    database: Database,
) -> None:
    hire(database, AGENT, "Beto", "agent")
    for _ in range(3):
        reply(database, AGENT, ("P-POLITE:shouting", "block"), outcome="overridden")
    with database.transaction() as session:
        (proposal,) = coaching.open_proposals(session)
        coaching.decide(session, proposal.id, confirm=False, owner_email="ana@x", note=None)
        with pytest.raises(coaching.CoachingError, match="already dismissed"):
            coaching.decide(session, proposal.id, confirm=True, owner_email="ana@x", note="x")
    reply(database, AGENT, ("P-POLITE:shouting", "block"), outcome="stopped")
    with database.transaction() as session:
        assert coaching.open_proposals(session) == []
        assert session.get(Enrolment, AGENT) is None
    assert events(database, "training.certification_revoked.v1") == []


def test_the_owner_sees_the_charts_and_decides_on_the_page_and_in_the_api(
    app: Flask, database: Database
) -> None:
    hire(database, AGENT, "Beto", "agent")
    ticket = reply(database, AGENT, ("P-POLITE:greeting", "block"), outcome="overridden")
    rate(database, AGENT, ticket, 1, "Cold answer")
    resolve(database, AGENT, ticket, sla_met=True)
    reply(database, AGENT, ("P-POLITE:greeting", "block"), outcome="overridden")
    reply(database, AGENT, ("P-POLITE:greeting", "block"), outcome="stopped")

    owner = StaffSession(app, OWNER)
    team = owner.get("/coaching/", headers={"Accept": "text/html"})
    assert team.status_code == 200 and "Beto" in team.text
    assert "Waiting for your decision" in team.text
    page = owner.get(f"/coaching/{AGENT}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert page.text.count("<svg") == 3
    assert "P-POLITE 3" in page.text, "the bar's title carries its number"
    assert "Cold answer" in page.text and "P-POLITE:greeting" in page.text
    assert 'href="/playbooks/p-polite"' in page.text
    assert owner.get("/coaching/99", headers={"Accept": "text/html"}).status_code == 404

    trainee = StaffSession(app, {"id": 7, "name": "Duda", "email": "d@x.com", "role": "trainee"})
    assert trainee.get("/coaching/").status_code == 403
    assert trainee.get(f"/api/coaching/{AGENT}").status_code == 403

    data = owner.get(f"/api/coaching/{AGENT}").get_json()
    assert data["name"] == "Beto" and data["replies"] == 3 and data["sla_adherence"] == 1.0
    assert data["low_ratings"][0]["broken"][0]["check"] == "P-POLITE:greeting"
    (proposal,) = [p for p in data["proposals"] if p["status"] == "open"]

    refused = owner.post(f"/api/coaching/proposals/{proposal['id']}", {"decision": "maybe"})
    assert refused.status_code == 422 and "decision" in refused.get_json()["errors"]["json"]
    no_note = owner.post(f"/api/coaching/proposals/{proposal['id']}", {"decision": "confirm"})
    assert no_note.status_code == 409 and "note" in no_note.get_json()["message"]
    form = owner.client.post(
        f"/coaching/proposals/{proposal['id']}",
        data={"decision": "confirm", "note": "Greet first", "csrf_token": owner.token},
    )
    assert form.status_code == 303
    again = owner.post(f"/api/coaching/proposals/{proposal['id']}", {"decision": "dismiss"})
    assert again.status_code == 409 and "already confirmed" in again.get_json()["message"]
    assert owner.post("/api/coaching/proposals/999", {"decision": "dismiss"}).status_code == 404
    after = owner.get(f"/coaching/{AGENT}", headers={"Accept": "text/html"}).text
    assert re.search(r"50 % of replies held for review", after)


PORTUGUESE = {"Accept": "text/html", "Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}


def test_the_coaching_pages_speak_the_owners_language(app: Flask, database: Database) -> None:
    hire(database, AGENT, "Beto", "agent")
    ticket = reply(database, AGENT, ("P-POLITE:greeting", "block"), outcome="overridden")
    rate(database, AGENT, ticket, 1, "Cold answer")
    owner = StaffSession(app, OWNER)

    team = owner.get("/coaching/", headers=PORTUGUESE).text
    assert "<h1>Acompanhamento</h1>" in team and "Manuais de conduta" in team, "and the nav"
    assert ">atendente<" in team, "the role in Portuguese"
    page = owner.get(f"/coaching/{AGENT}", headers=PORTUGUESE).text
    assert "Avaliações baixas" in page and "1 apontamento em 12 semanas" in page
    assert "(bloqueia)" in page and "Chamado #" in page
    assert "Apontamentos por semana, por regra, de Beto" in page, "the chart's title too"
    assert "Low ratings" in owner.get(f"/coaching/{AGENT}", headers={"Accept": "text/html"}).text
    refused = owner.client.post(
        "/coaching/proposals/1", data={"csrf_token": owner.token}, headers=PORTUGUESE
    )
    assert refused.status_code == 400
    assert "Escolha confirmar ou descartar a proposta." in refused.text


def test_every_training_word_is_in_both_languages() -> None:
    english, portuguese = WORDS["en"], WORDS["pt-BR"]
    for key, text in english.items():
        assert key in portuguese, key
        assert set(re.findall(r"{(\w+)}", text)) == set(re.findall(r"{(\w+)}", portuguese[key]))
