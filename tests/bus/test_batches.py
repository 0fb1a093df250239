"""Several events handled in one transaction: each one still once, alone in its failure."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from shared.bus.consumer import SubscriberConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.subscriber import Outcome, ReceivedEvent, Subscriber, process_batch
from shared.db import Database
from shared.events import Envelope
from tests.support.probe import (
    EVENT,
    OTHER_EVENT,
    SideEffect,
    inbox_count,
    recording_subscriber,
    run_in_thread,
    side_effect_counts,
    sqlite_database,
    wait_until,
    write_events,
)


def probe(seq: int) -> Envelope:
    return Envelope(EVENT, "probe", {"seq": seq})


@pytest.fixture
def database(tmp_path: Path) -> Database:
    return sqlite_database(tmp_path)


HANDLED_HERE = "probe_handled"


def counted(subscriber: Subscriber) -> Subscriber:
    """The subscriber, its handler marking the transaction it ran in."""
    handler = subscriber.handlers[EVENT]

    def handle(session: Session, received: ReceivedEvent) -> None:
        handler(session, received)
        session.info[HANDLED_HERE] = True

    subscriber.handlers[EVENT] = handle
    return subscriber


class Commits:
    """Counts the committed transactions that handled events."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, session: Session) -> None:
        # A savepoint's release is a commit too, for SQLAlchemy: only the outermost counts.
        if not session.in_nested_transaction() and session.info.pop(HANDLED_HERE, False):
            self.count += 1


@pytest.fixture
def commits() -> Iterator[Commits]:
    counter = Commits()
    event.listen(Session, "after_commit", counter)
    yield counter
    event.remove(Session, "after_commit", counter)


def test_a_batch_is_one_transaction(database: Database, commits: Commits) -> None:
    subscriber = counted(recording_subscriber("probe.batch"))
    results = process_batch(database, subscriber, [probe(n).to_json() for n in range(5)])
    assert [r.outcome for r in results] == [Outcome.HANDLED] * 5
    assert commits.count == 1
    assert side_effect_counts(database, subscriber.name) == (5, 5)


def test_a_failing_handler_takes_only_its_own_event_back(
    database: Database, commits: Commits
) -> None:
    subscriber = counted(recording_subscriber("probe.batch", fail=lambda e: e.data["seq"] == 1))
    first, failing, third = probe(0), probe(1), probe(2)
    unknown = Envelope("tickets.staff_added.v1", "tickets", {"staff_id": 1})
    bodies = [
        first.to_json(),
        failing.to_json(),
        b"not json at all",
        third.to_json(),
        first.to_json(),  # the bus delivered it twice, both in this batch
        unknown.to_json(),
    ]

    results = process_batch(database, subscriber, bodies)

    assert [r.outcome for r in results] == [
        Outcome.HANDLED,
        Outcome.FAILED,
        Outcome.INVALID,
        Outcome.HANDLED,
        Outcome.DUPLICATE,
        Outcome.IGNORED,
    ]
    assert "refused seq 1" in results[1].reason and results[1].event_id == failing.event_id
    # The failure rolled the batch back; the others were then handled one by one.
    assert commits.count == 2
    # The failure left no trace: neither its side effect nor its inbox record.
    assert side_effect_counts(database, subscriber.name) == (2, 2)
    assert inbox_count(database, subscriber.name) == 2
    # So when it comes back (the retry), it is handled, once.
    subscriber_now_well = recording_subscriber("probe.batch")
    again = process_batch(database, subscriber_now_well, [failing.to_json(), third.to_json()])
    assert [r.outcome for r in again] == [Outcome.HANDLED, Outcome.DUPLICATE]
    assert side_effect_counts(database, subscriber.name) == (3, 3)


def test_when_the_batch_cannot_commit_each_event_is_handled_alone(
    database: Database, commits: Commits
) -> None:
    subscriber = counted(recording_subscriber("probe.batch_commit"))
    refused: list[int] = []

    def refuse_the_first_commit(session: Session) -> None:
        if not refused:
            refused.append(1)
            raise RuntimeError("the disk is full")

    event.listen(Session, "before_commit", refuse_the_first_commit)
    try:
        results = process_batch(database, subscriber, [probe(n).to_json() for n in range(3)])
    finally:
        event.remove(Session, "before_commit", refuse_the_first_commit)

    assert [r.outcome for r in results] == [Outcome.HANDLED] * 3
    assert commits.count == 3, "one transaction each after the batch's commit failed"
    assert side_effect_counts(database, subscriber.name) == (3, 3)


def together_subscriber(name: str, refuse: int | None = None) -> tuple[Subscriber, list[list[int]]]:
    """A subscriber handling probes together and other events one by one, and the seqs
    each call of a handler was given. It refuses any batch holding ``refuse``."""
    subscriber = Subscriber(name)
    calls: list[list[int]] = []

    def record(session: Session, events: Sequence[ReceivedEvent]) -> None:
        session.add_all(
            SideEffect(subscriber=name, event_id=event.event_id, seq=event.data["seq"])
            for event in events
        )
        session.info[HANDLED_HERE] = True

    @subscriber.handles_together(EVENT)
    def record_all(session: Session, events: Sequence[ReceivedEvent]) -> None:
        seqs = [event.data["seq"] for event in events]
        calls.append(seqs)
        if refuse in seqs:
            raise RuntimeError(f"probe handler refused seq {refuse}")
        record(session, events)

    @subscriber.handles(OTHER_EVENT)
    def record_one(session: Session, event: ReceivedEvent) -> None:
        calls.append([event.data["seq"]])
        record(session, [event])

    return subscriber, calls


def test_events_handled_together_reach_their_handler_in_runs(
    database: Database, commits: Commits
) -> None:
    subscriber, calls = together_subscriber("probe.together")
    first = probe(0)
    envelopes = [first, probe(1), Envelope(OTHER_EVENT, "probe", {"seq": 10}), probe(2), first]
    envelopes.append(probe(3))

    results = process_batch(database, subscriber, [e.to_json() for e in envelopes])

    assert [r.outcome for r in results] == [
        Outcome.HANDLED,
        Outcome.HANDLED,
        Outcome.HANDLED,
        Outcome.HANDLED,
        Outcome.DUPLICATE,  # the bus delivered it twice, both in this batch
        Outcome.HANDLED,
    ]
    # In order, the other event's handler between the runs, the duplicate left out.
    assert calls == [[0, 1], [10], [2, 3]]
    assert commits.count == 1
    assert side_effect_counts(database, subscriber.name) == (5, 5)
    assert inbox_count(database, subscriber.name) == 5
    # Delivered again, none of them reaches a handler.
    again = process_batch(database, subscriber, [e.to_json() for e in envelopes[1:4]])
    assert [r.outcome for r in again] == [Outcome.DUPLICATE] * 3
    assert len(calls) == 3


def test_a_batch_handler_that_fails_is_given_each_event_alone(
    database: Database, commits: Commits
) -> None:
    subscriber, calls = together_subscriber("probe.together_failing", refuse=1)

    results = process_batch(database, subscriber, [probe(n).to_json() for n in range(3)])

    assert [r.outcome for r in results] == [Outcome.HANDLED, Outcome.FAILED, Outcome.HANDLED]
    assert "refused seq 1" in results[1].reason
    assert calls == [[0, 1, 2], [0], [1], [2]]
    assert commits.count == 2
    assert side_effect_counts(database, subscriber.name) == (2, 2)
    assert inbox_count(database, subscriber.name) == 2


@pytest.mark.rabbitmq
def test_a_burst_from_rabbitmq_is_handled_in_batches_each_event_once(
    rabbit: Any, database: Database, commits: Commits, tmp_path: Path, unique_name: str
) -> None:
    subscriber = counted(recording_subscriber(f"probe.burst_{unique_name}"))
    consumer = SubscriberConsumer(database, subscriber, rabbit.url, heartbeat_seconds=10)
    threads = [run_in_thread(consumer.run, "consumer")]
    assert consumer.ready.wait(30)
    # Written before the relay starts, so the consumer meets them as a burst.
    producer = sqlite_database(tmp_path, "producer")
    total = 600
    write_events(producer, total, per_transaction=total)
    relay = OutboxRelay(producer, rabbit.url, heartbeat_seconds=10, batch_size=total)
    threads.append(run_in_thread(relay.run, "relay"))
    try:
        wait_until(lambda: inbox_count(database, subscriber.name) == total, 60, "the burst")
    finally:
        for component in (relay, consumer):
            component.stop()
        for thread in threads:
            thread.join(20)
    assert side_effect_counts(database, subscriber.name) == (total, total)
    # Batches of up to fifty; a few come smaller as the relay's publishing trickles in.
    assert total / consumer.batch_size <= commits.count < total / 5
