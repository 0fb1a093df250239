"""How the run is started: the scheduler thread, embedded mode, the command line; the replicas."""

from __future__ import annotations

import time as system_time
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cortesia.cli import main as cli
from cortesia.embedded import build_embedded
from cortesia.platform import settings_for_all
from services.billing.models import OpenBillingTicket
from services.billing.run import RunReport
from services.billing.schedule import BillingScheduler
from shared.db import Database
from tests.billing.timetravel import (
    CALENDAR,
    POLICY,
    at,
    completed_days,
    deliver,
    invoices,
    migrated_database,
    subscribed,
)
from tests.support.probe import wait_until


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    db = migrated_database(f"sqlite:///{tmp_path / 'billing.sqlite3'}")
    yield db
    db.dispose()


def test_the_scheduler_runs_the_company_day_again_and_again(database: Database) -> None:
    # 23:30 on 1 April in São Paulo is already 2 April in UTC: the company's day counts.
    subscribed(database, date(2026, 3, 15))
    moments = iter([at(date(2026, 4, 1), time(23, 30))] * 3 + [at(date(2026, 4, 2), time(9))] * 99)
    runs: list[date] = []

    def clock() -> datetime:
        moment = next(moments)
        runs.append(moment.date())
        return moment

    scheduler = BillingScheduler(database, POLICY, CALENDAR, every_seconds=0.01, clock=clock)
    scheduler.start()
    wait_until(lambda: len(runs) >= 5, 10, "five scheduled runs")
    scheduler.stop()
    assert completed_days(database) == [date(2026, 4, 1), date(2026, 4, 2)]
    assert [i.due_date for i in invoices(database)] == [date(2026, 4, 15)]


def test_a_failing_run_does_not_stop_the_schedule(database: Database) -> None:
    calls: list[int] = []

    def clock() -> datetime:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        return at(date(2026, 4, 2))

    scheduler = BillingScheduler(database, POLICY, CALENDAR, every_seconds=0.01, clock=clock)
    scheduler.start()
    wait_until(lambda: len(calls) >= 3, 10, "runs after a failure")
    scheduler.stop()
    assert completed_days(database) == [date(2026, 4, 2)]


class MovableClock:
    """A business clock that runs at the system's pace and can be moved, as a rehearsal's."""

    def __init__(self, moment: datetime) -> None:
        self.move_to(moment)

    def move_to(self, moment: datetime) -> None:
        self.moment, self.set_at = moment, system_time.monotonic()

    def __call__(self) -> datetime:
        return self.moment + timedelta(seconds=system_time.monotonic() - self.set_at)


class CountingScheduler(BillingScheduler):
    """Runs every hour, looks at the clock every hundredth of a second, keeps its reports."""

    def __init__(self, database: Database, clock: MovableClock) -> None:
        super().__init__(
            database, POLICY, CALENDAR, every_seconds=3600, watch_seconds=0.01, clock=clock
        )
        self.runs: list[RunReport] = []

    def run_once(self, now: datetime | None = None) -> RunReport:
        report = super().run_once(now)
        self.runs.append(report)
        return report


def test_the_schedule_runs_at_once_when_the_clock_moves_the_day_turns_or_the_office_opens(
    database: Database,
) -> None:
    subscribed(database, date(2026, 3, 15))
    clock = MovableClock(at(date(2026, 4, 1), time(15)))
    scheduler = CountingScheduler(database, clock)
    scheduler.start()
    try:
        wait_until(lambda: len(scheduler.runs) == 1, 10, "the first run")
        system_time.sleep(0.3)
        assert len(scheduler.runs) == 1, "time passing at its pace waits for the interval"

        # A rehearsal moves the clock two days on: the run catches them up at once.
        clock.move_to(at(date(2026, 4, 3), time(15)))
        wait_until(lambda: len(scheduler.runs) == 2, 10, "the run after the clock moved")
        assert scheduler.runs[1].dates == [date(2026, 4, 2), date(2026, 4, 3)]

        # Midnight: the new day is billed when it begins (the move itself is a run too).
        clock.move_to(at(date(2026, 4, 3), time(23, 59, 59, 800_000)))
        wait_until(lambda: len(scheduler.runs) == 4, 10, "the run of the new day")
        assert scheduler.runs[3].dates == [date(2026, 4, 4)]

        # Opening time on Monday: what waited for business hours happens at 10:00.
        clock.move_to(at(date(2026, 4, 6), time(9, 59, 59, 800_000)))
        wait_until(lambda: len(scheduler.runs) == 6, 10, "the run at opening")
        assert scheduler.runs[5].dates == [date(2026, 4, 6)]
        system_time.sleep(0.3)
        assert len(scheduler.runs) == 6
    finally:
        scheduler.stop()
    assert completed_days(database)[-1] == date(2026, 4, 6)


def test_embedded_mode_runs_the_schedule(tmp_path: Path) -> None:
    platform = build_embedded(settings_for_all(env={}, data_dir=tmp_path))
    assert [type(job) for job in platform.jobs["billing"]] == [BillingScheduler]
    platform.start()
    try:
        billing_db = platform.databases["billing"]
        wait_until(lambda: len(completed_days(billing_db)) == 1, 20, "the first billing run")
    finally:
        platform.stop()


def test_the_billing_run_command(tmp_path: Path) -> None:
    args = ["billing", "run", "--data", str(tmp_path)]
    first = CliRunner().invoke(cli, [*args, "--date", "2026-03-02"], env={"CORTESIA_AMQP_URL": ""})
    assert first.exit_code == 0, first.output
    assert "billing: 2026-03-02: nothing to do" in first.output
    caught_up = CliRunner().invoke(cli, [*args, "--date", "2026-03-05"])
    assert "billing: 2026-03-03 to 2026-03-05 (3 days)" in caught_up.output
    earlier = CliRunner().invoke(cli, [*args, "--date", "2026-03-01"])
    assert "before the last completed run" in earlier.output
    bad = CliRunner().invoke(cli, [*args], env={"CORTESIA_BILLING_SUSPEND_AFTER_DAYS": "x"})
    assert bad.exit_code == 2 and "CORTESIA_BILLING_SUSPEND_AFTER_DAYS" in bad.output
    wrong = CliRunner().invoke(cli, [*args, "--date", "02/03/2026"])
    assert wrong.exit_code == 2


def test_open_billing_tickets_are_replicated_once(database: Database) -> None:
    ticket = {"ticket_id": 3, "customer_id": 99}  # a customer billing has not heard of
    deliver(database, "tickets.billing_ticket_opened.v1", ticket)
    with database.transaction() as session:
        rows = session.execute(select(OpenBillingTicket.ticket_id)).scalars().all()
    assert rows == [3]
    deliver(database, "tickets.billing_ticket_closed.v1", ticket)
    deliver(database, "tickets.billing_ticket_closed.v1", ticket)  # closing twice is harmless
    with database.transaction() as session:
        assert session.execute(select(OpenBillingTicket)).first() is None
