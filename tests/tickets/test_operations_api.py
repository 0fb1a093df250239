"""The REST API of the desk's other actions: requests to billing, merging, the owner's
settings, care, and the team."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from flask import Flask

from services.tickets.models import StaffMember
from services.tickets.replicas import billing_state, training_policy
from shared.db import Database
from tests.tickets.conftest import announced, feed
from tests.tickets.test_desk import carla, open_one
from tests.tickets.test_desk_pages import session_of, suspend_carla


def test_requests_to_billing_and_merging(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    suspend_carla(database, grace_used=False)
    first, second = open_one(database), open_one(database)
    agent, trainee = session_of(app, staff["agent"]), session_of(app, staff["trainee"])
    pay_by = (date.today() + timedelta(days=5)).isoformat()
    assert trainee.post(f"/api/tickets/{first}/reactivation", {"pay_by": pay_by}).status_code == 403
    asked = agent.post(f"/api/tickets/{first}/reactivation", {"pay_by": pay_by})
    assert asked.status_code == 202
    assert announced(database, "tickets.reactivation_requested.v1")[0]["pay_by"] == pay_by
    assert agent.post(f"/api/tickets/{first}/reactivation", {"pay_by": "soon"}).status_code == 422
    cancel = agent.post(
        f"/api/tickets/{first}/cancellation",
        {"reason": "closing the shop", "offer_made": "a pause", "outcome": "cancels"},
    )
    assert cancel.status_code == 202
    (cancelled,) = announced(database, "tickets.cancellation_requested.v1")
    assert (cancelled["subscription_id"], cancelled["offer_made"]) == (9, "a pause")
    assert agent.post(f"/api/tickets/{second}/merge", {"into": first}).status_code == 200
    assert agent.post(f"/api/tickets/{second}/merge", {"into": first}).status_code == 422
    assert agent.post(f"/api/tickets/{first}/merge", {"into": 999}).status_code == 404


def test_a_cancellation_names_a_subscription_billing_has_not_invoiced_yet(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    ticket_id = open_one(database)
    agent = session_of(app, staff["agent"])
    asked = {"reason": "closing the shop", "offer_made": None, "outcome": "cancels"}
    assert agent.post(f"/api/tickets/{ticket_id}/cancellation", asked).status_code == 422
    feed(
        database,
        billing_state,
        "billing.subscription_started.v1",
        {
            "customer_id": 5,
            "customer_name": "Carla Dias",
            "email": "carla@loja.example",
            "language": "pt-BR",
            "timezone": "America/Sao_Paulo",
            "subscription_id": 12,
            "plan_name": "Hospedagem Pro",
            "period_start": date(2026, 4, 1),
            "period_end": date(2026, 5, 1),
        },
    )
    assert agent.post(f"/api/tickets/{ticket_id}/cancellation", asked).status_code == 202
    (cancelled,) = announced(database, "tickets.cancellation_requested.v1")
    assert cancelled["subscription_id"] == 12


def test_settings_care_and_team(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    owner, agent = session_of(app, staff["owner"]), session_of(app, staff["agent"])
    targets = owner.get("/api/settings/sla-targets").get_json()
    targets["urgent"]["first_response_minutes"] = 30
    assert (
        owner.send("PUT", "/api/settings/sla-targets", targets).get_json()["urgent"][
            "first_response_minutes"
        ]
        == 30
    )
    bad = owner.send("PUT", "/api/settings/sla-targets", {"urgent": {}})
    assert bad.status_code == 422
    assert agent.send("PUT", "/api/settings/sla-targets", targets).status_code == 403
    rule = owner.post(
        "/api/settings/escalation-rules",
        {"name": "r", "after_minutes": 60, "actions": ["alert_owner"]},
    )
    assert rule.status_code == 201 and rule.get_json()["actions"] == ["alert_owner"]
    assert (
        owner.post(
            "/api/settings/escalation-rules",
            {"name": "r", "after_minutes": 60, "actions": ["dance"]},
        ).status_code
        == 422
    )
    assert (
        owner.post(
            "/api/settings/canned-replies",
            {"title": "Oi", "language": "pt-BR", "body": "Olá {customer_name}"},
        ).status_code
        == 201
    )
    assert len(agent.get("/api/settings/canned-replies").get_json()) == 1

    late = agent.post("/api/care/running-late", {"customer_id": 5, "minutes": 10})
    assert late.status_code == 201 and late.get_json()["kind"] == "late"
    assert agent.post("/api/care/running-late", {"customer_id": 5, "minutes": 0}).status_code == 422
    (task,) = agent.get("/api/care/my-day").get_json()
    assert agent.post(f"/api/care/tasks/{task['id']}/done", {"note": "ok"}).status_code == 200
    assert agent.post(f"/api/care/tasks/{task['id']}/done", {"note": "ok"}).status_code == 422
    assert (
        agent.post("/api/care/referrals", {"customer_id": 5, "referred": "Loja Azul"}).status_code
        == 201
    )

    added = owner.post(
        "/api/staff", {"name": "Edu", "email": "edu@cortesia.example", "role": "agent"}
    )
    assert added.status_code == 201
    edu = added.get_json()["id"]
    accented = owner.post(
        "/api/staff", {"name": "Zé", "email": "zé@cortesia.example", "role": "agent"}
    )
    assert accented.status_code == 422
    assert "non-ASCII letters before the @" in accented.get_data(as_text=True)
    assert (
        agent.post(
            "/api/staff", {"name": "X", "email": "x@cortesia.example", "role": "agent"}
        ).status_code
        == 403
    )
    assert (
        owner.send("PUT", f"/api/staff/{edu}/role", {"role": "billing"}).get_json()["role"]
        == "billing"
    )
    assert owner.send("DELETE", f"/api/staff/{edu}", None).get_json()["active"] is False
    assert owner.send("DELETE", f"/api/staff/{staff['owner'].id}", None).status_code == 422
    paths = owner.get("/api/openapi.json").get_json()["paths"]
    assert {"/api/care/my-day", "/api/staff", "/api/settings/escalation-rules"} <= set(paths)


def test_a_maintenance_window_is_scheduled_with_its_customers_and_called_off(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    agent, trainee = session_of(app, staff["agent"]), session_of(app, staff["trainee"])
    starts = datetime.now(UTC).replace(microsecond=0) + timedelta(days=3)
    window = {
        "title": "Atualização do servidor de e-mail",
        "details": "As mensagens esperam na fila e chegam logo depois.",
        "starts_at": starts.isoformat(),
        "ends_at": (starts + timedelta(hours=2)).isoformat(),
        "customer_ids": [5],
    }
    assert trainee.post("/api/maintenance", window).status_code == 403
    past = {**window, "starts_at": (starts - timedelta(days=4)).isoformat()}
    assert agent.post("/api/maintenance", past).status_code == 422
    backwards = {**window, "ends_at": (starts - timedelta(hours=1)).isoformat()}
    assert agent.post("/api/maintenance", backwards).status_code == 422
    assert agent.post("/api/maintenance", {**window, "customer_ids": [5, 77]}).status_code == 422
    assert not announced(database, "tickets.maintenance_scheduled.v1")

    scheduled = agent.post("/api/maintenance", window)
    assert scheduled.status_code == 201, scheduled.get_json()
    maintenance_id = scheduled.get_json()["id"]
    (event,) = announced(database, "tickets.maintenance_scheduled.v1")
    assert event["maintenance_id"] == maintenance_id and event["customer_ids"] == [5]
    assert datetime.fromisoformat(event["starts_at"]) == starts
    assert event["details"] == window["details"]
    upcoming = agent.get("/api/maintenance").get_json()
    assert [w["id"] for w in upcoming] == [maintenance_id]

    assert agent.send("DELETE", f"/api/maintenance/{maintenance_id}", None).status_code == 200
    assert announced(database, "tickets.maintenance_cancelled.v1") == [
        {"maintenance_id": maintenance_id}
    ]
    assert agent.send("DELETE", f"/api/maintenance/{maintenance_id}", None).status_code == 422
    assert agent.send("DELETE", "/api/maintenance/999", None).status_code == 404


def test_the_team_shows_the_share_of_each_person_s_replies_held_for_review(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    owner = session_of(app, staff["owner"])

    def held() -> dict[str, int]:
        return {m["name"]: m["replies_held"] for m in owner.get("/api/staff").get_json()}

    assert held() == {"Ana": 0, "Bia": 0, "Duda": 100}, "a trainee's every reply until training"
    feed(
        database,
        training_policy,
        "training.review_policy_changed.v1",
        {"staff_id": staff["trainee"].id, "share_held": 40, "reason": "3 of 7 modules passed"},
    )
    assert held()["Duda"] == 40
    feed(
        database,
        training_policy,
        "training.trainee_certified.v1",
        {"staff_id": staff["trainee"].id, "certified_at": datetime.now(UTC)},
    )
    assert held()["Duda"] == 0
