"""The platform's clock: the system time, or shifted by an offset file every process reads."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from shared import clock
from shared.config import ConfigurationError, load_settings


def test_without_a_clock_file_it_is_the_system_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(clock.CLOCK_FILE_VARIABLE, raising=False)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_the_offset_file_moves_the_clock_and_a_change_is_seen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "clock"
    monkeypatch.setenv(clock.CLOCK_FILE_VARIABLE, str(path))
    clock.write_offset(path, timedelta(days=30))
    time.sleep(0.3)
    assert abs(clock.now() - (datetime.now(UTC) + timedelta(days=30))) < timedelta(seconds=1)

    clock.write_offset(path, timedelta(hours=-5))
    time.sleep(0.3)
    assert abs(clock.now() - (datetime.now(UTC) - timedelta(hours=5))) < timedelta(seconds=1)


def test_a_file_that_is_not_a_number_is_refused_with_its_content(tmp_path: Path) -> None:
    path = tmp_path / "clock"
    path.write_text("tomorrow\n")
    with pytest.raises(ValueError, match="tomorrow"):
        clock.read_offset(path)


def test_a_missing_file_means_no_offset(tmp_path: Path) -> None:
    assert clock.read_offset(tmp_path / "absent") == 0.0


def test_production_refuses_a_shifted_clock(tmp_path: Path) -> None:
    env = {"CORTESIA_ENV": "production", clock.CLOCK_FILE_VARIABLE: str(tmp_path / "clock")}
    with pytest.raises(ConfigurationError, match="not allowed in production"):
        load_settings("billing", env=env, data_dir=tmp_path)


def test_a_process_travels_on_its_own_and_comes_back() -> None:
    moment = datetime(2026, 3, 2, 13, 0, tzinfo=UTC)
    clock.travel(moment)
    try:
        first = clock.now()
        assert moment <= first < moment + timedelta(seconds=1)
        time.sleep(0.05)
        assert clock.now() > first, "its time moves on from the moment"
    finally:
        clock.travel(None)
    assert abs(clock.now() - datetime.now(UTC)) < timedelta(seconds=1)


def test_staff_pages_show_stored_moments_on_the_companys_clock() -> None:
    from shared.web.app import company_time

    # 01:30 UTC on 21 March is 22:30 of the 20th in São Paulo; SQLite hands it back naive.
    assert company_time(datetime(2026, 3, 21, 1, 30)) == "20/03/2026 22:30"
    assert company_time(datetime(2026, 3, 21, 1, 30, tzinfo=UTC), "%d/%m %H:%M") == "20/03 22:30"
    assert company_time(None) == ""
