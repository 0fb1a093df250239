"""The billing run's schedule: today's run, repeated through the day in a background thread.

The run is idempotent, so repeating it costs nothing new; repeating it is
what lets a suspension that fell due outside business hours happen at the
first run inside them, and what catches up the days a stopped worker missed.
The billing worker (RabbitMQ) and embedded mode both run one.

Besides every ``run_every_minutes``, the schedule watches the platform's clock
and runs at once when the business moment changes in a way the run cares
about: the company's day turns (the new day is billed at midnight, not up to
an interval later), the office opens or closes (a suspension waiting for
business hours happens at opening), or the clock is moved (a rehearsal shifts
every process by days; the run catches them up then, not at its next
interval).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from services.billing.policy import BillingPolicy
from services.billing.run import RunReport, run_billing
from shared import clock as platform_clock
from shared.background import PeriodicJob
from shared.business_hours import BusinessCalendar
from shared.db import Database
from shared.logging import get_logger

log = get_logger(__name__)

WATCH_SECONDS = 1.0
"""How often the schedule looks at the clock between runs (reading it costs nothing)."""
CLOCK_MOVED = timedelta(seconds=30)
"""A business moment this far from where the system clock's pace would have it means the
platform's clock was moved; far above the adjustments a synchronised system clock makes."""


@dataclass(frozen=True)
class _Attempt:
    """When the last run started, on the system's steady clock and on the business one."""

    started: float
    now: datetime
    today: date
    open: bool


class BillingScheduler(PeriodicJob):
    name = "billing-schedule"

    def __init__(
        self,
        database: Database,
        policy: BillingPolicy | None = None,
        calendar: BusinessCalendar | None = None,
        *,
        every_seconds: float | None = None,
        watch_seconds: float = WATCH_SECONDS,
        clock: Callable[[], datetime] = platform_clock.now,
    ) -> None:
        super().__init__()
        self.database = database
        self.policy = policy or BillingPolicy.from_env()
        self.calendar = calendar or BusinessCalendar()
        self.run_every_seconds = (
            every_seconds if every_seconds is not None else self.policy.run_every_minutes * 60.0
        )
        self.every_seconds = min(self.run_every_seconds, watch_seconds)
        self.clock = clock
        self._last: _Attempt | None = None

    def run_once(self, now: datetime | None = None) -> RunReport:
        """Today's run, today being the company's date now."""
        now = now or self.clock()
        today = now.astimezone(self.calendar.zone).date()
        # Recorded before the run: a failing run is tried again at the next interval or
        # change of the moment, not on every look at the clock.
        self._last = _Attempt(time.monotonic(), now, today, self.calendar.is_open(now))
        report = run_billing(self.database, today, self.policy, self.calendar, now)
        log.info("billing.run_completed", summary=report.summary())
        return report

    def due(self, now: datetime) -> bool:
        """Whether to run at ``now``: the interval has passed, or the moment changed."""
        last = self._last
        if last is None:
            return True
        elapsed = time.monotonic() - last.started
        if elapsed >= self.run_every_seconds:
            return True
        if abs(now - (last.now + timedelta(seconds=elapsed))) > CLOCK_MOVED:
            return True
        if now.astimezone(self.calendar.zone).date() != last.today:
            return True
        return self.calendar.is_open(now) != last.open

    def tick(self) -> bool:
        # Each batch commits whole or not at all, and the next run redoes what is left.
        now = self.clock()
        if self.due(now):
            self.run_once(now)
        return False
