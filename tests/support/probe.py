"""A probe service for bus tests: two event types, handlers that write a side-effect row.

Side effects have no unique key, so a handler that ran twice for one event
shows up as two rows: exactly-once is checked, not assumed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from marshmallow import Schema, fields
from sqlalchemy import Integer, String, func, select
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from shared.bus.outbox import record_event
from shared.bus.subscriber import ReceivedEvent, Subscriber
from shared.bus.tables import BUS_METADATA, inbox, outbox
from shared.db import Database
from shared.events import REGISTRY

EVENT = "probe.thing_happened.v1"

if EVENT not in REGISTRY:

    @REGISTRY.register(EVENT)
    class ThingHappenedV1(Schema):
        seq = fields.Integer(required=True)
        padding = fields.String(load_default="")


OTHER_EVENT = "probe.other_thing_happened.v1"

if OTHER_EVENT not in REGISTRY:

    @REGISTRY.register(OTHER_EVENT)
    class OtherThingHappenedV1(Schema):
        seq = fields.Integer(required=True)


class ProbeBase(DeclarativeBase):
    pass


class SideEffect(ProbeBase):
    __tablename__ = "side_effects"

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[str] = mapped_column(String(36))
    seq: Mapped[int] = mapped_column(Integer)


def create_schema(database: Database) -> None:
    ProbeBase.metadata.create_all(database.engine)
    BUS_METADATA.create_all(database.engine)


def sqlite_database(directory: Path, name: str = "probe") -> Database:
    database = Database(f"sqlite:///{directory / name}.sqlite3")
    create_schema(database)
    return database


def write_events(
    database: Database, count: int, *, padding: int = 0, per_transaction: int = 100
) -> None:
    for start in range(0, count, per_transaction):
        with database.transaction() as session:
            for seq in range(start, min(count, start + per_transaction)):
                record_event(session, "probe", EVENT, {"seq": seq, "padding": "x" * padding})


def recording_subscriber(
    name: str, fail: Callable[[ReceivedEvent], bool] | None = None
) -> Subscriber:
    """A subscriber whose handler records a side effect, or raises while ``fail`` says so."""
    subscriber = Subscriber(name)
    subscriber.attempts = 0  # type: ignore[attr-defined]

    @subscriber.handles(EVENT)
    def record(session: Session, event: ReceivedEvent) -> None:
        subscriber.attempts += 1  # type: ignore[attr-defined]
        if fail is not None and fail(event):
            raise RuntimeError(f"probe handler refused seq {event.data['seq']}")
        session.add(SideEffect(subscriber=name, event_id=event.event_id, seq=event.data["seq"]))

    return subscriber


def side_effect_counts(database: Database, subscriber: str) -> tuple[int, int]:
    """(rows, distinct events) written by this subscriber."""
    with database.transaction() as session:
        rows, distinct = session.execute(
            select(func.count(), func.count(func.distinct(SideEffect.event_id))).where(
                SideEffect.subscriber == subscriber
            )
        ).one()
    return int(rows), int(distinct)


def inbox_count(database: Database, subscriber: str) -> int:
    with database.transaction() as session:
        return int(
            session.execute(
                select(func.count()).select_from(inbox).where(inbox.c.subscriber == subscriber)
            ).scalar_one()
        )


def pending_outbox(database: Database) -> int:
    with database.transaction() as session:
        return int(
            session.execute(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            ).scalar_one()
        )


def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def run_in_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
