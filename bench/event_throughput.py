"""End-to-end event throughput and latency: outbox -> relay -> RabbitMQ -> consumer -> handler.

    .venv/bin/python -m bench.event_throughput [--events 5000] [--rate 500] \\
        [--database sqlite|postgres|both] [--contenders cortesia,pika,celery,faststream]

Starts a private RabbitMQ node (and a private PostgreSQL cluster) on loopback
ports in temporary directories, then, for each database and each contender:

1. a fresh database gets the outbox/inbox tables and N events of ~1 KB payload,
   written through Cortesia's ``record_event`` (the same rows for everyone);
2. a worker process (``bench.worker``) subscribes its consumer, starts its
   outbox publisher, and times from that start to the handler's commit of the
   N-th event. Messages are persistent, published with publisher confirms,
   consumed with manual acks after the handler's transaction (inbox insert +
   one side-effect row) committed; the database is checked afterwards: N rows,
   N distinct events, N inbox records, nothing left pending in the outbox.

Contenders: Cortesia (OutboxRelay + SubscriberConsumer, library defaults), raw
pika, Celery 5.7 and FastStream 0.7 (see ``bench/contenders/``).

Then a latency run for Cortesia: events are written to the outbox one per
transaction at a fixed rate (default 500/s) while the worker runs; latency is
from the producer's COMMIT returning to the handler's COMMIT returning. The
worker's resident memory (relay + consumer in one process) is read from
/proc/PID/status.

Every wait is bounded; the servers are stopped and their directories removed
at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import queue
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from bench.common import EVENT, PRODUCER, create_schema, payload, percentile, preload, proc_status
from bench.contenders import NAMES, queue_names
from shared.bus.outbox import record_event
from shared.db import Database
from shared.testing.servers import PostgresCluster, RabbitNode

ROOT = Path(__file__).resolve().parents[1]
LABELS = {
    "cortesia": "Cortesia",
    "pika": "raw pika",
    "celery": "Celery",
    "faststream": "FastStream",
}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench.event_throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--events", type=int, default=5000, help="events per throughput run")
    parser.add_argument("--rate", type=float, default=500.0, help="events/s of the latency run")
    parser.add_argument(
        "--latency-seconds", type=float, default=10.0, help="length of the latency run"
    )
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--contenders", default=",".join(NAMES), help=f"comma-separated, from {','.join(NAMES)}"
    )
    parser.add_argument(
        "--latency-contenders",
        default="cortesia",
        help="who gets a latency run (comma-separated; empty for none)",
    )
    parser.add_argument(
        "--repeat",
        type=int,
        default=1,
        help="throughput rounds (contenders interleaved); the median is reported",
    )
    parser.add_argument(
        "--payload-bytes", type=int, default=1024, help="size of the event payload's JSON"
    )
    parser.add_argument("--timeout", type=float, default=180.0, help="bound on one run, in seconds")
    parser.add_argument(
        "--cortesia-log-level",
        default="WARNING",
        help="Cortesia worker's log level (`cortesia worker` itself logs at INFO)",
    )
    parser.add_argument(
        "--relay-idle-poll", type=float, help="override OutboxRelay idle_poll_seconds"
    )
    parser.add_argument("--relay-batch-size", type=int, help="override OutboxRelay batch_size")
    parser.add_argument(
        "--profile-dir", type=Path, help="write cProfile stats of Cortesia's threads here"
    )
    parser.add_argument("--json", type=Path, help="also write every measurement here")
    parser.add_argument(
        "--keep", action="store_true", help="keep the servers' temporary directories"
    )
    args = parser.parse_args(argv)
    args.contenders = [c for c in args.contenders.split(",") if c]
    args.latency_contenders = [c for c in args.latency_contenders.split(",") if c]
    for name in [*args.contenders, *args.latency_contenders]:
        if name not in NAMES:
            parser.error(f"unknown contender {name!r}")
    return args


# -- worker processes ------------------------------------------------------------------------


class WorkerProcess:
    """A ``bench.worker`` subprocess whose stdout lines are read by a thread (waits stay bounded)."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in finish()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=self.log,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.peak_rss = 0.0
        self._sampling = True
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=self._sample_rss, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def _sample_rss(self) -> None:
        while self._sampling and self.process.poll() is None:
            self.peak_rss = max(self.peak_rss, proc_status(self.process.pid).get("VmRSS", 0.0))
            time.sleep(0.2)

    def wait_for(self, prefix: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {prefix} line from the worker after {timeout:.0f}s")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise RuntimeError(
                    f"the worker exited (code {self.process.poll()}) before {prefix}"
                )
            if line.startswith(prefix):
                return line[len(prefix) :].strip()

    def finish(self) -> None:
        self._sampling = False
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)
        self.log.close()


@dataclass
class Bench:
    args: argparse.Namespace
    work: Path
    rabbit: RabbitNode
    postgres: PostgresCluster | None = None
    runs: list[dict[str, Any]] = field(default_factory=list)
    latencies: list[dict[str, Any]] = field(default_factory=list)
    body_bytes: int = 0
    counter: int = 0

    def fresh_database(self, kind: str, label: str) -> Database:
        self.counter += 1
        name = f"bench_{self.counter:02d}_{label}"
        if kind == "sqlite":
            url = f"sqlite:///{self.work / 'db' / name}.sqlite3"
        else:
            assert self.postgres is not None
            url = self.postgres.create_database(name)
        database = Database(url)
        create_schema(database)
        return database

    def worker(
        self, contender: str, kind: str, database: Database, events: int, timeout: float, label: str
    ) -> WorkerProcess:
        command = [
            sys.executable,
            "-m",
            "bench.worker",
            contender,
            "--database-url",
            database.url,
            "--amqp-url",
            self.rabbit.url,
            "--kind",
            kind,
            "--events",
            str(events),
            "--timeout",
            str(timeout),
        ]
        if contender == "cortesia":
            command += ["--log-level", self.args.cortesia_log_level]
            if self.args.relay_idle_poll is not None:
                command += ["--relay-idle-poll", str(self.args.relay_idle_poll)]
            if self.args.relay_batch_size is not None:
                command += ["--relay-batch-size", str(self.args.relay_batch_size)]
            if self.args.profile_dir is not None:
                command += ["--profile-dir", str(self.args.profile_dir.resolve() / f"{label}")]
        return WorkerProcess(command, self.work / "logs" / f"{self.counter:02d}-{label}.log")

    def delete_queues(self, contender: str, kind: str) -> None:
        import pika

        queues, exchanges = queue_names(contender, kind)
        connection = pika.BlockingConnection(pika.URLParameters(self.rabbit.url))
        try:
            for name in queues:
                connection.channel().queue_delete(name)
            for name in exchanges:
                connection.channel().exchange_delete(name)
        finally:
            connection.close()

    # -- throughput ------------------------------------------------------------------------

    def throughput(self, contender: str, kind: str, round_: int) -> dict[str, Any]:
        events = self.args.events
        label = f"{kind}-{contender}-r{round_}"
        database = self.fresh_database(kind, f"{contender}_r{round_}")
        self.body_bytes = preload(database, events, self.args.payload_bytes)
        database.dispose()
        print(f"  {label}: {events} events ...", end="", flush=True)
        worker = self.worker(contender, kind, database, events, self.args.timeout, label)
        try:
            worker.wait_for("READY", 90)
            result = json.loads(worker.wait_for("RESULT", self.args.timeout + 90))
        finally:
            worker.finish()
            self.delete_queues(contender, kind)
        commits = result.pop("commits")
        result.update(
            contender=contender, kind=kind, round=round_, peak_rss_sampled=worker.peak_rss
        )
        checks = result.get("verify", {})
        expected = {
            "side_effects": events,
            "distinct": events,
            "inbox": events,
            "pending_outbox": 0,
        }
        result["correct"] = checks == expected and "error" not in result
        if commits and len(commits) >= events:
            last = max(at for _, at in commits)
            result["seconds"] = last - result["started"]
            result["events_per_second"] = events / result["seconds"]
            result["cpu_ms_per_event"] = 1000 * result["cpu_seconds"] / events
        else:
            result["events_per_second"] = None
        rate = result["events_per_second"]
        print(
            f" {rate:,.0f} events/s" if rate else f" FAILED ({result.get('error', checks)})",
            "" if result["correct"] else f" [check: {checks}]",
            flush=True,
        )
        database.dispose()
        return result

    # -- latency ---------------------------------------------------------------------------

    def latency(self, contender: str, kind: str) -> dict[str, Any]:
        rate, seconds = self.args.rate, self.args.latency_seconds
        events = int(rate * seconds)
        label = f"{kind}-{contender}-latency"
        database = self.fresh_database(kind, f"{contender}_latency")
        print(f"  {label}: {events} events at {rate:.0f}/s ...", end="", flush=True)
        timeout = seconds * 3 + 60
        worker = self.worker(contender, kind, database, events, timeout, label)
        committed: dict[int, float] = {}
        try:
            worker.wait_for("READY", 90)
            time.sleep(1.0)  # the publisher connects
            rss_before = proc_status(worker.process.pid).get("VmRSS")
            started = time.monotonic()
            for seq in range(events):
                delay = started + seq / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif time.monotonic() - started > seconds * 3:
                    break  # far behind: the database cannot take the rate
                sent_at = time.time()
                with database.transaction() as session:
                    record_event(
                        session, PRODUCER, EVENT, payload(seq, self.args.payload_bytes, sent_at)
                    )
                committed[seq] = time.time()
            produced_seconds = time.monotonic() - started
            result = json.loads(worker.wait_for("RESULT", timeout + 90))
        finally:
            worker.finish()
            self.delete_queues(contender, kind)
            database.dispose()
        commits = result.pop("commits")
        lat = sorted(1000 * (at - committed[seq]) for seq, at in commits if seq in committed)
        result.update(
            contender=contender,
            kind=kind,
            target_rate=rate,
            produced=len(committed),
            produced_rate=len(committed) / produced_seconds,
            handled=len(lat),
            p50_ms=percentile(lat, 0.50),
            p90_ms=percentile(lat, 0.90),
            p99_ms=percentile(lat, 0.99),
            max_ms=lat[-1] if lat else None,
            mean_ms=statistics.fmean(lat) if lat else None,
            rss_mb_before=rss_before,
            peak_rss_sampled=worker.peak_rss,
        )
        print(f" p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms", flush=True)
        return result


# -- report ----------------------------------------------------------------------------------


def machine(bench: Bench) -> dict[str, Any]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info: dict[str, Any] = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "rabbitmq": bench.rabbit.ctl("version").strip(),
    }
    for package in (
        "kombu",
        "amqp",
        "pika",
        "celery",
        "faststream",
        "aio-pika",
        "sqlalchemy",
        "psycopg",
    ):
        try:
            info[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            pass
    if bench.postgres is not None:
        from sqlalchemy import text

        admin = Database(bench.postgres.admin_url)
        with admin.engine.connect() as connection:
            info["postgresql"] = connection.execute(text("SHOW server_version")).scalar_one()
        admin.dispose()
    return info


def summarise(bench: Bench) -> dict[str, dict[str, dict[str, Any]]]:
    """Per database and contender: the median run (by events/s) of the rounds."""
    table: dict[str, dict[str, dict[str, Any]]] = {}
    for kind in {run["kind"] for run in bench.runs}:
        for contender in NAMES:
            runs = [r for r in bench.runs if r["kind"] == kind and r["contender"] == contender]
            if not runs:
                continue
            rates = [r["events_per_second"] or 0.0 for r in runs]
            median = sorted(runs, key=lambda r: r["events_per_second"] or 0.0)[len(runs) // 2]
            table.setdefault(kind, {})[contender] = {
                **median,
                "events_per_second": statistics.median(rates),
                "all_rates": rates,
                "correct": all(r["correct"] for r in runs),
            }
    return table


def report(bench: Bench, info: dict[str, Any]) -> str:
    args = bench.args
    out: list[str] = []
    out.append(
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"RabbitMQ {info['rabbitmq']}, SQLite {info['sqlite']}"
        + (f", PostgreSQL {info['postgresql']}" if "postgresql" in info else "")
    )
    out.append(
        f"Throughput: {args.events} events per run, {args.payload_bytes}-byte payload "
        f"({bench.body_bytes}-byte message body), persistent, publisher confirms, "
        f"{args.repeat} round(s), median shown"
    )
    out.append("")
    header = f"{'database':9} {'contender':11} {'events/s':>9} {'CPU ms/event':>13} {'peak RSS MB':>12}  check"
    out.append(header)
    out.append("-" * len(header))
    table = summarise(bench)
    for kind in ("sqlite", "postgres"):
        for contender, run in table.get(kind, {}).items():
            rate = run["events_per_second"]
            cpu = run.get("cpu_ms_per_event")
            rss = max(run.get("rss_mb_peak") or 0.0, run.get("peak_rss_sampled") or 0.0)
            out.append(
                f"{kind:9} {LABELS[contender]:11} {rate:9,.0f} "
                f"{(f'{cpu:.2f}' if cpu else '-'):>13} {rss:12.0f}  "
                f"{'ok' if run['correct'] else 'FAILED: ' + str(run.get('verify'))}"
            )
    out.append("")
    for kind in ("sqlite", "postgres"):
        runs = table.get(kind, {})
        if "cortesia" not in runs:
            continue
        ours = runs["cortesia"]["events_per_second"]
        parts = []
        for other in ("pika", "celery", "faststream"):
            if other in runs and runs[other]["events_per_second"]:
                ratio = ours / runs[other]["events_per_second"]
                note = (
                    f" (target >= 0.8: {'met' if ratio >= 0.8 else 'NOT met'})"
                    if other == "pika"
                    else ""
                )
                parts.append(f"Cortesia / {LABELS[other]} = {ratio:.2f}{note}")
        out.append(f"{kind}: " + "; ".join(parts))
    if bench.latencies:
        out.append("")
        out.append(
            f"Latency at {args.rate:.0f} events/s for {args.latency_seconds:.0f} s "
            "(producer COMMIT -> handler COMMIT), one event per producer transaction"
        )
        header = (
            f"{'database':9} {'contender':11} {'produced/s':>10} {'handled':>8} {'p50 ms':>7} "
            f"{'p90 ms':>7} {'p99 ms':>7} {'max ms':>7} {'peak RSS MB':>12}"
        )
        out.append(header)
        out.append("-" * len(header))
        for run in bench.latencies:
            rss = max(run.get("rss_mb_peak") or 0.0, run.get("peak_rss_sampled") or 0.0)
            out.append(
                f"{run['kind']:9} {LABELS[run['contender']]:11} {run['produced_rate']:10.0f} "
                f"{run['handled']:8} {run['p50_ms']:7.1f} {run['p90_ms']:7.1f} "
                f"{run['p99_ms']:7.1f} {run['max_ms']:7.1f} {rss:12.0f}"
            )
        for run in bench.latencies:
            if run["contender"] == "cortesia":
                out.append(
                    f"{run['kind']}: Cortesia p99 {run['p99_ms']:.1f} ms "
                    f"(target <= 50 ms: {'met' if run['p99_ms'] <= 50 else 'NOT met'})"
                )
    rss_values = [
        max(r.get("rss_mb_peak") or 0.0, r.get("peak_rss_sampled") or 0.0)
        for r in [*bench.runs, *bench.latencies]
        if r["contender"] == "cortesia"
    ]
    if rss_values:
        peak = max(rss_values)
        out.append(
            f"Cortesia worker (relay + consumer) peak RSS: {peak:.0f} MB "
            f"(target <= 150 MB: {'met' if peak <= 150 else 'NOT met'})"
        )
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    kinds = ["sqlite", "postgres"] if args.database == "both" else [args.database]
    work = Path(tempfile.mkdtemp(prefix="cortesia-bench-"))
    (work / "logs").mkdir()
    (work / "db").mkdir()
    pg_root = Path(tempfile.mkdtemp(prefix="cortesia-bench-pg-")) if "postgres" in kinds else None
    bench = Bench(args, work, RabbitNode(work / "rabbit"))
    started = time.monotonic()
    failed = True
    try:
        print(f"starting RabbitMQ{' and PostgreSQL' if pg_root else ''} in {work} ...", flush=True)
        bench.rabbit.start()
        if pg_root is not None:
            bench.postgres = PostgresCluster(pg_root)
            bench.postgres.start()
        info = machine(bench)
        for kind in kinds:
            print(f"throughput on {kind}:", flush=True)
            for round_ in range(1, args.repeat + 1):
                for contender in args.contenders:
                    bench.runs.append(bench.throughput(contender, kind, round_))
        for kind in kinds:
            for contender in args.latency_contenders:
                print(f"latency on {kind}:", flush=True)
                bench.latencies.append(bench.latency(contender, kind))
        text = report(bench, info)
        print()
        print(text)
        print(f"\n(total {time.monotonic() - started:.0f} s)")
        failed = not all(r["correct"] for r in bench.runs)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps(
                    {
                        "machine": info,
                        "arguments": {k: str(v) for k, v in vars(args).items()},
                        "throughput": bench.runs,
                        "latency": bench.latencies,
                    },
                    indent=1,
                    default=str,
                )
            )
    finally:
        if bench.postgres is not None:
            try:
                bench.postgres.stop()
            except Exception as error:
                print(f"stopping PostgreSQL: {error}", file=sys.stderr)
        bench.rabbit.stop()
        if failed and not args.keep:
            print(f"worker logs kept in {work / 'logs'}", file=sys.stderr)
            shutil.rmtree(work / "rabbit", ignore_errors=True)
            shutil.rmtree(work / "db", ignore_errors=True)
        elif not args.keep:
            shutil.rmtree(work, ignore_errors=True)
            if pg_root is not None:
                shutil.rmtree(pg_root, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
