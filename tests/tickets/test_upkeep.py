"""The desk's rounds: SLA warnings and breaches announced once each, the P-EASE follow-up
after a resolution, and a ticket left waiting on the customer closed after a notice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.tickets import lifecycle, replying, resolution
from services.tickets.models import StaffMember, Ticket
from services.tickets.upkeep import UpkeepPolicy, ease_rounds, sla_rounds
from shared.db import Database
from tests.tickets.conftest import announced
from tests.tickets.test_desk import GOOD_REPLY, carla, no_sla, open_one

MONDAY_10 = datetime(2026, 12, 7, 13, tzinfo=UTC)  # 10:00 in São Paulo


def opened_at(database: Database, ticket_id: int, moment: datetime) -> None:
    with database.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        ticket.created_at = ticket.updated_at = ticket.last_customer_message_at = moment


def test_sla_warnings_and_breaches_are_announced_once(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    ticket_id = open_one(database, priority="normal")
    opened_at(database, ticket_id, MONDAY_10)
    with database.transaction() as session:
        assert sla_rounds(session, MONDAY_10 + timedelta(hours=2)) == 0, "2 of 4 business hours"
        assert sla_rounds(session, MONDAY_10 + timedelta(hours=5)) == 1, (
            "past 75 % (lunch is not counted)"
        )
        assert sla_rounds(session, MONDAY_10 + timedelta(hours=5, minutes=30)) == 0, "once"
        assert sla_rounds(session, MONDAY_10 + timedelta(hours=7)) >= 1
    warnings = announced(database, "tickets.sla_warning.v1")
    breaches = announced(database, "tickets.sla_breached.v1")
    assert [w["target"] for w in warnings] == ["first_response"]
    assert "first_response" in [b["target"] for b in breaches]
    due = datetime.fromisoformat(breaches[0]["due_at"])
    assert due == datetime(2026, 12, 7, 19, tzinfo=UTC), "4 business hours: 10-12 and 14-16"


def test_a_follow_up_after_the_resolution_and_inactive_tickets_closed_after_a_notice(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    policy = UpkeepPolicy()
    resolved_id, waiting_id = open_one(database), open_one(database)
    with database.transaction() as session:
        agent = session.get(StaffMember, staff["agent"].id)
        assert agent is not None
        resolution.resolve(
            session,
            lifecycle.get_ticket(session, resolved_id),
            agent,
            cause="c",
            fix="f",
            prevention="p",
            survey_url="u",
            sla_outcome=no_sla,
        )
        replying.reply(session, lifecycle.get_ticket(session, waiting_id), agent, GOOD_REPLY)
    now = datetime.now(UTC)
    with database.transaction() as session:
        assert ease_rounds(session, policy, now + timedelta(days=1)) == 0
        assert ease_rounds(session, policy, now + timedelta(days=3, minutes=1)) == 1
    (follow_up,) = announced(database, "tickets.follow_up_due.v1")
    assert follow_up["ticket_id"] == resolved_id
    with database.transaction() as session:
        assert ease_rounds(session, policy, now + timedelta(days=5, minutes=1)) == 1
    (notice,) = announced(database, "tickets.closing_soon.v1")
    assert notice["ticket_id"] == waiting_id
    assert notice["closes_on"] == (now + timedelta(days=7)).date().isoformat()
    with database.transaction() as session:
        ease_rounds(session, policy, now + timedelta(days=7, minutes=2))
        assert lifecycle.get_ticket(session, waiting_id).status == "closed"
        assert lifecycle.get_ticket(session, resolved_id).status == "closed"
    reasons = {e["ticket_id"]: e["reason"] for e in announced(database, "tickets.ticket_closed.v1")}
    assert reasons == {waiting_id: "inactive", resolved_id: "resolved"}


def test_a_customers_answer_puts_off_the_closing(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    ticket_id = open_one(database)
    with database.transaction() as session:
        agent = session.get(StaffMember, staff["agent"].id)
        assert agent is not None
        replying.reply(session, lifecycle.get_ticket(session, ticket_id), agent, GOOD_REPLY)
    now = datetime.now(UTC)
    with database.transaction() as session:
        ease_rounds(session, UpkeepPolicy(), now + timedelta(days=5, minutes=1))
        ticket = lifecycle.get_ticket(session, ticket_id)
        lifecycle.customer_message(session, ticket, "Ainda estou vendo", "customer")
    with database.transaction() as session:
        ease_rounds(session, UpkeepPolicy(), now + timedelta(days=8))
        assert lifecycle.get_ticket(session, ticket_id).status == "open"
