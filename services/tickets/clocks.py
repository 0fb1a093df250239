"""The SLA clock of each ticket at the desk: the company's calendar and targets (the
owner's, or the founder's defaults), the ticket's pauses while it waited on the customer,
and the state of its three clocks, for the queue, the ticket page and the alerts.

Working out a clock walks every business day since the ticket opened. So every change to a
ticket stores the two moments its clocks will next change at (``refresh``): the earliest
deadline and the earliest warning of the clocks running. Until the next change they stay
true, and the queue reads its badges from them (``standings``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets import sla
from services.tickets.models import OPEN_STATUSES, DeskSetting, Pause, Ticket
from shared import clock
from shared.business_hours import BusinessCalendar

TARGETS_KEY = "sla_targets"

SlaOutcome = Callable[[Ticket, datetime], tuple[bool | None, bool | None]]
"""(first response met, resolution met) for a ticket resolved at a moment."""


def aware(moment: datetime | None) -> datetime | None:
    """SQLite hands timezone-aware columns back naive (they are stored in UTC)."""
    if moment is None:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


DEFAULT_CALENDAR = BusinessCalendar()


def company_date(moment: datetime | None = None) -> date:
    """The date at the company (São Paulo) at ``moment`` (now by default): what is due
    "today" at the desk, whatever the server's clock zone."""
    instant = aware(moment) or clock.now()
    return instant.astimezone(DEFAULT_CALENDAR.zone).date()


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
    moment = now or clock.now()
    goals = targets(session)
    pauses = _pauses(session, [ticket.id for ticket in listed])
    return {ticket.id: state_of(ticket, pauses[ticket.id], goals, moment) for ticket in listed}


@dataclass(frozen=True)
class Standing:
    """What the queue shows of a ticket's clocks: the status that asks for action first,
    and the earliest deadline of the clocks running (in the company's timezone)."""

    worst: sla.SlaStatus
    next_due_at: datetime | None


def standings(
    session: Session, tickets: Iterable[Ticket], now: datetime | None = None
) -> dict[int, Standing]:
    """Each ticket's standing: an open ticket's from the moments ``refresh`` stored, any
    other's (resolved, or not changed since the moments were kept) from its clocks."""
    moment = now or clock.now()
    found: dict[int, Standing] = {}
    unstored: list[Ticket] = []
    for ticket in tickets:
        standing = _stored_standing(ticket, moment)
        if standing is None:
            unstored.append(ticket)
        else:
            found[ticket.id] = standing
    if unstored:
        for ticket_id, state in states(session, unstored, moment).items():
            found[ticket_id] = Standing(state.worst, state.next_due_at)
    return found


def _stored_standing(ticket: Ticket, now: datetime) -> Standing | None:
    """None when what was stored cannot tell: a ticket changed before the moments or the
    outcome were kept, or one closed without a resolution."""
    if ticket.status not in OPEN_STATUSES:
        outcome = ticket.resolved_standing if _settled(ticket) else None
        return Standing(sla.SlaStatus(outcome), None) if outcome else None
    if ticket.resolved_at is not None:
        return None  # reopened: its resolution clock stopped, the next response's runs
    due, warn = aware(ticket.next_due_at), aware(ticket.warn_at)
    if due is None:
        # The resolution clock of an unresolved ticket runs unless it is paused.
        paused = ticket.status in sla.PAUSING_STATUSES
        return Standing(sla.SlaStatus.PAUSED, None) if paused else None
    if warn is None:
        return None
    if now > due:
        status = sla.SlaStatus.BREACHED
    elif now >= warn:
        status = sla.SlaStatus.WARNING
    else:
        status = sla.SlaStatus.OK
    return Standing(status, due.astimezone(DEFAULT_CALENDAR.zone))


def resolution_outcome(session: Session) -> SlaOutcome:
    """For ``resolution.resolve``: whether the first response and resolution were in time."""

    def judge(ticket: Ticket, at: datetime) -> tuple[bool | None, bool | None]:
        state = state_of(ticket, _pauses(session, [ticket.id])[ticket.id], targets(session), at)
        return state.first_response.met, state.resolution.met

    return judge


def refresh(session: Session, ticket: Ticket, now: datetime | None = None) -> None:
    """Keep the ticket's next due and warning moments current, so the queue sorts by the
    first in SQL and shows its badges from both; and a resolved ticket's outcome."""
    session.flush()
    state = states(session, [ticket], now)[ticket.id]
    ticket.next_due_at = _utc(state.next_due_at)
    ticket.warn_at = _utc(state.warn_at)
    ticket.resolved_standing = state.worst.value if _settled(ticket) else None


def _settled(ticket: Ticket) -> bool:
    """Resolved (or closed after a resolution), and not reopened since: no clock runs."""
    return ticket.resolved_at is not None and ticket.status not in OPEN_STATUSES


def _utc(moment: datetime | None) -> datetime | None:
    return moment.astimezone(UTC) if moment is not None else None


def waited_past_sla(session: Session, ticket: Ticket) -> bool:
    """Has the customer waited longer than promised for an answer? Then a reply apologises
    (P-POLITE)."""
    state = states(session, [ticket])[ticket.id]
    return any(
        target.status in (sla.SlaStatus.BREACHED, sla.SlaStatus.MISSED)
        for target in (state.first_response, state.next_response)
    )
