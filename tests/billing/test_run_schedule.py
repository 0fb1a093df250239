"""How the run is started: the scheduler thread, embedded mode, the command line; the replicas."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cortesia.cli import main as cli
from cortesia.embedded import build_embedded
from cortesia.platform import settings_for_all
from services.billing.models import OpenBillingTicket
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
