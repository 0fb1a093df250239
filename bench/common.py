"""What every contender of the throughput benchmark shares.

One event type (``bench.thing_happened.v1``) with a ~1 KB payload, the
outbox and inbox tables of ``shared.bus.tables``, and one side-effect table
written by every handler. Events are written to the outbox with Cortesia's own
``record_event``, so every contender reads exactly the same rows and sends
exactly the same bodies (the envelope JSON).

The "raw" contenders (pika, Celery, FastStream) use the helpers here for their
database work: plain SQLAlchemy Core statements on an engine made by
``shared.db.make_engine`` (so SQLite gets the same WAL + synchronous=FULL
pragmas and BEGIN IMMEDIATE as Cortesia), one transaction per message with the
inbox insert and the side-effect row.
"""

from __future__ import annotations

import json
import os
import resource
import threading
import time
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import (
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    func,
    insert,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection

from shared.bus.outbox import record_event
from shared.bus.tables import BUS_METADATA, inbox, outbox
from shared.db import Database
from shared.events import REGISTRY

EVENT = "bench.thing_happened.v1"
PRODUCER = "bench"

if EVENT not in REGISTRY:

    @REGISTRY.register(EVENT)
    class ThingHappenedV1(Schema):
        seq = fields.Integer(required=True)
        sent_at = fields.Float(load_default=0.0)
        """time.time() just before the producer's COMMIT (latency runs)."""
        padding = fields.String(load_default="")


BENCH_METADATA = MetaData()

side_effects = Table(
    "bench_side_effects",
    BENCH_METADATA,
    Column(
        "id", BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    ),
    Column("subscriber", String(80), nullable=False),
    Column("event_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),
)


def create_schema(database: Database) -> None:
    BUS_METADATA.create_all(database.engine)
    BENCH_METADATA.create_all(database.engine)


def payload(seq: int, size: int, sent_at: float = 0.0) -> dict[str, Any]:
    """A payload whose JSON form is ``size`` bytes (give or take the digits of seq)."""
    bare = {"seq": seq, "sent_at": sent_at, "padding": ""}
    pad = max(0, size - len(json.dumps(bare, separators=(",", ":"))))
    return {"seq": seq, "sent_at": sent_at, "padding": "x" * pad}


def preload(database: Database, count: int, payload_bytes: int, per_transaction: int = 100) -> int:
    """Write ``count`` events to the outbox; return the size of one body on the wire."""
    for start in range(0, count, per_transaction):
        with database.transaction() as session:
            for seq in range(start, min(count, start + per_transaction)):
                record_event(session, PRODUCER, EVENT, payload(seq, payload_bytes))
    with database.transaction() as session:
        body = session.execute(select(outbox.c.body).limit(1)).scalar_one()
    return len(body.encode())


def write_event(database: Database, seq: int, payload_bytes: int) -> None:
    """One event in its own transaction, as an application writes it, but cheaply.

    The latency run's producer shares 2 cores with the worker, the broker and the
    database: building the envelope with marshmallow (``record_event``) would cost
    it more CPU than the measured path, so the same wire form is built with
    ``json.dumps``. ``sent_at`` is stamped just before the COMMIT.
    """
    now = datetime.now(UTC)
    event_id = str(uuid.uuid4())
    body = json.dumps(
        {
            "event_id": event_id,
            "event_type": EVENT,
            "occurred_at": now.isoformat(),
            "producer": PRODUCER,
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
            "payload": payload(seq, payload_bytes, time.time()),
        },
        separators=(",", ":"),
    )
    with database.engine.begin() as connection:
        connection.execute(
            insert(outbox).values(event_id=event_id, event_type=EVENT, body=body, created_at=now)
        )


# -- the raw contenders' database work ---------------------------------------------


@dataclass(frozen=True)
class Row:
    row_id: int
    event_id: str
    event_type: str
    body: bytes


def claim(connection: Connection, limit: int, skip_locked: bool) -> list[Row]:
    query = (
        select(outbox.c.id, outbox.c.event_id, outbox.c.event_type, outbox.c.body)
        .where(outbox.c.published_at.is_(None))
        .order_by(outbox.c.id)
        .limit(limit)
    )
    if skip_locked:
        query = query.with_for_update(skip_locked=True)
    return [Row(r.id, r.event_id, r.event_type, r.body.encode()) for r in connection.execute(query)]


def mark(connection: Connection, row_ids: list[int]) -> None:
    if row_ids:
        connection.execute(
            update(outbox).where(outbox.c.id.in_(row_ids)).values(published_at=func.now())
        )


class OutboxReader:
    """The outbox half of a raw relay, with the same transaction shape as Cortesia's relay.

    PostgreSQL: one transaction locks a batch (FOR UPDATE SKIP LOCKED), is held
    while the batch is published and confirmed, and marks the confirmed rows.
    SQLite (one writer): claim in one short transaction, mark in another.
    """

    def __init__(self, database: Database) -> None:
        self.database = database
        self.postgres = database.is_postgres
        self._held: Connection | None = None

    def claim(self, limit: int) -> list[Row]:
        engine = self.database.engine
        if self.postgres:
            connection = engine.connect()
            rows = claim(connection, limit, skip_locked=True)
            if not rows:
                connection.rollback()
                connection.close()
                return []
            self._held = connection
            return rows
        with engine.begin() as connection:
            return claim(connection, limit, skip_locked=False)

    def mark(self, row_ids: list[int]) -> None:
        if self.postgres:
            connection, self._held = self._held, None
            assert connection is not None
            try:
                mark(connection, row_ids)
                connection.commit()
            finally:
                connection.close()
            return
        with self.database.engine.begin() as connection:
            mark(connection, row_ids)

    def abandon(self) -> None:
        connection, self._held = self._held, None
        if connection is not None:
            connection.rollback()
            connection.close()


def _insert_inbox(dialect: str, values: dict[str, Any]) -> Any:
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(inbox).values(values).on_conflict_do_nothing()


def handle_raw(
    database: Database, subscriber: str, message: bytes | str | dict[str, Any]
) -> int | None:
    """Inbox insert + side-effect row in one transaction; the seq, or None for a duplicate."""
    envelope = message if isinstance(message, dict) else json.loads(message)
    event_id = envelope["event_id"]
    seq = int(envelope["payload"]["seq"])
    engine = database.engine
    with engine.begin() as connection:
        # RETURNING, not rowcount: psycopg 3.3 under SQLAlchemy 2.1 reports -1 for this insert.
        values = {
            "subscriber": subscriber,
            "event_id": event_id,
            "event_type": envelope["event_type"],
            "handled_at": func.now(),
        }
        statement = _insert_inbox(engine.dialect.name, values).returning(inbox.c.event_id)
        fresh = connection.execute(statement).first() is not None
        if not fresh:
            return None
        connection.execute(
            insert(side_effects).values(subscriber=subscriber, event_id=event_id, seq=seq)
        )
    return seq


# -- measurement -------------------------------------------------------------------------


class Recorder:
    """Handler commits as (seq, time.time()) pairs; ``done`` once ``target`` were seen."""

    def __init__(self, target: int, stages: bool = False) -> None:
        self.target = target
        self.commits: list[tuple[int, float]] = []
        self.stages = stages
        """Also record when the broker confirmed each event (latency runs only: it costs a
        json.loads per row in the publisher)."""
        self.confirms: list[tuple[int, float]] = []
        self.done = threading.Event()
        self._lock = threading.Lock()

    def confirmed(self, bodies: Iterable[bytes]) -> None:
        if not self.stages:
            return
        at = time.time()
        seqs = [json.loads(body)["payload"]["seq"] for body in bodies]
        with self._lock:
            self.confirms.extend((seq, at) for seq in seqs)

    def record(self, seq: int, at: float | None = None) -> None:
        at = time.time() if at is None else at
        with self._lock:
            self.commits.append((seq, at))
            if len(self.commits) >= self.target:
                self.done.set()

    def expect(self, target: int) -> None:
        with self._lock:
            self.target = target
            if len(self.commits) >= self.target:
                self.done.set()

    @property
    def count(self) -> int:
        return len(self.commits)


def cpu_ticks() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    try:
        with open("/proc/stat") as stat:
            fields = [int(v) for v in stat.readline().split()[1:]]
    except OSError:
        return 0, 0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def busy_percent(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    """Share of all CPUs busy between two ``cpu_ticks`` readings (100 = every core busy)."""
    total = after[1] - before[1]
    return 100.0 * (after[0] - before[0]) / total if total > 0 else None


def proc_status(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and VmHWM (peak resident set) of a process, in MiB."""
    values: dict[str, float] = {}
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                key, _, rest = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    values[key] = int(rest.split()[0]) / 1024
    except OSError:
        pass
    return values


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def verify(database: Database, subscriber: str) -> dict[str, int]:
    """What the database says: side-effect rows, distinct events, inbox rows, pending outbox."""
    with database.engine.connect() as connection:
        rows, distinct = connection.execute(
            select(func.count(), func.count(func.distinct(side_effects.c.event_id))).where(
                side_effects.c.subscriber == subscriber
            )
        ).one()
        inbox_rows = connection.execute(
            select(func.count()).select_from(inbox).where(inbox.c.subscriber == subscriber)
        ).scalar_one()
        pending = connection.execute(
            select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
        ).scalar_one()
    return {
        "side_effects": int(rows),
        "distinct": int(distinct),
        "inbox": int(inbox_rows),
        "pending_outbox": int(pending),
    }


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def pid() -> int:
    return os.getpid()
