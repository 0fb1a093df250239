"""CPU per message of the consumer's and the relay's Python work, without broker or fsync.

    .venv/bin/python -m bench.per_message_cpu [--messages 3000]

    .venv/bin/python -m bench.per_message_cpu --postgres

Runs ``process_message`` (decode, validate, inbox insert + one handler row, commit)
on a SQLite database with synchronous=OFF, so that what is timed is CPU, not the
disk, and the relay's per-row ``decode_envelope``; with ``--postgres``, also on a
private PostgreSQL. Candidate changes of ``bench/experiments.py`` are applied in
a fresh process per case; the raw contenders' ``handle_raw`` is the floor. CPU is
the process's CPU time per message; wall adds the waits (round trips, and fsync
on PostgreSQL). Cases are interleaved over rounds and the median is printed.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

CPU_CHANGES = ["schema-cache", "relay-json"]
CASES: list[tuple[str, str, list[str]]] = [
    ("sqlite", "WARNING", []),
    ("sqlite", "WARNING", CPU_CHANGES),
    ("sqlite", "WARNING", [*CPU_CHANGES, "inbox-stmt"]),
]
POSTGRES_CASES: list[tuple[str, str, list[str]]] = [
    ("postgres", "WARNING", []),
    ("postgres", "WARNING", ["no-pre-ping"]),
    ("postgres", "WARNING", [*CPU_CHANGES, "inbox-stmt", "no-pre-ping"]),
]


def measure(
    experiments: list[str], messages: int, log_level: str, url: str | None
) -> dict[str, float]:
    from sqlalchemy import event, insert, select
    from sqlalchemy.orm import Session

    from bench.common import EVENT, create_schema, handle_raw, preload, side_effects
    from bench.experiments import apply
    from shared.bus.subscriber import ReceivedEvent, Subscriber, process_message
    from shared.bus.tables import outbox
    from shared.db import Database
    from shared.logging import configure_logging

    configure_logging(getattr(logging, log_level))
    handler = logging.getLogger().handlers[0]
    assert isinstance(handler, logging.StreamHandler)
    scratch = Path(tempfile.mkdtemp(prefix="cortesia-cpu-"))
    handler.setStream(open(scratch / "log.jsonl", "w"))  # noqa: SIM115
    apply(experiments)
    database = Database(url or f"sqlite:///{scratch}/cpu.sqlite3")
    create_schema(database)
    preload(database, 1, 1024)
    if not database.is_postgres:

        @event.listens_for(database.engine, "connect")
        def _no_fsync(dbapi_connection: object, _record: object) -> None:
            dbapi_connection.execute("PRAGMA synchronous=OFF")  # type: ignore[attr-defined]

        database.engine.dispose()
    with database.engine.connect() as connection:
        template = json.loads(connection.execute(select(outbox.c.body)).scalar_one())

    def bodies() -> list[bytes]:
        out = []
        for seq in range(messages):
            template["event_id"] = str(uuid.uuid4())
            template["payload"]["seq"] = seq
            out.append(json.dumps(template).encode())
        return out

    subscriber = Subscriber("bench.cpu")

    @subscriber.handles(EVENT)
    def record(session: Session, received: ReceivedEvent) -> None:
        session.execute(
            insert(side_effects).values(
                subscriber="bench.cpu", event_id=received.event_id, seq=received.data["seq"]
            )
        )

    def timed(function: Callable[[bytes], object], items: list[bytes]) -> tuple[float, float]:
        """(CPU, wall) microseconds per item."""
        for item in items[:200]:  # warm up: statement caches, schema classes
            function(item)
        cpu, wall = time.process_time(), time.perf_counter()
        for item in items[200:]:
            function(item)
        count = len(items) - 200
        return 1e6 * (time.process_time() - cpu) / count, 1e6 * (time.perf_counter() - wall) / count

    cpu, wall = timed(lambda b: process_message(database, subscriber, b), bodies())
    results = {
        "process_message_us": cpu,
        "process_message_wall_us": wall,
        "relay_decode_us": timed(json.loads, bodies())[0],
    }
    if not experiments:
        cpu, wall = timed(lambda b: handle_raw(database, "raw", b), bodies())
        results["handle_raw_us"], results["handle_raw_wall_us"] = cpu, wall
    database.dispose()
    shutil.rmtree(scratch, ignore_errors=True)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(prog="bench.per_message_cpu")
    parser.add_argument("--messages", type=int, default=3000)
    parser.add_argument(
        "--postgres", action="store_true", help="also on a private PostgreSQL (fsync on)"
    )
    parser.add_argument("--rounds", type=int, default=3, help="median of this many")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec = json.loads(args.child)
        result = measure(spec["experiments"], args.messages, spec["log_level"], spec["url"])
        print(json.dumps(result))
        return 0
    cases = CASES + (POSTGRES_CASES if args.postgres else [])
    cluster = None
    if args.postgres:
        from shared.testing.servers import PostgresCluster

        cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="cortesia-cpu-pg-")))
        cluster.start()
    results: dict[int, list[dict[str, float]]] = {number: [] for number in range(len(cases))}
    try:
        for round_ in range(args.rounds):  # rounds interleave the cases: drifts hit them all
            for number, (kind, level, experiments) in enumerate(cases):
                url = None
                if kind == "postgres":
                    assert cluster is not None
                    url = cluster.create_database(f"cpu_{round_}_{number}")
                child = json.dumps({"experiments": experiments, "log_level": level, "url": url})
                command = [sys.executable, "-m", "bench.per_message_cpu"]
                command += ["--messages", str(args.messages), "--child", child]
                output = subprocess.run(
                    command, capture_output=True, text=True, timeout=600, check=True
                ).stdout
                results[number].append(json.loads(output.strip().splitlines()[-1]))
        print(
            f"{'database':9} {'log level':9} {'changes':45} {'CPU us':>7} {'wall us':>8} "
            f"{'relay decode us':>15}   (median of {args.rounds})"
        )
        for number, (kind, level, experiments) in enumerate(cases):
            runs = results[number]

            def median(key: str, runs: list[dict[str, float]] = runs) -> float:
                return statistics.median(run[key] for run in runs)

            print(
                f"{kind:9} {level:9} {'+'.join(experiments) or 'as shipped':45} "
                f"{median('process_message_us'):7.0f} {median('process_message_wall_us'):8.0f} "
                f"{median('relay_decode_us'):15.0f}"
            )
            if "handle_raw_us" in runs[0]:
                print(
                    f"{kind:9} {level:9} {'raw handle_raw (the floor)':45} "
                    f"{median('handle_raw_us'):7.0f} {median('handle_raw_wall_us'):8.0f}"
                )
    finally:
        if cluster is not None:
            cluster.stop()
            shutil.rmtree(cluster.root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
