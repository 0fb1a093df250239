"""Event contracts, the outbox and the inbox, without a broker."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from shared.bus.inbox import remember
from shared.bus.outbox import OutboxPruner, claim_pending, record_event
from shared.bus.subscriber import Outcome, ReceivedEvent, Subscriber, process_message, retry_delay
from shared.bus.tables import outbox
from shared.events import REGISTRY, Envelope, InvalidEvent
from shared.events.envelope import EnvelopeSchema, decode_envelope
from shared.logging import correlation_scope
from tests.support.probe import EVENT, sqlite_database

STAFF_ADDED = "tickets.staff_added.v1"
OWNER = {"staff_id": 1, "name": "Ana", "email": "ana@example.com", "role": "owner"}


def test_producers_dump_strictly() -> None:
    assert REGISTRY.dump(STAFF_ADDED, OWNER) == OWNER
    with pytest.raises(InvalidEvent, match="role"):
        REGISTRY.dump(STAFF_ADDED, {**OWNER, "role": "emperor"})
    with pytest.raises(InvalidEvent, match="nickname"):
        REGISTRY.dump(STAFF_ADDED, {**OWNER, "nickname": "Aninha"})
    with pytest.raises(InvalidEvent, match="unknown event type"):
        REGISTRY.dump("tickets.nothing.v1", {})


def test_consumers_load_tolerantly_but_reject_what_does_not_fit() -> None:
    newer = Envelope(STAFF_ADDED, "tickets", {**OWNER, "added_by": 7})
    assert REGISTRY.load(newer) == OWNER, "a field added by a newer producer is ignored"
    with pytest.raises(InvalidEvent, match="email"):
        REGISTRY.load(Envelope(STAFF_ADDED, "tickets", {**OWNER, "email": "not-an-email"}))


def test_envelopes_round_trip_and_bad_ones_are_named() -> None:
    envelope = Envelope(STAFF_ADDED, "tickets", OWNER, causation_id="cause-1")
    decoded = decode_envelope(envelope.to_json())
    assert decoded == envelope
    with pytest.raises(InvalidEvent, match="not JSON"):
        decode_envelope(b"\xff\xfe")
    with pytest.raises(InvalidEvent, match="not a JSON object"):
        decode_envelope(b"[1, 2]")
    wrong_producer = {**json.loads(envelope.to_json()), "producer": "billing"}
    with pytest.raises(InvalidEvent, match="does not belong to producer"):
        decode_envelope(json.dumps(wrong_producer).encode())
    with pytest.raises(InvalidEvent, match="envelope invalid"):
        decode_envelope(json.dumps({"event_type": STAFF_ADDED}).encode())


def test_the_wire_form_is_what_the_envelope_schema_dumps() -> None:
    envelope = Envelope(STAFF_ADDED, "tickets", OWNER, causation_id="cause-1")
    schema_form = json.dumps(EnvelopeSchema().dump(envelope), separators=(",", ":"))
    assert envelope.to_json().decode() == schema_form


def test_a_service_may_only_publish_its_own_events(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    with pytest.raises(ValueError, match="may not publish"), database.transaction() as session:
        record_event(session, "billing", STAFF_ADDED, OWNER)


def test_an_invalid_event_fails_the_business_transaction(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    with pytest.raises(InvalidEvent), database.transaction() as session:
        record_event(session, "tickets", STAFF_ADDED, {"staff_id": 0})
    with database.transaction() as session:
        assert claim_pending(session, 10, skip_locked=False) == []


def test_events_caused_by_a_handled_event_carry_its_correlation_and_causation(
    tmp_path: Path,
) -> None:
    database = sqlite_database(tmp_path)
    relay_on = Subscriber("probe.relay_on")

    @relay_on.handles(EVENT)
    def announce(session: object, event: ReceivedEvent) -> None:
        record_event(session, "tickets", STAFF_ADDED, OWNER)  # type: ignore[arg-type]

    with correlation_scope("request-42"), database.transaction() as session:
        cause = record_event(session, "probe", EVENT, {"seq": 1})
    assert cause.correlation_id == "request-42" and cause.causation_id is None
    assert process_message(database, relay_on, cause.to_json()).outcome is Outcome.HANDLED
    with database.transaction() as session:
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == STAFF_ADDED)
        ).scalars()
        effect = decode_envelope(next(iter(bodies)))
    assert effect.correlation_id == "request-42"
    assert effect.causation_id == cause.event_id


def test_the_inbox_remembers_per_subscriber(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    envelope = Envelope(STAFF_ADDED, "tickets", OWNER)
    with database.transaction() as session:
        assert remember(session, "a.one", envelope) is True
        assert remember(session, "a.one", envelope) is False
        assert remember(session, "a.two", envelope) is True


def test_back_off_doubles_and_is_capped() -> None:
    assert [retry_delay(n, 1.0) for n in (1, 2, 3, 4)] == [1.0, 2.0, 4.0, 8.0]
    assert retry_delay(30, 1.0) == 3600.0


def test_published_rows_are_pruned_after_they_have_been_kept_a_while(tmp_path: Path) -> None:
    database = sqlite_database(tmp_path)
    with database.transaction() as session:
        old, recent, pending = (record_event(session, "probe", EVENT, {"seq": n}) for n in range(3))
        session.execute(
            update(outbox)
            .where(outbox.c.event_id == old.event_id)
            .values(published_at=datetime.now(UTC) - timedelta(days=8))
        )
        session.execute(
            update(outbox)
            .where(outbox.c.event_id == recent.event_id)
            .values(published_at=datetime.now(UTC) - timedelta(days=1))
        )
    OutboxPruner(database).maybe_prune()
    with database.transaction() as session:
        left = set(session.execute(select(outbox.c.event_id)).scalars())
    assert left == {recent.event_id, pending.event_id}
