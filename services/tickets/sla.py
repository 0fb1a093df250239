"""The support desk's SLA clock: first response, next response and resolution targets.

Targets are counted in business time (P-HOURS): the company's opening hours, without
breaks, weekends and holidays. Emergencies (site or mailbox down, data at risk, security)
are answered at any hour (P-REACH, P-DATA), so their clock runs around the clock. The
clock stops while the desk waits on the customer. Everything here is pure: the caller
passes ``now`` and the ticket's moments, and gets back what the queue shows.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from functools import lru_cache

from shared.business_hours import BusinessCalendar

PRIORITIES = ("urgent", "high", "normal", "low")
"""Ticket priorities, most pressing first."""

PAUSING_STATUSES = ("waiting", "on_hold")
"""Ticket statuses during which the SLA clock stops: the desk is waiting on the customer
(or on a date the customer asked for), not keeping them waiting."""

END_OF_DAY = time.max
"""An opening interval ending here runs to midnight; ``time`` has no 24:00."""

_MINUTE = timedelta(minutes=1)
_NEVER_OPEN_AFTER_DAYS = 400
"""Closed days in a row after which a calendar is taken to never open (a holiday list
never closes a whole year)."""


class SlaStatus(StrEnum):
    OK = "ok"
    WARNING = "warning"
    BREACHED = "breached"
    PAUSED = "paused"
    MISSED = "missed"
    MET = "met"
    NOT_APPLICABLE = "not_applicable"


URGENCY = (
    SlaStatus.BREACHED,
    SlaStatus.WARNING,
    SlaStatus.OK,
    SlaStatus.PAUSED,
    SlaStatus.MISSED,
    SlaStatus.MET,
    SlaStatus.NOT_APPLICABLE,
)
"""Statuses from the one that asks for action first: running clocks before paused ones,
and those before clocks that already stopped."""

_RUNNING = frozenset({SlaStatus.OK, SlaStatus.WARNING, SlaStatus.BREACHED})


# --- business time ---------------------------------------------------------------------


@lru_cache(maxsize=32)
def around_the_clock(timezone: str) -> BusinessCalendar:
    """A calendar open every day at every hour, with no holidays: the emergencies' clock."""
    return BusinessCalendar(
        timezone=timezone,
        open_days=frozenset(range(7)),
        hours=((time(0), END_OF_DAY),),
        holiday_country=None,
    )


def business_seconds_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> float:
    """Business time from ``start`` to ``end`` (aware datetimes), in seconds; 0 if end <= start."""
    return business_time_between(calendar, start, end).total_seconds()


def add_business_time(calendar: BusinessCalendar, start: datetime, seconds: float) -> datetime:
    """The first moment by which ``seconds`` of business time have passed since ``start``.

    Counting begins at the next opening when ``start`` is outside business hours. The
    answer is in the calendar's timezone; a span ending with an interval ends at its close
    (12:00, not 14:00).
    """
    return add_business_timedelta(calendar, start, timedelta(seconds=seconds))


def business_time_between(calendar: BusinessCalendar, start: datetime, end: datetime) -> timedelta:
    """:func:`business_seconds_between` as a ``timedelta``, exact to the microsecond."""
    _require_aware(start=start, end=end)
    if end <= start:
        return timedelta(0)
    total = timedelta(0)
    day = start.astimezone(calendar.zone).date()
    last_day = end.astimezone(calendar.zone).date()
    while day <= last_day:
        for opens, closes in _open_intervals(calendar, day):
            overlap = min(closes, end) - max(opens, start)
            if overlap > timedelta(0):
                total += overlap
        day += timedelta(days=1)
    return total


def add_business_timedelta(
    calendar: BusinessCalendar, start: datetime, amount: timedelta
) -> datetime:
    """:func:`add_business_time` for a ``timedelta``."""
    _require_aware(start=start)
    if amount < timedelta(0):
        raise ValueError(f"business time to add must not be negative, got {amount}")
    remaining = amount
    day = start.astimezone(calendar.zone).date()
    closed_days = 0
    while closed_days < _NEVER_OPEN_AFTER_DAYS:
        intervals = _open_intervals(calendar, day)
        closed_days = 0 if intervals else closed_days + 1
        for opens, closes in intervals:
            counting_from = max(opens, start)
            if closes <= counting_from:
                continue
            if remaining <= closes - counting_from:
                return (counting_from + remaining).astimezone(calendar.zone)
            remaining -= closes - counting_from
        day += timedelta(days=1)
    raise ValueError("the calendar never opens")


# Kept per calendar and day: the queue works out 50 tickets' clocks a page, each walking
# every day since it opened, and a calendar (frozen) always gives a day the same hours.
@lru_cache(maxsize=8192)
def _open_intervals(calendar: BusinessCalendar, day: date) -> tuple[tuple[datetime, datetime], ...]:
    """The day's opening intervals as UTC moments, so that subtracting them gives real time
    even on a day a daylight-saving change makes 23 or 25 hours long."""
    if not calendar.is_business_day(day):
        return ()
    intervals = []
    for opens, closes in calendar.hours:
        start = datetime.combine(day, opens, calendar.zone).astimezone(UTC)
        if closes == END_OF_DAY:
            end = datetime.combine(day + timedelta(days=1), time(0), calendar.zone)
        else:
            end = datetime.combine(day, closes, calendar.zone)
        if end.astimezone(UTC) > start:
            intervals.append((start, end.astimezone(UTC)))
    return tuple(intervals)


def _require_aware(**moments: datetime | None) -> None:
    for name, moment in moments.items():
        if moment is not None and moment.utcoffset() is None:
            raise ValueError(f"{name} must be a timezone-aware datetime, got {moment!r}")


# --- targets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class PriorityTargets:
    """One priority's targets, in business time (around the clock for emergencies)."""

    first_response: timedelta
    next_response: timedelta
    resolution: timedelta

    def __post_init__(self) -> None:
        for name in _TARGET_NAMES:
            value = getattr(self, name)
            if value <= timedelta(0) or value % _MINUTE:
                raise ValueError(f"{name} must be a positive whole number of minutes, got {value}")


_TARGET_NAMES = ("first_response", "next_response", "resolution")


def _hours(first_response: int, next_response: int, resolution: int) -> PriorityTargets:
    return PriorityTargets(
        timedelta(hours=first_response), timedelta(hours=next_response), timedelta(hours=resolution)
    )


@dataclass(frozen=True)
class SlaTargets:
    """Targets per priority. The defaults suit a hosting desk on the default calendar, whose
    business day is 7 hours (10:00-12:00 and 14:00-19:00): a normal ticket is resolved
    within 3 business days (21 h), a low one within 5 (35 h)."""

    urgent: PriorityTargets = field(default_factory=lambda: _hours(1, 2, 8))
    high: PriorityTargets = field(default_factory=lambda: _hours(2, 4, 16))
    normal: PriorityTargets = field(default_factory=lambda: _hours(4, 8, 21))
    low: PriorityTargets = field(default_factory=lambda: _hours(8, 16, 35))

    def for_priority(self, priority: str) -> PriorityTargets:
        if priority not in PRIORITIES:
            raise ValueError(f"unknown priority {priority!r}; expected one of {PRIORITIES}")
        targets: PriorityTargets = getattr(self, priority)
        return targets

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> SlaTargets:
        """Targets from what the owner's settings store, e.g.
        ``{"urgent": {"first_response_minutes": 60, "next_response_minutes": 120,
        "resolution_minutes": 480}, "high": {...}, "normal": {...}, "low": {...}}``."""
        if not isinstance(data, Mapping):
            raise ValueError(f"SLA targets must be a mapping of priorities, got {data!r}")
        unknown = sorted(str(key) for key in data if key not in PRIORITIES)
        if unknown:
            raise ValueError(
                f"SLA targets: unknown priorities {unknown}; expected exactly {list(PRIORITIES)}"
            )
        parsed = {}
        for priority in PRIORITIES:
            if priority not in data:
                raise ValueError(f"SLA targets: priority {priority!r} is missing")
            parsed[priority] = _priority_from_mapping(priority, data[priority])
        return cls(**parsed)

    def to_mapping(self) -> dict[str, dict[str, int]]:
        return {
            priority: {
                f"{name}_minutes": getattr(self.for_priority(priority), name) // _MINUTE
                for name in _TARGET_NAMES
            }
            for priority in PRIORITIES
        }


def _priority_from_mapping(priority: str, data: object) -> PriorityTargets:
    if not isinstance(data, Mapping):
        raise ValueError(f"SLA targets: {priority!r} must be a mapping of minutes, got {data!r}")
    keys = [f"{name}_minutes" for name in _TARGET_NAMES]
    unknown = sorted(str(key) for key in data if key not in keys)
    if unknown:
        raise ValueError(f"SLA targets: {priority}: unknown keys {unknown}; expected {keys}")
    values = {}
    for name, key in zip(_TARGET_NAMES, keys, strict=True):
        if key not in data:
            raise ValueError(f"SLA targets: {priority}.{key} is missing")
        minutes = data[key]
        # bool is an int to Python, but True minutes is a typo, not a target.
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes <= 0:
            raise ValueError(
                f"SLA targets: {priority}.{key} must be a positive whole number of minutes, "
                f"got {minutes!r}"
            )
        values[name] = timedelta(minutes=minutes)
    return PriorityTargets(**values)


# --- the clock -------------------------------------------------------------------------


@dataclass(frozen=True)
class Pause:
    """A period the clock stops; ``end`` is None while it lasts."""

    start: datetime
    end: datetime | None = None

    def __post_init__(self) -> None:
        _require_aware(start=self.start, end=self.end)
        if self.end is not None and self.end < self.start:
            raise ValueError(f"a pause cannot end ({self.end}) before it starts ({self.start})")


def pauses_from_history(
    changes: Iterable[tuple[datetime, str]],
    pausing_statuses: Collection[str] = PAUSING_STATUSES,
) -> tuple[Pause, ...]:
    """The pauses in a ticket's status history: ``(moment, new status)`` pairs in order."""
    pauses = []
    paused_since: datetime | None = None
    for moment, status in changes:
        if status in pausing_statuses:
            if paused_since is None:
                paused_since = moment
        elif paused_since is not None:
            pauses.append(Pause(paused_since, moment))
            paused_since = None
    if paused_since is not None:
        pauses.append(Pause(paused_since))
    return tuple(pauses)


@dataclass(frozen=True)
class TargetState:
    """One target's clock.

    ``elapsed`` is the business time counted (pauses excluded) up to the target's end event
    or ``now``; ``remaining`` is the target minus it, negative once overdue. ``due_at`` is
    pushed out by pauses; during a pause that is still open it assumes the clock resumes
    ``now``. ``warn_at`` is when the clock shows a warning, worked out the same way, and None
    once it has stopped. ``met`` is None while the clock runs or has nothing to count.
    """

    status: SlaStatus
    target: timedelta
    started_at: datetime | None = None
    ended_at: datetime | None = None
    due_at: datetime | None = None
    warn_at: datetime | None = None
    elapsed: timedelta = timedelta(0)
    remaining: timedelta | None = None
    met: bool | None = None

    @property
    def running(self) -> bool:
        return self.status in _RUNNING


@dataclass(frozen=True)
class SlaState:
    first_response: TargetState
    next_response: TargetState
    resolution: TargetState

    @property
    def targets(self) -> tuple[TargetState, TargetState, TargetState]:
        return (self.first_response, self.next_response, self.resolution)

    @property
    def worst(self) -> SlaStatus:
        """The status that asks for action first, for the queue's badge and sort."""
        return min((state.status for state in self.targets), key=URGENCY.index)

    @property
    def next_due_at(self) -> datetime | None:
        """The earliest due moment among the clocks running now."""
        due = [state.due_at for state in self.targets if state.running and state.due_at]
        return min(due, default=None)

    @property
    def warn_at(self) -> datetime | None:
        """The earliest moment a clock running now shows a warning (maybe already past).

        With :attr:`next_due_at` it tells what the ticket will show until something
        happens to it: a running clock's moments stay put, and a paused one is not among
        them (it shows paused until the pause ends)."""
        warnings = [state.warn_at for state in self.targets if state.running and state.warn_at]
        return min(warnings, default=None)


def clock_state(
    calendar: BusinessCalendar,
    targets: SlaTargets,
    *,
    priority: str,
    emergency: bool,
    started_at: datetime,
    first_response_at: datetime | None,
    customer_turn_at: datetime | None,
    last_staff_reply_at: datetime | None,
    resolved_at: datetime | None,
    pauses: Sequence[Pause],
    now: datetime,
    warn_fraction: float = 0.75,
) -> SlaState:
    """A ticket's three SLA clocks at ``now``.

    ``customer_turn_at`` is when the customer's latest turn began: their first message after
    a staff reply (None if they have not written since the first response). The next
    response clock runs from it until a later staff reply, so a customer writing twice does
    not restart it. Resolving the ticket stops every clock.
    """
    _require_aware(
        started_at=started_at,
        first_response_at=first_response_at,
        customer_turn_at=customer_turn_at,
        last_staff_reply_at=last_staff_reply_at,
        resolved_at=resolved_at,
        now=now,
    )
    if not 0 < warn_fraction <= 1:
        raise ValueError(f"warn_fraction must be in (0, 1], got {warn_fraction}")
    goals = targets.for_priority(priority)
    clock = around_the_clock(calendar.timezone) if emergency else calendar

    def measure(target: timedelta, start: datetime, end: datetime | None) -> TargetState:
        return _measure(clock, target, start, end, pauses, now, warn_fraction)

    first_end = _earliest(first_response_at, resolved_at)
    first = measure(goals.first_response, started_at, first_end)

    next_target = goals.next_response
    if (
        first_response_at is None
        or customer_turn_at is None
        or customer_turn_at <= first_response_at
        or (resolved_at is not None and customer_turn_at >= resolved_at)
    ):
        following = TargetState(SlaStatus.NOT_APPLICABLE, next_target)
    else:
        answered_at = (
            last_staff_reply_at
            if last_staff_reply_at is not None and last_staff_reply_at > customer_turn_at
            else None
        )
        following = measure(next_target, customer_turn_at, _earliest(answered_at, resolved_at))

    resolution = measure(goals.resolution, started_at, resolved_at)
    return SlaState(first, following, resolution)


def _earliest(*moments: datetime | None) -> datetime | None:
    return min((moment for moment in moments if moment is not None), default=None)


def _measure(
    calendar: BusinessCalendar,
    target: timedelta,
    start: datetime,
    end: datetime | None,
    pauses: Sequence[Pause],
    now: datetime,
    warn_fraction: float,
) -> TargetState:
    stop = max(end if end is not None else now, start)
    stopped = _pauses_within(pauses, start, stop)
    paused_time = sum(
        (
            business_time_between(calendar, pause_start, pause_end)
            for pause_start, pause_end in stopped
        ),
        timedelta(0),
    )
    elapsed = business_time_between(calendar, start, stop) - paused_time
    due_at = _due_at(calendar, start, target, stopped)
    warn_after = target * warn_fraction
    warn_at = None if end is not None else _due_at(calendar, start, warn_after, stopped)
    ended_at = None if end is None else end.astimezone(calendar.zone)
    met = None if end is None else end <= due_at
    if met is not None:
        status = SlaStatus.MET if met else SlaStatus.MISSED
    elif now > due_at:
        status = SlaStatus.BREACHED
    elif any(_covers(pause, now) for pause in pauses):
        status = SlaStatus.PAUSED
    elif elapsed >= warn_after:
        status = SlaStatus.WARNING
    else:
        status = SlaStatus.OK
    return TargetState(
        status,
        target,
        started_at=start.astimezone(calendar.zone),
        ended_at=ended_at,
        due_at=due_at,
        warn_at=warn_at,
        elapsed=elapsed,
        remaining=target - elapsed,
        met=met,
    )


def _covers(pause: Pause, moment: datetime) -> bool:
    return pause.start <= moment and (pause.end is None or moment < pause.end)


def _pauses_within(
    pauses: Sequence[Pause], start: datetime, stop: datetime
) -> list[tuple[datetime, datetime]]:
    """The pauses cut to ``[start, stop]`` (an open one ends at ``stop``), overlaps merged so
    that no paused time is subtracted twice."""
    cut = sorted(
        (max(pause.start, start), min(pause.end if pause.end is not None else stop, stop))
        for pause in pauses
    )
    merged: list[tuple[datetime, datetime]] = []
    for pause_start, pause_end in cut:
        if pause_end <= pause_start:
            continue
        if merged and pause_start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], pause_end))
        else:
            merged.append((pause_start, pause_end))
    return merged


def _due_at(
    calendar: BusinessCalendar,
    start: datetime,
    target: timedelta,
    stopped: list[tuple[datetime, datetime]],
) -> datetime:
    """When ``target`` of business time will have run from ``start``, skipping the pauses."""
    counting_from, remaining = start, target
    for pause_start, pause_end in stopped:
        due = add_business_timedelta(calendar, counting_from, remaining)
        if due <= pause_start:
            return due
        remaining -= business_time_between(calendar, counting_from, pause_start)
        counting_from = pause_end
    return add_business_timedelta(calendar, counting_from, remaining)
