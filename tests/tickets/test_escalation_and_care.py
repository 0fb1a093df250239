"""P-ESCALATE rules, canned replies with placeholders, and the care of managed customers
(P-CADENCE, P-REFERRAL, P-LATE), through their pages and their service layer."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask import Flask

from services.tickets import canned, care, clocks, lifecycle
from services.tickets.escalation import RuleDraft, escalation_rounds, save_rule
from services.tickets.lifecycle import TicketError
from services.tickets.models import CareTask, Message, StaffMember, Ticket
from shared.db import Database
from tests.tickets.conftest import announced
from tests.tickets.test_desk import carla, open_one
from tests.tickets.test_desk_pages import HTML, session_of
from tests.tickets.test_upkeep import MONDAY_10, opened_at


def test_an_escalation_rule_fires_once_with_its_actions(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    billing_ticket = open_one(database, department="billing")
    support_ticket = open_one(database)
    for ticket_id in (billing_ticket, support_ticket):
        opened_at(database, ticket_id, MONDAY_10)
    owner_id = staff["owner"].id
    with database.transaction() as session:
        with pytest.raises(TicketError, match="Unknown action"):
            save_rule(session, RuleDraft("x", 60, ["shout"]))
        with pytest.raises(TicketError, match="active staff"):
            save_rule(session, RuleDraft("x", 60, ["reassign:999"]))
        save_rule(
            session,
            RuleDraft(
                "Billing waits 2h",
                120,
                [f"reassign:{owner_id}", "raise_priority", "alert_owner", "attach_script"],
                department="billing",
            ),
        )
        assert escalation_rounds(session, MONDAY_10 + timedelta(hours=1)) == 0
        assert escalation_rounds(session, MONDAY_10 + timedelta(hours=5)) == 1, "only billing's"
        assert escalation_rounds(session, MONDAY_10 + timedelta(hours=6)) == 0, "once"
        ticket = session.get(Ticket, billing_ticket)
        assert ticket is not None
        assert (ticket.assignee_id, ticket.priority) == (owner_id, "high")
        notes = session.query(Message).filter_by(ticket_id=billing_ticket, internal=True).all()
        assert "/training/playbooks/cannot-solve" in notes[0].body
    (escalated,) = announced(database, "tickets.ticket_escalated.v1")
    assert escalated["rule"] == "Billing waits 2h" and "alert_owner" in escalated["actions"]


def test_canned_replies_fill_their_placeholders(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    ticket_id = open_one(database)
    with database.transaction() as session:
        with pytest.raises(TicketError, match="Unknown placeholders"):
            canned.save(session, "Oi", "pt-BR", "Olá {nome}")
        reply = canned.save(
            session,
            "Recebido",
            "pt-BR",
            "Olá {customer_name}, sou {agent_name}: {ticket_reference}.",
        )
        ticket = lifecycle.get_ticket(session, ticket_id)
        agent = session.get(StaffMember, staff["agent"].id)
        assert agent is not None
        text = canned.fill(reply, ticket, agent)
    assert text == f"Olá Carla, sou Bia: {ticket.reference}."


def test_managed_customers_get_their_touchpoints_and_referrals_and_lateness_are_kept(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)  # a managed customer
    today = clocks.company_date()
    with database.transaction() as session:
        assert care.cadence_rounds(session, today) == 2
        assert care.cadence_rounds(session, today) == 0, "one open email and one open call"
        agent = session.get(StaffMember, staff["agent"].id)
        assert agent is not None
        email = session.query(CareTask).filter_by(kind="email").one()
        care.complete(session, email.id, agent, "Perguntei como vão as vendas")
        with pytest.raises(TicketError, match="already done"):
            care.complete(session, email.id, agent, None)
        assert care.cadence_rounds(session, today) == 1
        upcoming = session.query(CareTask).filter_by(kind="email", done_at=None).one()
        assert upcoming.due_on == today + timedelta(days=2), "every two or three days"
        care.record_referral(session, 5, "Padaria do João", agent)
        care.running_late(session, 5, 15, agent)
        with pytest.raises(TicketError, match="minutes late"):
            care.running_late(session, 5, 0, agent)
        day = care.my_day(session, agent, today)
        assert day[0].kind == "late", "the customer who waited comes first"
    (late,) = announced(database, "tickets.running_late.v1")
    assert (late["customer_id"], late["minutes"], late["staff_name"]) == (5, 15, "Bia")


def test_the_settings_and_my_day_pages(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    owner, agent = session_of(app, staff["owner"]), session_of(app, staff["agent"])
    page = owner.get("/desk/settings", headers=HTML)
    assert page.status_code == 200 and "SLA targets" in page.text
    form = {
        f"{p}:{n}": "60"
        for p in ("urgent", "high", "normal", "low")
        for n in ("first_response_minutes", "next_response_minutes", "resolution_minutes")
    }
    assert (
        owner.client.post(
            "/desk/settings/targets", data={**form, "csrf_token": owner.token}
        ).status_code
        == 303
    )
    bad = owner.client.post(
        "/desk/settings/targets",
        data={**form, "low:resolution_minutes": "soon", "csrf_token": owner.token},
    )
    assert bad.status_code == 422 and "whole minutes" in bad.text
    rule = owner.client.post(
        "/desk/settings/rules",
        data={
            "name": "Urgent 30 min",
            "priority": "urgent",
            "after_minutes": "30",
            "actions": "alert_owner",
            "csrf_token": owner.token,
        },
    )
    assert (
        rule.status_code == 303
        and "Urgent 30 min" in owner.get("/desk/settings", headers=HTML).text
    )
    assert (
        owner.client.post(
            "/desk/settings/canned",
            data={
                "title": "Oi",
                "language": "pt-BR",
                "body": "Olá {customer_name}!",
                "csrf_token": owner.token,
            },
        ).status_code
        == 303
    )
    assert agent.get("/desk/settings", headers=HTML).status_code == 403

    ticket_id = open_one(database)
    with database.transaction() as session:
        care.cadence_rounds(session, clocks.company_date())
    ticket_page = agent.get(f"/desk/tickets/{ticket_id}", headers=HTML)
    assert 'data-text="Olá Carla!"' in ticket_page.text, "the canned reply, filled for this ticket"
    assert "Open care tasks" in ticket_page.text and "Call Carla Dias (weekly)" in ticket_page.text
    late = agent.client.post(
        "/desk/my-day/late", data={"customer_id": "5", "minutes": "20", "csrf_token": agent.token}
    )
    assert late.status_code == 303
    day = agent.get("/desk/my-day", headers=HTML)
    assert "waited 20 min for Bia" in day.text
    wrong = agent.client.post(
        "/desk/my-day/referral",
        data={"customer_id": "", "referred": "x", "csrf_token": agent.token},
    )
    assert wrong.status_code == 422 and "Choose the customer" in wrong.text
