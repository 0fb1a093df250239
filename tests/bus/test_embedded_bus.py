"""The embedded bus keeps the RabbitMQ bus's promises without a broker."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from cortesia.cli import main as cli
from shared.bus.embedded import PARKED, EmbeddedBus, deliveries, open_bus_database
from shared.bus.outbox import claim_pending
from shared.bus.parked import EmbeddedParkedStore
from shared.bus.subscriber import Subscriber
from shared.db import Database
from tests.support.probe import (
    inbox_count,
    pending_outbox,
    recording_subscriber,
    side_effect_counts,
    sqlite_database,
    wait_until,
    write_events,
)

ROOT = Path(__file__).resolve().parents[2]


def probe_bus(
    tmp_path: Path, subscribers: list[Subscriber], **options: float
) -> tuple[EmbeddedBus, Database]:
    # The probe subscribers' names start with "probe.", so their service database is "probe".
    database = sqlite_database(tmp_path)
    bus = EmbeddedBus(
        bus=open_bus_database(f"sqlite:///{tmp_path / 'bus.sqlite3'}"),
        service_databases={"probe": database},
        subscribers=subscribers,
        retry_base_seconds=options.get("retry_base_seconds", 0.1),
        max_attempts=int(options.get("max_attempts", 5)),
        idle_poll_seconds=0.05,
    )
    return bus, database


@pytest.fixture
def stop_after() -> Iterator[list[EmbeddedBus]]:
    started: list[EmbeddedBus] = []
    yield started
    for bus in started:
        bus.stop()


def test_every_event_reaches_every_subscriber_once(
    tmp_path: Path, stop_after: list[EmbeddedBus]
) -> None:
    first, second = recording_subscriber("probe.first"), recording_subscriber("probe.second")
    bus, database = probe_bus(tmp_path, [first, second])
    stop_after.append(bus)
    bus.start()
    write_events(database, 300, padding=100)
    for subscriber in (first, second):
        name = subscriber.name
        wait_until(lambda: inbox_count(database, name) == 300, 60, name)  # noqa: B023
        assert side_effect_counts(database, subscriber.name) == (300, 300)
    assert pending_outbox(database) == 0


def test_a_restart_delivers_what_a_crash_left_unhandled(tmp_path: Path) -> None:
    subscriber = recording_subscriber("probe.crashy")
    bus, database = probe_bus(tmp_path, [subscriber])
    write_events(database, 500)
    bus.start()
    wait_until(lambda: inbox_count(database, subscriber.name) >= 50, 30, "some progress")
    bus.stop(timeout=0)  # the process "dies": threads stop wherever they are
    time.sleep(0.5)
    handled = inbox_count(database, subscriber.name)

    restarted, _ = probe_bus(tmp_path, [subscriber])
    restarted.start()
    try:
        wait_until(
            lambda: inbox_count(database, subscriber.name) == 500, 60, "all 500 after the restart"
        )
    finally:
        restarted.stop()
    assert handled <= 500
    assert side_effect_counts(database, subscriber.name) == (500, 500)


def test_relay_crash_between_copy_and_mark_is_absorbed(tmp_path: Path) -> None:
    subscriber = recording_subscriber("probe.twice")
    bus, database = probe_bus(tmp_path, [subscriber])
    write_events(database, 20)
    bus.relay_once("probe")
    # Make the outbox forget it published: as if the process died before that commit.
    from sqlalchemy import update

    from shared.bus.tables import outbox

    with database.transaction() as session:
        session.execute(update(outbox).values(published_at=None))
        assert len(claim_pending(session, 100, skip_locked=False)) == 20
    bus.relay_once("probe")
    with bus.bus.transaction() as session:
        copies = session.execute(select(deliveries.c.event_id)).scalars().all()
    assert len(copies) == 20 and len(set(copies)) == 20
    while bus.dispatch_once(subscriber) is not None:
        pass
    assert side_effect_counts(database, subscriber.name) == (20, 20)


def test_failures_back_off_park_and_replay_without_touching_other_subscribers(
    tmp_path: Path, stop_after: list[EmbeddedBus]
) -> None:
    broken = {"yes": True}
    failing = recording_subscriber("probe.failing", fail=lambda event: broken["yes"])
    healthy = recording_subscriber("probe.healthy")
    bus, database = probe_bus(tmp_path, [failing, healthy], max_attempts=3, retry_base_seconds=0.2)
    stop_after.append(bus)
    started = time.monotonic()
    write_events(database, 1)
    bus.start()
    store = EmbeddedParkedStore(bus.bus)
    wait_until(lambda: len(store.list("probe.failing")) == 1, 30, "the event to be parked")
    assert time.monotonic() - started >= 0.2 + 0.4, "back-off of 0.2 s then 0.4 s"
    parked = store.list()[0]
    assert parked.attempts == 3 and "probe handler refused seq 0" in parked.reason
    assert failing.attempts == 3  # type: ignore[attr-defined]
    assert healthy.attempts == 1  # type: ignore[attr-defined]
    assert side_effect_counts(database, "probe.healthy") == (1, 1)

    broken["yes"] = False
    assert store.replay([parked.event_id]) == 1
    wait_until(lambda: side_effect_counts(database, "probe.failing") == (1, 1), 30, "the replay")
    assert store.list() == []
    assert side_effect_counts(database, "probe.healthy") == (1, 1)


def test_invalid_messages_park_at_once(tmp_path: Path) -> None:
    subscriber = recording_subscriber("probe.strict")
    bus, database = probe_bus(tmp_path, [subscriber])
    with bus.bus.transaction() as session:
        session.execute(
            deliveries.insert(),
            [
                {
                    "subscriber": subscriber.name,
                    "event_id": "bad-1",
                    "event_type": "probe.thing_happened.v1",
                    "body": "{oops",
                    "status": "pending",
                    "attempts": 0,
                    "due_at": 0,
                },
                {
                    "subscriber": subscriber.name,
                    "event_id": "bad-2",
                    "event_type": "probe.thing_happened.v1",
                    "body": json.dumps(
                        {
                            "event_id": "5b0d7c1e-3f7a-4d55-9f0e-0c1d2e3f4a5b",
                            "event_type": "probe.thing_happened.v1",
                            "occurred_at": "2026-11-22T10:00:00+00:00",
                            "producer": "probe",
                            "correlation_id": "c",
                            "payload": {"seq": "NaN"},
                        }
                    ),
                    "status": "pending",
                    "attempts": 0,
                    "due_at": 0,
                },
            ],
        )
    write_events(database, 1)
    bus.relay_once("probe")
    bus.dispatch_once(subscriber)
    with bus.bus.transaction() as session:
        statuses = dict(session.execute(select(deliveries.c.event_id, deliveries.c.status)).all())
    assert statuses == {"bad-1": PARKED, "bad-2": PARKED}
    assert subscriber.attempts == 1  # type: ignore[attr-defined]
    assert side_effect_counts(database, subscriber.name) == (1, 1)


def test_cli_lists_shows_and_replays_embedded_parked_messages(tmp_path: Path) -> None:
    subscriber = recording_subscriber("probe.cli", fail=lambda event: True)
    bus, database = probe_bus(tmp_path, [subscriber], max_attempts=1)
    write_events(database, 1)
    bus.relay_once("probe")
    bus.dispatch_once(subscriber)
    env = {"CORTESIA_DATA": str(tmp_path)}
    listed = CliRunner().invoke(cli, ["bus", "list"], env=env)
    assert listed.exit_code == 0, listed.output
    event_id = listed.output.split()[0]
    assert "probe.cli" in listed.output and "probe handler refused" in listed.output
    shown = CliRunner().invoke(cli, ["bus", "show", event_id], env=env)
    assert shown.exit_code == 0 and '"event_type": "probe.thing_happened.v1"' in shown.output
    missing = CliRunner().invoke(cli, ["bus", "show", "no-such-id"], env=env)
    assert missing.exit_code == 1 and "no parked message" in missing.output
    assert CliRunner().invoke(cli, ["bus", "replay"], env=env).exit_code == 2
    replayed = CliRunner().invoke(cli, ["bus", "replay", "--all"], env=env)
    assert replayed.exit_code == 0 and "1 message(s) replayed" in replayed.output


def test_a_process_killed_mid_stream_loses_and_repeats_nothing(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    name = "probe.killed"
    command = [sys.executable, "-m", "tests.support.probe_embedded", str(tmp_path), name]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    write_events(database, 2000, padding=100)

    process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE)
    assert process.stdout is not None and process.stdout.readline().strip() == b"ready"
    wait_until(lambda: inbox_count(database, name) >= 100, 60, "the bus to get going")
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    assert inbox_count(database, name) < 2000, "the kill came too late to prove anything"

    restarted = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert restarted.stdout is not None and restarted.stdout.readline().strip() == b"ready"
        wait_until(lambda: inbox_count(database, name) == 2000, 120, "all events after the restart")
    finally:
        restarted.kill()
        restarted.wait(10)
    assert side_effect_counts(database, name) == (2000, 2000)
    assert pending_outbox(database) == 0
