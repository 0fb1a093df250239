"""The billing run's schedule: today's run, repeated through the day in a background thread.

The run is idempotent, so repeating it costs nothing new; repeating it is
what lets a suspension that fell due outside business hours happen at the
first run inside them, and what catches up the days a stopped worker missed.
The billing worker (RabbitMQ) and embedded mode both run one.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from services.billing.policy import BillingPolicy
from services.billing.run import RunReport, run_billing
from shared import clock as platform_clock
from shared.background import PeriodicJob
from shared.business_hours import BusinessCalendar
from shared.db import Database
from shared.logging import get_logger

log = get_logger(__name__)


class BillingScheduler(PeriodicJob):
    name = "billing-schedule"

    def __init__(
        self,
        database: Database,
        policy: BillingPolicy | None = None,
        calendar: BusinessCalendar | None = None,
        *,
        every_seconds: float | None = None,
        clock: Callable[[], datetime] = platform_clock.now,
    ) -> None:
        super().__init__()
        self.database = database
        self.policy = policy or BillingPolicy.from_env()
        self.calendar = calendar or BusinessCalendar()
        self.every_seconds = (
            every_seconds if every_seconds is not None else self.policy.run_every_minutes * 60.0
        )
        self.clock = clock

    def run_once(self) -> RunReport:
        """Today's run, today being the company's date now."""
        now = self.clock()
        today = now.astimezone(self.calendar.zone).date()
        report = run_billing(self.database, today, self.policy, self.calendar, now)
        log.info("billing.run_completed", summary=report.summary())
        return report

    def tick(self) -> bool:
        # Each batch commits whole or not at all, and the next run redoes what is left.
        self.run_once()
        return False
