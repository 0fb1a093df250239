"""`cortesia clock` moves every process's business moment; `cortesia up` says what it needs."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cortesia.cli import main
from shared import clock


def test_the_clock_is_set_read_and_reset_through_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(clock.CLOCK_FILE_VARIABLE, str(tmp_path / "clock"))
    runner = CliRunner()
    moved = runner.invoke(main, ["clock", "set", "2031-01-06T03:00-0300"])
    assert moved.exit_code == 0, moved.output
    time.sleep(0.3)
    expected = datetime(2031, 1, 6, 6, 0, tzinfo=UTC)
    assert abs(clock.now() - expected) < timedelta(seconds=5)
    shown = runner.invoke(main, ["clock", "show"])
    assert shown.output.startswith("2031-01-06T06:00")

    assert runner.invoke(main, ["clock", "reset"]).exit_code == 0
    time.sleep(0.3)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_setting_the_clock_needs_the_file_every_process_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(clock.CLOCK_FILE_VARIABLE, raising=False)
    refused = CliRunner().invoke(main, ["clock", "set", "2031-01-06T03:00-0300"])
    assert refused.exit_code == 2 and clock.CLOCK_FILE_VARIABLE in refused.output


def test_up_asks_for_an_smtp_server_before_starting_anything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CORTESIA_SMTP_HOST", raising=False)
    refused = CliRunner().invoke(
        main, ["up", "--amqp-url", "amqp://localhost/", "--data", str(tmp_path)]
    )
    assert refused.exit_code == 2 and "CORTESIA_SMTP_HOST" in refused.output
