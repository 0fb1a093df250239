"""The bus on a real RabbitMQ: nothing lost, nothing handled twice, failures parked and replayed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pika
import pytest
from click.testing import CliRunner

from cortesia.cli import main as cli
from shared.bus.consumer import SubscriberConsumer
from shared.bus.outbox import PendingEvent
from shared.bus.parked import RabbitParkedStore
from shared.bus.relay import OutboxRelay
from shared.bus.subscriber import Subscriber
from shared.bus.topology import EVENTS_EXCHANGE, parked_queue
from shared.db import Database
from tests.support.probe import (
    EVENT,
    create_schema,
    inbox_count,
    pending_outbox,
    recording_subscriber,
    run_in_thread,
    side_effect_counts,
    sqlite_database,
    wait_until,
    write_events,
)

pytestmark = pytest.mark.rabbitmq
ROOT = Path(__file__).resolve().parents[2]


class Running:
    """Starts relays and consumers in threads and stops them after the test."""

    def __init__(self, amqp_url: str) -> None:
        self.amqp_url = amqp_url
        self.components: list[Any] = []
        self.threads: list[Any] = []

    def relay(self, database: Database, **options: Any) -> OutboxRelay:
        relay = OutboxRelay(database, self.amqp_url, heartbeat_seconds=10, **options)
        self._start(relay, "relay")
        return relay

    def consumer(
        self, database: Database, subscriber: Subscriber, **options: Any
    ) -> SubscriberConsumer:
        options.setdefault("retry_base_seconds", 0.2)
        consumer = SubscriberConsumer(
            database, subscriber, self.amqp_url, heartbeat_seconds=10, **options
        )
        self._start(consumer, subscriber.name)
        consumer.ready.wait(30)
        assert consumer.ready.is_set(), f"{subscriber.name} did not subscribe"
        return consumer

    def _start(self, component: Any, name: str) -> None:
        self.components.append(component)
        self.threads.append(run_in_thread(component.run, name))

    def stop(self) -> None:
        for component in self.components:
            component.stop()
        for thread in self.threads:
            thread.join(20)


@pytest.fixture
def running(rabbit: Any) -> Iterator[Running]:
    runner = Running(rabbit.url)
    yield runner
    runner.stop()


@pytest.fixture
def database(tmp_path: Path) -> Database:
    return sqlite_database(tmp_path)


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """The same property on both databases a service can run on."""
    if request.param == "sqlite":
        yield sqlite_database(tmp_path)
        return
    database = Database(request.getfixturevalue("postgres_url"))
    create_schema(database)
    yield database
    database.dispose()


def observe(amqp_url: str, binding: str = "probe.#") -> tuple[pika.BlockingConnection, Any, str]:
    """An independent pika consumer on its own exclusive queue: what really crossed the wire."""
    connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
    channel = connection.channel()
    channel.exchange_declare(EVENTS_EXCHANGE, "topic", durable=True)
    queue = channel.queue_declare("", exclusive=True).method.queue
    channel.queue_bind(queue, EVENTS_EXCHANGE, routing_key=binding)
    return connection, channel, queue


def drain_observed(
    channel: Any, queue: str, expected: int, timeout: float = 60
) -> list[tuple[Any, Any, bytes]]:
    messages: list[tuple[Any, Any, bytes]] = []
    deadline = time.monotonic() + timeout
    while len(messages) < expected and time.monotonic() < deadline:
        method, properties, body = channel.basic_get(queue, auto_ack=True)
        if method is None:
            channel.connection.sleep(0.05)
            continue
        messages.append((method, properties, body))
    return messages


def test_wire_format_seen_by_an_independent_client(
    rabbit: Any, running: Running, database: Database
) -> None:
    connection, channel, queue = observe(rabbit.url)
    try:
        write_events(database, 3, padding=10)
        running.relay(database)
        messages = drain_observed(channel, queue, 3)
    finally:
        pass
    assert len(messages) == 3
    method, properties, body = messages[0]
    envelope = json.loads(body)
    assert method.exchange == EVENTS_EXCHANGE
    assert method.routing_key == EVENT
    assert properties.content_type == "application/json"
    assert properties.content_encoding == "utf-8"
    assert properties.delivery_mode == 2
    assert properties.message_id == envelope["event_id"]
    assert properties.correlation_id == envelope["correlation_id"]
    assert properties.type == EVENT
    assert properties.app_id == "probe"
    assert properties.headers["event-type"] == EVENT
    assert properties.headers["producer"] == "probe"
    assert set(envelope) == {
        "event_id",
        "event_type",
        "occurred_at",
        "producer",
        "correlation_id",
        "causation_id",
        "payload",
    }
    assert envelope["event_type"] == EVENT and envelope["producer"] == "probe"
    assert envelope["occurred_at"].endswith("+00:00")
    assert sorted(json.loads(m[2])["payload"]["seq"] for m in messages) == [0, 1, 2]
    connection.close()


def test_broker_restart_mid_stream_loses_and_repeats_nothing(
    rabbit: Any, running: Running, database: Database, unique_name: str
) -> None:
    subscriber = recording_subscriber(f"probe.restart_{unique_name}")
    running.consumer(database, subscriber)
    running.relay(database, batch_size=100)
    total = 2000

    writer = run_in_thread(
        lambda: write_events(database, total, padding=200, per_transaction=50), "writer"
    )
    wait_until(lambda: inbox_count(database, subscriber.name) >= 300, 60, "the first 300 events")
    rabbit.stop_app()
    time.sleep(2)
    rabbit.start_app()
    writer.join(60)

    wait_until(
        lambda: inbox_count(database, subscriber.name) == total, 180, f"{total} events handled"
    )
    wait_until(lambda: pending_outbox(database) == 0, 30, "the outbox to empty")
    assert side_effect_counts(database, subscriber.name) == (total, total)


def test_worker_killed_mid_stream_loses_and_repeats_nothing(
    rabbit: Any, running: Running, tmp_path: Path, unique_name: str
) -> None:
    database = sqlite_database(tmp_path)
    name = f"probe.killed_{unique_name}"
    command = [sys.executable, "-m", "tests.support.probe_worker", database.url, rabbit.url, name]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    worker = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE)
    assert worker.stdout is not None and worker.stdout.readline().strip() == b"ready"
    write_events(database, 1500, padding=100)
    wait_until(lambda: inbox_count(database, name) >= 200, 60, "the worker to get going")
    worker.send_signal(signal.SIGKILL)
    worker.wait(10)
    handled_before_kill = inbox_count(database, name)
    assert handled_before_kill < 1500, "the kill came too late to prove anything"

    restarted = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.PIPE)
    try:
        assert restarted.stdout is not None and restarted.stdout.readline().strip() == b"ready"
        wait_until(lambda: inbox_count(database, name) == 1500, 120, "all events after the restart")
    finally:
        restarted.terminate()
        restarted.wait(20)
    assert side_effect_counts(database, name) == (1500, 1500)
    assert pending_outbox(database) == 0


class CrashAfterConfirm(OutboxRelay):
    """Dies between the broker's confirm and the commit that marks rows published."""

    def after_confirm(self, rows: Sequence[PendingEvent]) -> None:
        raise SystemExit("relay process died")


def test_relay_crash_after_confirm_publishes_twice_but_is_handled_once(
    rabbit: Any, running: Running, any_database: Database, unique_name: str
) -> None:
    database = any_database
    connection, channel, queue = observe(rabbit.url)
    subscriber = recording_subscriber(f"probe.crash_{unique_name}")
    running.consumer(database, subscriber)
    write_events(database, 50)

    crashing = CrashAfterConfirm(database, rabbit.url)
    with pytest.raises(SystemExit):
        crashing.publish_batch()
    crashing.close()
    assert pending_outbox(database) == 50, "nothing may be marked sent by a relay that died"

    running.relay(database)
    wire = drain_observed(channel, queue, 100)
    connection.close()
    assert len(wire) == 100, "every event crossed the wire twice"
    wait_until(lambda: inbox_count(database, subscriber.name) == 50, 30, "all 50 handled")
    time.sleep(0.5)  # let any stray duplicate arrive before counting
    assert side_effect_counts(database, subscriber.name) == (50, 50)


def test_failing_handler_retries_with_backoff_parks_and_replays(
    rabbit: Any, running: Running, database: Database, unique_name: str
) -> None:
    broken = {"yes": True}
    failing = recording_subscriber(f"probe.failing_{unique_name}", fail=lambda event: broken["yes"])
    healthy = recording_subscriber(f"probe.healthy_{unique_name}")
    running.consumer(database, failing, max_attempts=3, retry_base_seconds=0.5)
    running.consumer(database, healthy)
    write_events(database, 1)
    started = time.monotonic()
    running.relay(database)

    store = RabbitParkedStore(rabbit.url, [failing, healthy])
    wait_until(lambda: len(store.list(failing.name)) == 1, 30, "the event to be parked")
    elapsed = time.monotonic() - started
    assert failing.attempts == 3  # type: ignore[attr-defined]
    assert elapsed >= 0.5 + 1.0, "back-off of 0.5 s then 1 s between the three attempts"
    parked = store.list(failing.name)[0]
    assert parked.attempts == 3
    assert "probe handler refused seq 0" in parked.reason
    assert parked.event_type == EVENT
    assert side_effect_counts(database, failing.name) == (0, 0)
    # The other subscriber got the event once, and never again through the retries.
    assert side_effect_counts(database, healthy.name) == (1, 1)
    assert healthy.attempts == 1  # type: ignore[attr-defined]

    broken["yes"] = False
    listed = CliRunner().invoke(
        cli, ["bus", "list", "--subscriber", failing.name], env={"CORTESIA_AMQP_URL": rabbit.url}
    )
    assert listed.exit_code == 0, listed.output
    assert parked.event_id in listed.output and "probe handler refused" in listed.output
    shown = CliRunner().invoke(cli, ["bus", "show", "--help"])
    assert shown.exit_code == 0
    replayed = CliRunner().invoke(
        cli,
        ["bus", "replay", parked.event_id, "--subscriber", failing.name],
        env={"CORTESIA_AMQP_URL": rabbit.url},
    )
    assert replayed.exit_code == 0, replayed.output
    assert "1 message(s) replayed" in replayed.output
    wait_until(
        lambda: side_effect_counts(database, failing.name) == (1, 1), 30, "the replay to be handled"
    )
    assert store.list(failing.name) == []
    assert side_effect_counts(database, healthy.name) == (1, 1)


def test_malformed_and_invalid_messages_are_parked_at_once(
    rabbit: Any, running: Running, database: Database, unique_name: str
) -> None:
    subscriber = recording_subscriber(f"probe.poison_{unique_name}")
    running.consumer(database, subscriber)
    connection = pika.BlockingConnection(pika.URLParameters(rabbit.url))
    channel = connection.channel()
    properties = pika.BasicProperties(content_type="application/json", delivery_mode=2)
    channel.basic_publish(EVENTS_EXCHANGE, EVENT, b"{not json", properties)
    invalid = {
        "event_id": "3f8a4d7e-8a52-4b6f-9d8e-2a1b3c4d5e6f",
        "event_type": EVENT,
        "occurred_at": "2026-11-22T10:00:00+00:00",
        "producer": "probe",
        "correlation_id": "c1",
        "causation_id": None,
        "payload": {"seq": "not a number"},
    }
    channel.basic_publish(EVENTS_EXCHANGE, EVENT, json.dumps(invalid).encode(), properties)
    connection.close()
    write_events(database, 1)
    running.relay(database)

    wait_until(
        lambda: side_effect_counts(database, subscriber.name) == (1, 1), 30, "the good event"
    )
    store = RabbitParkedStore(rabbit.url, [subscriber])
    wait_until(lambda: len(store.list(subscriber.name)) == 2, 30, "both bad messages parked")
    reasons = sorted(m.reason for m in store.list(subscriber.name))
    assert reasons[0].startswith("body is not JSON")
    assert "payload invalid" in reasons[1] and "seq" in reasons[1]
    assert subscriber.attempts == 1, "bad messages never reach the handler"  # type: ignore[attr-defined]


@pytest.mark.postgres
def test_two_relays_on_postgres_publish_each_row_once(
    rabbit: Any, running: Running, postgres_url: str
) -> None:
    database = Database(postgres_url)
    create_schema(database)
    write_events(database, 1000)
    connection, channel, queue = observe(rabbit.url)
    running.relay(Database(postgres_url), batch_size=50, name="relay-a")
    running.relay(Database(postgres_url), batch_size=50, name="relay-b")
    wait_until(lambda: pending_outbox(database) == 0, 60, "both relays to drain the outbox")
    wire = drain_observed(channel, queue, 1000)
    time.sleep(1)
    extra = drain_observed(channel, queue, 1, timeout=1)
    connection.close()
    ids = [properties.message_id for _, properties, _ in wire]
    assert len(ids) == 1000 and len(set(ids)) == 1000
    assert extra == [], "a row was published twice"


def test_parked_queue_names_are_per_subscriber() -> None:
    assert parked_queue("training.staff_directory") == "training.staff_directory.parked"


def test_quorum_queues_when_the_setting_asks_for_them(
    rabbit: Any, running: Running, database: Database, unique_name: str
) -> None:
    subscriber = recording_subscriber(f"probe.quorum_{unique_name}")
    running.consumer(database, subscriber, queue_type="quorum", max_attempts=3)
    write_events(database, 20)
    running.relay(database)
    wait_until(lambda: inbox_count(database, subscriber.name) == 20, 30, "20 events via quorum")
    listing = rabbit.ctl("list_queues", "name", "type", "--no-table-headers", "--quiet")
    types = dict(line.split("\t") for line in listing.splitlines() if subscriber.name in line)
    assert set(types) == {
        subscriber.name,
        f"{subscriber.name}.parked",
        f"{subscriber.name}.retry.200ms",
        f"{subscriber.name}.retry.400ms",
    }
    assert set(types.values()) == {"quorum"}
