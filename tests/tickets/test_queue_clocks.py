"""The queue's badges from the moments stored on each change (``clocks.standings``): they
must say what the full clock says, at any moment until the ticket changes again.

The dates are November 2026 in São Paulo, as in ``test_sla``: Thursday the 19th, Friday
the 20th (a national holiday), Monday the 23rd; the desk opens 10:00-12:00 and 14:00-19:00.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from services.tickets import clocks
from services.tickets.models import Pause, Ticket
from services.tickets.sla import SlaStatus
from shared.db import Database

SAO_PAULO = ZoneInfo("America/Sao_Paulo")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """A moment in São Paulo, in UTC as the desk stores moments (SQLite keeps no offset)."""
    return datetime(2026, 11, day, hour, minute, tzinfo=SAO_PAULO).astimezone(UTC)


def a_ticket(session: Session, opened: datetime, status: str = "open") -> Ticket:
    ticket = Ticket(
        reference=f"T-{opened:%d%H%M}-{status}",
        subject="Site fora do ar",
        requester_name="Carla Dias",
        requester_email="carla@loja.example",
        language="pt-BR",
        channel="email",
        department="support",
        priority="normal",
        status=status,
        created_at=opened,
        updated_at=opened,
    )
    session.add(ticket)
    session.flush()
    return ticket


def assert_agrees(session: Session, ticket: Ticket, moment: datetime) -> SlaStatus:
    stored = clocks.standings(session, [ticket], moment)[ticket.id]
    worked_out = clocks.states(session, [ticket], moment)[ticket.id]
    assert (stored.worst, stored.next_due_at) == (worked_out.worst, worked_out.next_due_at)
    return stored.worst


def test_the_stored_moments_give_the_clocks_badge_across_a_holiday(database: Database) -> None:
    with database.transaction() as session:
        ticket = a_ticket(session, at(19, 18))
        clocks.refresh(session, ticket, at(19, 18, 5))
        # First response: 4 business hours, the warning at 3; the holiday does not count.
        assert clocks.aware(ticket.warn_at) == at(23, 12)
        assert clocks.aware(ticket.next_due_at) == at(23, 15)
        seen = [
            assert_agrees(session, ticket, moment)
            for moment in (at(19, 18, 30), at(20, 15), at(23, 11, 59), at(23, 12), at(23, 15),
                           at(23, 15, 1), at(24, 10))
        ]  # fmt: skip
    assert seen == [SlaStatus.OK] * 3 + [SlaStatus.WARNING] * 2 + [SlaStatus.BREACHED] * 2


def test_waiting_on_the_customer_shows_paused_and_resuming_moves_the_warning(
    database: Database,
) -> None:
    with database.transaction() as session:
        ticket = a_ticket(session, at(19, 18))
        session.add(Pause(ticket_id=ticket.id, started_at=at(19, 18, 30)))
        ticket.status = "waiting"
        clocks.refresh(session, ticket, at(19, 18, 30))
        assert (ticket.next_due_at, ticket.warn_at) == (None, None)
        for moment in (at(19, 18, 45), at(23, 16)):
            assert assert_agrees(session, ticket, moment) is SlaStatus.PAUSED

        pause = session.query(Pause).filter_by(ticket_id=ticket.id).one()
        pause.ended_at = at(23, 10)
        ticket.status = "open"
        clocks.refresh(session, ticket, at(23, 10))
        # Half an hour counted on Thursday; 2.5 more from Monday 10:00 to the warning.
        assert clocks.aware(ticket.warn_at) == at(23, 14, 30)
        assert assert_agrees(session, ticket, at(23, 14, 29)) is SlaStatus.OK
        assert assert_agrees(session, ticket, at(23, 14, 30)) is SlaStatus.WARNING


def test_a_resolved_ticket_keeps_the_outcome_its_clocks_stopped_at(database: Database) -> None:
    with database.transaction() as session:
        resolved = a_ticket(session, at(19, 18), status="resolved")
        # Answered and resolved an hour after the first response was due.
        resolved.first_response_at = resolved.resolved_at = at(23, 16)
        clocks.refresh(session, resolved, at(23, 16))
        assert resolved.resolved_standing == "missed"
        assert assert_agrees(session, resolved, at(24, 10)) is SlaStatus.MISSED
        # The queue reads the kept outcome, not the clocks: a week later, it still says so.
        resolved.first_response_at = None
        shown = clocks.standings(session, [resolved], at(30, 10))[resolved.id]
        assert (shown.worst, shown.next_due_at) == (SlaStatus.MISSED, None)


def test_a_reopened_ticket_has_its_clocks_worked_out_again(database: Database) -> None:
    with database.transaction() as session:
        ticket = a_ticket(session, at(19, 18), status="resolved")
        ticket.first_response_at = ticket.resolved_at = at(19, 18, 30)
        clocks.refresh(session, ticket, at(19, 18, 30))
        assert ticket.resolved_standing is not None
        ticket.status = "open"  # the customer wrote back
        ticket.customer_turn_at = at(23, 10)
        clocks.refresh(session, ticket, at(23, 10))
        assert ticket.resolved_standing is None
        assert_agrees(session, ticket, at(23, 11))


def test_never_stored_tickets_have_their_clocks_worked_out(database: Database) -> None:
    with database.transaction() as session:
        resolved = a_ticket(session, at(19, 18), status="resolved")
        resolved.first_response_at = resolved.resolved_at = at(23, 16)
        assert resolved.resolved_standing is None  # resolved before the outcome was kept
        assert assert_agrees(session, resolved, at(24, 10)) is SlaStatus.MISSED
        unstored = a_ticket(session, at(19, 18))
        unstored.next_due_at = at(23, 15)  # changed before the warning moments were kept
        assert assert_agrees(session, unstored, at(23, 12)) is SlaStatus.WARNING
