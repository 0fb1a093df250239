"""The SLA clock: business time, targets, pauses and what the queue shows.

The dates are November 2026 in São Paulo: Friday the 13th, the weekend, Monday the 16th
to Thursday the 19th, Friday the 20th (Black Awareness Day, a national holiday) and
Monday the 23rd. The default calendar opens 10:00-12:00 and 14:00-19:00 on weekdays.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from services.tickets.sla import (
    PAUSING_STATUSES,
    Pause,
    PriorityTargets,
    SlaState,
    SlaStatus,
    SlaTargets,
    TargetState,
    add_business_time,
    around_the_clock,
    business_seconds_between,
    business_time_between,
    clock_state,
    pauses_from_history,
)
from shared.business_hours import BusinessCalendar

CALENDAR = BusinessCalendar()
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
TARGETS = SlaTargets()
HOUR = 3600.0


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=SAO_PAULO)


def hours(value: float) -> timedelta:
    return timedelta(hours=value)


def state(
    *,
    now: datetime,
    priority: str = "normal",
    emergency: bool = False,
    started_at: datetime | None = None,
    first_response_at: datetime | None = None,
    customer_turn_at: datetime | None = None,
    last_staff_reply_at: datetime | None = None,
    resolved_at: datetime | None = None,
    pauses: Sequence[Pause] = (),
    warn_fraction: float = 0.75,
) -> SlaState:
    return clock_state(
        CALENDAR,
        TARGETS,
        priority=priority,
        emergency=emergency,
        started_at=started_at or at(16, 10),
        first_response_at=first_response_at,
        customer_turn_at=customer_turn_at,
        last_staff_reply_at=last_staff_reply_at,
        resolved_at=resolved_at,
        pauses=pauses,
        now=now,
        warn_fraction=warn_fraction,
    )


# --- business time ---------------------------------------------------------------------


def test_the_lunch_break_is_not_business_time() -> None:
    assert business_seconds_between(CALENDAR, at(17, 11, 30), at(17, 14, 30)) == HOUR


def test_a_business_day_is_seven_hours() -> None:
    assert business_seconds_between(CALENDAR, at(16, 0), at(17, 0)) == 7 * HOUR


def test_the_weekend_is_not_business_time() -> None:
    assert business_seconds_between(CALENDAR, at(13, 18), at(16, 11)) == 2 * HOUR


def test_a_national_holiday_is_not_business_time() -> None:
    assert date(2026, 11, 20).weekday() == 4
    assert CALENDAR.holiday_name(date(2026, 11, 20)) is not None
    assert not CALENDAR.is_business_day(date(2026, 11, 20))
    assert business_seconds_between(CALENDAR, at(19, 18), at(23, 11)) == 2 * HOUR


def test_a_start_outside_hours_counts_from_the_opening() -> None:
    assert business_seconds_between(CALENDAR, at(16, 7), at(16, 10, 30)) == HOUR / 2
    assert business_seconds_between(CALENDAR, at(14, 15), at(16, 10, 15)) == HOUR / 4
    assert business_seconds_between(CALENDAR, at(16, 12, 10), at(16, 13, 50)) == 0


def test_no_time_passes_backwards() -> None:
    assert business_seconds_between(CALENDAR, at(17, 11), at(16, 11)) == 0
    assert business_seconds_between(CALENDAR, at(17, 11), at(17, 11)) == 0


def test_a_month_counts_its_business_days_only() -> None:
    # November 2026 has 21 weekdays; All Souls' Day (2nd) and the 20th are holidays.
    month = business_seconds_between(CALENDAR, at(1, 0), datetime(2026, 12, 1, tzinfo=SAO_PAULO))
    assert month == 19 * 7 * HOUR


def test_moments_in_other_timezones_are_the_same_moments() -> None:
    start, end = at(17, 11, 30).astimezone(UTC), at(17, 14, 30).astimezone(ZoneInfo("Asia/Tokyo"))
    assert business_seconds_between(CALENDAR, start, end) == HOUR


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        business_seconds_between(CALENDAR, datetime(2026, 11, 16, 10), at(16, 11))


def test_adding_time_lands_after_the_break() -> None:
    assert add_business_time(CALENDAR, at(17, 11, 30), HOUR) == at(17, 14, 30)


def test_adding_time_ends_at_the_close_not_the_next_opening() -> None:
    assert add_business_time(CALENDAR, at(17, 11), HOUR) == at(17, 12)


def test_adding_time_lands_on_the_next_business_day() -> None:
    assert add_business_time(CALENDAR, at(17, 18, 30), HOUR) == at(18, 10, 30)
    assert add_business_time(CALENDAR, at(13, 18, 30), HOUR) == at(16, 10, 30)
    assert add_business_time(CALENDAR, at(19, 18, 30), HOUR) == at(23, 10, 30)


def test_adding_time_from_outside_hours_starts_at_the_opening() -> None:
    assert add_business_time(CALENDAR, at(14, 9), HOUR / 2) == at(16, 10, 30)
    assert add_business_time(CALENDAR, at(16, 12, 30), HOUR / 2) == at(16, 14, 30)


def test_added_time_is_in_the_calendars_timezone() -> None:
    due = add_business_time(CALENDAR, at(17, 11).astimezone(UTC), HOUR)
    assert due.tzinfo == SAO_PAULO
    assert due == at(17, 12)


def test_negative_time_cannot_be_added() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(CALENDAR, at(17, 11), -1)


def test_a_calendar_that_never_opens_says_so() -> None:
    closed = BusinessCalendar(open_days=frozenset())
    with pytest.raises(ValueError, match="never opens"):
        add_business_time(closed, at(17, 11), HOUR)


@pytest.mark.parametrize("calendar", [CALENDAR, around_the_clock("America/Sao_Paulo")])
def test_adding_then_measuring_gives_back_the_same_time(calendar: BusinessCalendar) -> None:
    rng = random.Random(20261120)
    origin = datetime(2026, 1, 1, tzinfo=SAO_PAULO)
    for _ in range(300):
        start = origin + timedelta(seconds=rng.uniform(0, 365 * 24 * HOUR))
        seconds = rng.choice([0.0, rng.uniform(0, HOUR), rng.uniform(0, 300 * HOUR)])
        end = add_business_time(calendar, start, seconds)
        assert end >= start
        assert abs(business_seconds_between(calendar, start, end) - seconds) <= 1e-6


# --- around the clock ------------------------------------------------------------------


def test_the_emergency_clock_runs_at_night_and_on_sundays() -> None:
    always = around_the_clock("America/Sao_Paulo")
    # Sunday the 15th is also Republic Proclamation Day.
    assert business_seconds_between(always, at(14, 23), at(15, 1)) == 2 * HOUR
    assert business_seconds_between(always, at(15, 0), at(16, 0)) == 24 * HOUR
    assert add_business_time(always, at(15, 22, 30), HOUR) == at(15, 23, 30)
    assert add_business_time(always, at(15, 23, 30), HOUR) == at(16, 0, 30)


def test_the_emergency_clock_counts_real_time_across_a_clock_change() -> None:
    lisbon = ZoneInfo("Europe/Lisbon")
    always = around_the_clock("Europe/Lisbon")
    sunday, monday = datetime(2026, 3, 29, tzinfo=lisbon), datetime(2026, 3, 30, tzinfo=lisbon)
    assert business_seconds_between(always, sunday, monday) == 23 * HOUR
    assert add_business_time(always, sunday, 23 * HOUR) == monday


def test_an_emergency_is_counted_around_the_clock() -> None:
    sunday_night = at(15, 22)
    emergency = state(
        priority="urgent", emergency=True, started_at=sunday_night, now=at(15, 22, 30)
    )
    assert emergency.first_response.elapsed == hours(0.5)
    assert emergency.first_response.due_at == at(15, 23)
    assert emergency.first_response.status is SlaStatus.OK
    assert emergency.next_due_at == at(15, 23)

    routine = state(priority="urgent", started_at=sunday_night, now=at(15, 22, 30))
    assert routine.first_response.elapsed == timedelta(0)
    assert routine.first_response.due_at == at(16, 11)


# --- the clock -------------------------------------------------------------------------


def test_a_new_ticket_runs_first_response_and_resolution() -> None:
    sla = state(now=at(16, 11))
    assert sla.first_response.status is SlaStatus.OK
    assert sla.first_response.due_at == at(16, 16)
    assert sla.first_response.elapsed == hours(1)
    assert sla.first_response.remaining == hours(3)
    assert sla.first_response.met is None
    assert sla.next_response.status is SlaStatus.NOT_APPLICABLE
    # 21 business hours: Monday, Tuesday and Wednesday in full.
    assert sla.resolution.due_at == at(18, 19)
    assert sla.next_due_at == at(16, 16)
    assert sla.worst is SlaStatus.OK


def test_a_warning_comes_at_three_quarters_of_the_target() -> None:
    assert state(now=at(16, 14, 59)).first_response.status is SlaStatus.OK
    assert state(now=at(16, 15)).first_response.status is SlaStatus.WARNING
    assert state(now=at(16, 15)).worst is SlaStatus.WARNING
    half = state(now=at(16, 14), warn_fraction=0.5)
    assert half.first_response.status is SlaStatus.WARNING


def test_the_target_breaches_once_its_due_moment_passes() -> None:
    on_the_dot = state(now=at(16, 16)).first_response
    assert on_the_dot.status is SlaStatus.WARNING
    assert on_the_dot.remaining == timedelta(0)
    late = state(now=at(16, 16, 1))
    assert late.first_response.status is SlaStatus.BREACHED
    assert late.first_response.remaining == -timedelta(minutes=1)
    assert late.worst is SlaStatus.BREACHED


def test_a_response_in_time_is_met_and_a_late_one_missed() -> None:
    met = state(first_response_at=at(16, 16), now=at(17, 11)).first_response
    assert (met.status, met.met, met.ended_at) == (SlaStatus.MET, True, at(16, 16))
    assert met.elapsed == hours(4)
    missed = state(first_response_at=at(16, 16, 1), now=at(17, 11)).first_response
    assert (missed.status, missed.met) == (SlaStatus.MISSED, False)
    assert missed.remaining == -timedelta(minutes=1)


def test_resolution_is_met_or_missed_and_stops_every_clock() -> None:
    resolved = state(
        first_response_at=at(16, 10, 30),
        customer_turn_at=at(17, 18),
        resolved_at=at(18, 19),
        now=at(23, 11),
    )
    assert resolved.resolution.status is SlaStatus.MET
    assert resolved.next_response.status is SlaStatus.MET
    assert resolved.next_response.ended_at == at(18, 19)
    assert resolved.worst is SlaStatus.MET
    assert resolved.next_due_at is None

    late = state(first_response_at=at(16, 10, 30), resolved_at=at(19, 10, 1), now=at(23, 11))
    assert late.resolution.status is SlaStatus.MISSED
    assert late.worst is SlaStatus.MISSED


def test_a_ticket_resolved_without_a_reply_stops_the_first_response_clock() -> None:
    sla = state(resolved_at=at(16, 11), now=at(23, 11))
    assert sla.first_response.status is SlaStatus.MET
    assert sla.first_response.ended_at == at(16, 11)


def test_waiting_on_the_customer_pushes_the_due_moment_by_the_paused_business_time() -> None:
    pause = Pause(at(17, 11), at(18, 11))
    paused_time = business_seconds_between(CALENDAR, pause.start, pause.end or pause.start)
    assert paused_time == 7 * HOUR

    sla = state(first_response_at=at(16, 10, 30), pauses=[pause], now=at(19, 10))
    unpaused_due = at(18, 19)
    assert sla.resolution.due_at == add_business_time(CALENDAR, unpaused_due, paused_time)
    assert sla.resolution.due_at == at(19, 19)
    # Monday 7 h, Tuesday 10:00-11:00, Wednesday 11:00-12:00 and 14:00-19:00.
    assert sla.resolution.elapsed == hours(14)
    assert sla.resolution.remaining == hours(7)
    assert sla.resolution.status is SlaStatus.OK


def test_overlapping_pauses_stop_the_clock_once() -> None:
    pauses = [Pause(at(17, 11), at(18, 10)), Pause(at(17, 15), at(18, 11))]
    sla = state(first_response_at=at(16, 10, 30), pauses=pauses, now=at(19, 10))
    assert sla.resolution.due_at == at(19, 19)
    assert sla.resolution.elapsed == hours(14)


def test_a_pause_that_lasts_shows_paused_and_resumes_now() -> None:
    sla = state(first_response_at=at(16, 10, 30), pauses=[Pause(at(17, 11))], now=at(17, 15))
    assert sla.resolution.status is SlaStatus.PAUSED
    assert sla.resolution.elapsed == hours(8)
    # 13 hours left from now: Tuesday until 19:00, Wednesday, Thursday until noon.
    assert sla.resolution.due_at == at(19, 12)
    assert sla.worst is SlaStatus.PAUSED
    assert sla.next_due_at is None


def test_the_warning_moment_is_three_quarters_of_the_target_in_business_time() -> None:
    # Thursday 18:00: one business hour, then the holiday and the weekend, then Monday.
    sla = state(started_at=at(19, 18), now=at(19, 18, 30))
    assert sla.first_response.warn_at == at(23, 12), "3 h: Thursday 18-19, Monday 10-12"
    assert sla.first_response.due_at == at(23, 15)
    assert sla.warn_at == at(23, 12), "the earliest warning of the running clocks"
    assert state(started_at=at(19, 18), now=at(23, 11, 59)).worst is SlaStatus.OK
    assert state(started_at=at(19, 18), now=at(23, 12)).worst is SlaStatus.WARNING
    assert state(started_at=at(16, 10), now=at(16, 11), warn_fraction=0.5).warn_at == at(16, 12)


def test_a_pause_moves_the_warning_moment_and_a_stopped_clock_has_none() -> None:
    pause = Pause(at(16, 11), at(16, 14, 30))
    sla = state(pauses=[pause], now=at(16, 15))
    # 1 h before the pause, then 2 h from 14:30: the paused 1.5 business hours later.
    assert sla.first_response.warn_at == at(16, 16, 30)
    assert sla.first_response.status is SlaStatus.OK
    waiting = state(pauses=[Pause(at(16, 11))], now=at(16, 15))
    assert waiting.first_response.warn_at == at(16, 17), "resuming now: 1 h done, 2 h to go"
    assert waiting.warn_at is None, "a paused clock warns of nothing until it runs again"
    answered = state(first_response_at=at(16, 11), now=at(16, 15))
    assert answered.first_response.warn_at is None
    assert answered.warn_at == answered.resolution.warn_at


def test_a_pause_after_the_breach_does_not_hide_it() -> None:
    sla = state(priority="urgent", pauses=[Pause(at(16, 11, 30))], now=at(16, 12))
    assert sla.first_response.due_at == at(16, 11)
    assert sla.first_response.status is SlaStatus.BREACHED


def test_a_pause_after_the_response_does_not_move_its_due_moment() -> None:
    sla = state(first_response_at=at(16, 11), pauses=[Pause(at(16, 12))], now=at(17, 11))
    assert sla.first_response.due_at == at(16, 16)
    assert sla.first_response.status is SlaStatus.MET


def test_the_next_response_runs_only_while_the_customer_awaits_an_answer() -> None:
    replied = at(16, 10, 30)
    quiet = state(first_response_at=replied, last_staff_reply_at=replied, now=at(16, 15))
    assert quiet.next_response.status is SlaStatus.NOT_APPLICABLE

    waiting = state(
        first_response_at=replied,
        last_staff_reply_at=replied,
        customer_turn_at=at(16, 11),
        now=at(16, 15),
    )
    following = waiting.next_response
    assert following.status is SlaStatus.OK
    assert following.started_at == at(16, 11)
    assert following.elapsed == hours(2)
    # 8 hours from Monday 11:00: 1 + 5 on Monday, 2 on Tuesday morning.
    assert following.due_at == at(17, 12)
    assert waiting.next_due_at == at(17, 12)
    assert waiting.worst is SlaStatus.OK


def test_a_staff_reply_after_the_customers_turn_ends_the_next_response_clock() -> None:
    sla = state(
        first_response_at=at(16, 10, 30),
        customer_turn_at=at(16, 11),
        last_staff_reply_at=at(16, 16),
        now=at(17, 15),
    )
    assert sla.next_response.status is SlaStatus.MET
    assert sla.next_response.elapsed == hours(3)
    assert sla.next_response.ended_at == at(16, 16)


def test_the_customers_first_message_is_not_a_next_response_turn() -> None:
    before_reply = state(customer_turn_at=at(16, 10), now=at(16, 11))
    assert before_reply.next_response.status is SlaStatus.NOT_APPLICABLE
    same_turn = state(first_response_at=at(16, 11), customer_turn_at=at(16, 10), now=at(16, 15))
    assert same_turn.next_response.status is SlaStatus.NOT_APPLICABLE


def test_worst_orders_running_clocks_before_stopped_ones() -> None:
    def of(*statuses: SlaStatus) -> SlaStatus:
        states = [TargetState(status, hours(1)) for status in statuses]
        return SlaState(*states).worst

    assert of(SlaStatus.MET, SlaStatus.OK, SlaStatus.MISSED) is SlaStatus.OK
    assert of(SlaStatus.WARNING, SlaStatus.BREACHED, SlaStatus.OK) is SlaStatus.BREACHED
    assert of(SlaStatus.MISSED, SlaStatus.PAUSED, SlaStatus.MET) is SlaStatus.PAUSED
    assert of(SlaStatus.MET, SlaStatus.NOT_APPLICABLE, SlaStatus.MISSED) is SlaStatus.MISSED
    assert of(*[SlaStatus.NOT_APPLICABLE] * 3) is SlaStatus.NOT_APPLICABLE


def test_the_clock_refuses_what_it_cannot_count() -> None:
    with pytest.raises(ValueError, match="unknown priority"):
        state(priority="critical", now=at(16, 11))
    with pytest.raises(ValueError, match="warn_fraction"):
        state(warn_fraction=0, now=at(16, 11))
    with pytest.raises(ValueError, match="timezone-aware"):
        state(now=datetime(2026, 11, 16, 11))
    with pytest.raises(ValueError, match="before it starts"):
        Pause(at(16, 12), at(16, 11))


def test_pauses_come_from_the_status_history() -> None:
    history = [
        (at(16, 10), "open"),
        (at(16, 11), "waiting"),
        (at(16, 12), "on_hold"),
        (at(16, 15), "open"),
        (at(17, 10), "waiting"),
    ]
    assert "waiting" in PAUSING_STATUSES
    assert pauses_from_history(history) == (Pause(at(16, 11), at(16, 15)), Pause(at(17, 10)))
    assert pauses_from_history(history, pausing_statuses={"on_hold"}) == (
        Pause(at(16, 12), at(16, 15)),
    )


# --- targets ---------------------------------------------------------------------------


def test_the_default_targets() -> None:
    assert TARGETS.urgent == PriorityTargets(hours(1), hours(2), hours(8))
    assert TARGETS.high == PriorityTargets(hours(2), hours(4), hours(16))
    assert TARGETS.for_priority("normal").resolution == hours(21)
    assert business_time_between(CALENDAR, at(16, 10), at(24, 10)) == TARGETS.low.resolution
    assert TARGETS.to_mapping()["urgent"] == {
        "first_response_minutes": 60,
        "next_response_minutes": 120,
        "resolution_minutes": 480,
    }


def test_targets_round_trip_through_json() -> None:
    edited = SlaTargets(low=PriorityTargets(hours(24), hours(24), timedelta(minutes=4321)))
    stored = json.loads(json.dumps(edited.to_mapping()))
    assert SlaTargets.from_mapping(stored) == edited
    assert SlaTargets.from_mapping(TARGETS.to_mapping()) == TARGETS


def _with(priority: str, key: str, value: Any) -> dict[str, Any]:
    data: dict[str, Any] = TARGETS.to_mapping()
    data[priority] = {**data[priority], key: value}
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({k: v for k, v in TARGETS.to_mapping().items() if k != "low"}, "'low' is missing"),
        ({**TARGETS.to_mapping(), "critical": {}}, r"unknown priorities \['critical'\]"),
        (_with("high", "first_response_minutes", 0), "high.first_response_minutes must be"),
        (_with("high", "resolution_minutes", -30), "high.resolution_minutes must be"),
        (_with("normal", "next_response_minutes", 90.5), "normal.next_response_minutes must"),
        (_with("normal", "next_response_minutes", "90"), "normal.next_response_minutes must"),
        (_with("urgent", "first_response_minutes", True), "urgent.first_response_minutes must"),
        (_with("urgent", "first_response_hours", 1), r"unknown keys \['first_response_hours'\]"),
        ({**TARGETS.to_mapping(), "low": {"resolution_minutes": 60}}, "low.first_response_minutes"),
        ({**TARGETS.to_mapping(), "low": 60}, "'low' must be a mapping"),
        ([], "must be a mapping of priorities"),
    ],
)
def test_targets_from_settings_are_validated(data: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        SlaTargets.from_mapping(data)


def test_targets_are_positive_whole_minutes() -> None:
    with pytest.raises(ValueError, match="whole number of minutes"):
        PriorityTargets(hours(1), timedelta(seconds=90), hours(2))
    with pytest.raises(ValueError, match="whole number of minutes"):
        PriorityTargets(hours(1), hours(1), timedelta(0))
