"""The billing run's schedule: today's run, repeated through the day in a background thread.

The run is idempotent, so repeating it costs nothing new; repeating it is
what lets a suspension that fell due outside business hours happen at the
first run inside them, and what catches up the days a stopped worker missed.
The billing worker (RabbitMQ) and embedded mode both run one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime

from services.billing.policy import BillingPolicy
from services.billing.run import RunReport, run_billing
from shared.business_hours import BusinessCalendar
from shared.db import Database
from shared.logging import get_logger

log = get_logger(__name__)


class BillingScheduler:
    def __init__(
        self,
        database: Database,
        policy: BillingPolicy | None = None,
        calendar: BusinessCalendar | None = None,
        *,
        every_seconds: float | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.database = database
        self.policy = policy or BillingPolicy.from_env()
        self.calendar = calendar or BusinessCalendar()
        self.every_seconds = (
            every_seconds if every_seconds is not None else self.policy.run_every_minutes * 60.0
        )
        self.clock = clock
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def run_once(self) -> RunReport:
        """Today's run, today being the company's date now."""
        now = self.clock()
        today = now.astimezone(self.calendar.zone).date()
        report = run_billing(self.database, today, self.policy, self.calendar, now)
        log.info("billing.run_completed", summary=report.summary())
        return report

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="billing-schedule", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                self.run_once()
            except Exception:
                # Each batch commits whole or not at all, and the next run redoes what
                # is left: one failure must not stop the schedule.
                log.exception("billing.run_failed")
            self._stopping.wait(self.every_seconds)
