"""The SLA clock of each ticket at the desk: the company's calendar and targets (the
owner's, or the founder's defaults), the ticket's pauses while it waited on the customer,
and the state of its three clocks, for the queue, the ticket page and the alerts."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets import sla
from services.tickets.lifecycle import aware
from services.tickets.models import DeskSetting, Pause, Ticket
from services.tickets.resolution import SlaOutcome
from shared.business_hours import BusinessCalendar

TARGETS_KEY = "sla_targets"
DEFAULT_CALENDAR = BusinessCalendar()


def targets(session: Session) -> sla.SlaTargets:
    row = session.get(DeskSetting, TARGETS_KEY)
    return sla.SlaTargets.from_mapping(json.loads(row.value)) if row else sla.SlaTargets()


def save_targets(session: Session, mapping: dict[str, object]) -> sla.SlaTargets:
    """The owner's targets; a ValueError says what is wrong with them."""
    parsed = sla.SlaTargets.from_mapping(mapping)
    session.merge(DeskSetting(key=TARGETS_KEY, value=json.dumps(parsed.to_mapping())))
    return parsed


def _pauses(session: Session, ticket_ids: Sequence[int]) -> dict[int, list[sla.Pause]]:
    found: dict[int, list[sla.Pause]] = {ticket_id: [] for ticket_id in ticket_ids}
    if not ticket_ids:
        return found
    for row in session.execute(
        select(Pause).where(Pause.ticket_id.in_(ticket_ids)).order_by(Pause.started_at)
    ).scalars():
        start = aware(row.started_at)
        assert start is not None
        found[row.ticket_id].append(sla.Pause(start, aware(row.ended_at)))
    return found


def state_of(
    ticket: Ticket,
    pauses: Sequence[sla.Pause],
    goals: sla.SlaTargets,
    now: datetime,
    calendar: BusinessCalendar = DEFAULT_CALENDAR,
) -> sla.SlaState:
    started = aware(ticket.created_at)
    assert started is not None
    return sla.clock_state(
        calendar,
        goals,
        priority=ticket.priority,
        emergency=ticket.emergency,
        started_at=started,
        first_response_at=aware(ticket.first_response_at),
        customer_turn_at=aware(ticket.customer_turn_at),
        last_staff_reply_at=aware(ticket.last_staff_reply_at),
        resolved_at=aware(ticket.resolved_at),
        pauses=pauses,
        now=now,
    )


def states(
    session: Session, tickets: Iterable[Ticket], now: datetime | None = None
) -> dict[int, sla.SlaState]:
    """Each ticket's clocks, with one query for all their pauses."""
    listed = list(tickets)
    moment = now or datetime.now(UTC)
    goals = targets(session)
    pauses = _pauses(session, [ticket.id for ticket in listed])
    return {ticket.id: state_of(ticket, pauses[ticket.id], goals, moment) for ticket in listed}


def resolution_outcome(session: Session) -> SlaOutcome:
    """For ``resolution.resolve``: whether the first response and resolution were in time."""

    def judge(ticket: Ticket, at: datetime) -> tuple[bool | None, bool | None]:
        state = state_of(ticket, _pauses(session, [ticket.id])[ticket.id], targets(session), at)
        return state.first_response.met, state.resolution.met

    return judge
