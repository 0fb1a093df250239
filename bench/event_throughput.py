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
pika, Celery 5.7 and FastStream 0.7 (see ``bench/contenders/``). A fifth,
``cortesia-tuned``, is Cortesia with the overrides given on the command line
(``--relay-idle-poll``, ``--relay-batch-size``, ``--experiment`` from
``bench/experiments.py``), to measure a suggested change beside the original.

Then latency runs (Cortesia and raw pika by default): events are written to the
outbox one per transaction at a fixed rate (``--rate``, default 500/s, then
``--extra-rate``, default 100/s) while the worker runs; latency is from the
producer's COMMIT returning to the handler's COMMIT returning, split at the
broker's confirm into a relay stage and a consumer stage. The worker's resident
memory (relay + consumer in one process) is read from /proc/PID/status.

Every wait is bounded; the servers are stopped and their directories removed
at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import contextlib
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

from bench.common import (
    busy_percent,
    cpu_ticks,
    create_schema,
    percentile,
    preload,
    proc_status,
    write_event,
)
from bench.contenders import ALL, NAMES, TUNED, queue_names
from bench.experiments import NAMES as EXPERIMENTS
from shared.db import Database
from shared.testing.servers import PostgresCluster, RabbitNode

ROOT = Path(__file__).resolve().parents[1]
LABELS = {
    "cortesia": "Cortesia",
    "pika": "raw pika",
    "celery": "Celery",
    "faststream": "FastStream",
    TUNED: "Cortesia tuned",
}


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench.event_throughput", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--events", type=int, default=5000, help="events per throughput run")
    parser.add_argument("--rate", type=float, default=500.0, help="events/s of the latency run")
    parser.add_argument(
        "--extra-rate",
        type=float,
        default=100.0,
        help="a second latency run at this lower rate (0: none)",
    )
    parser.add_argument(
        "--latency-seconds", type=float, default=10.0, help="length of the latency run"
    )
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument(
        "--contenders",
        default=",".join(NAMES),
        help=f"comma-separated, from {','.join(ALL)} ({TUNED}: Cortesia with the overrides below)",
    )
    parser.add_argument(
        "--latency-contenders",
        default="cortesia,pika",
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
        help="both Cortesia workers' log level (`cortesia worker` itself logs at INFO)",
    )
    parser.add_argument(
        "--relay-idle-poll", type=float, help=f"{TUNED}: OutboxRelay idle_poll_seconds"
    )
    parser.add_argument("--relay-batch-size", type=int, help=f"{TUNED}: OutboxRelay batch_size")
    parser.add_argument(
        "--experiment",
        action="append",
        default=[],
        choices=EXPERIMENTS,
        help=f"{TUNED}: monkeypatch a candidate optimisation in (bench/experiments.py)",
    )
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
        if name not in ALL:
            parser.error(f"unknown contender {name!r}")
    return args


# -- worker processes ------------------------------------------------------------------------


class WorkerProcess:
    """A ``bench.worker`` subprocess; a thread reads its stdout, so every wait is bounded."""

    def __init__(self, command: list[str], log_path: Path) -> None:
        self.log = open(log_path, "wb")  # noqa: SIM115 - closed in finish()
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdin=subprocess.PIPE,
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

    def expect(self, events: int) -> None:
        """Tell the worker how many events to wait for (fewer if the producer fell behind)."""
        assert self.process.stdin is not None
        try:
            self.process.stdin.write(f"EXPECT {events}\n")
            self.process.stdin.flush()
        except OSError:
            pass  # it exited: wait_for says so

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
        self,
        contender: str,
        kind: str,
        database: Database,
        events: int,
        timeout: float,
        label: str,
        stages: bool = False,
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
        if stages:
            command.append("--stages")
        if contender in ("cortesia", TUNED):
            command += ["--log-level", self.args.cortesia_log_level]
            if self.args.profile_dir is not None:
                command += ["--profile-dir", str(self.args.profile_dir.resolve() / f"{label}")]
        if contender == TUNED:
            if self.args.relay_idle_poll is not None:
                command += ["--relay-idle-poll", str(self.args.relay_idle_poll)]
            if self.args.relay_batch_size is not None:
                command += ["--relay-batch-size", str(self.args.relay_batch_size)]
            for name in self.args.experiment:
                command += ["--experiment", name]
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

    def latency(self, contender: str, kind: str, rate: float) -> dict[str, Any]:
        seconds = self.args.latency_seconds
        events = int(rate * seconds)
        label = f"{kind}-{contender}-latency{rate:.0f}"
        database = self.fresh_database(kind, f"{contender}_latency{rate:.0f}")
        print(f"  {label}: {events} events at {rate:.0f}/s ...", end="", flush=True)
        timeout = seconds * 3 + 60
        worker = self.worker(contender, kind, database, events, timeout, label, stages=True)
        committed: dict[int, float] = {}
        try:
            worker.wait_for("READY", 90)
            time.sleep(1.0)  # the publisher connects
            rss_before = proc_status(worker.process.pid).get("VmRSS")
            started, ticks = time.monotonic(), cpu_ticks()
            for seq in range(events):
                delay = started + seq / rate - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
                elif time.monotonic() - started > seconds * 2:
                    break  # far behind: the database cannot take the rate
                write_event(database, seq, self.args.payload_bytes)
                committed[seq] = time.time()
            produced_seconds = time.monotonic() - started
            busy_while_producing = busy_percent(ticks, cpu_ticks())
            worker.expect(len(committed))
            result = json.loads(worker.wait_for("RESULT", timeout + 90))
            result["machine_busy_percent"] = busy_while_producing
        finally:
            worker.finish()
            self.delete_queues(contender, kind)
            database.dispose()
        commits = result.pop("commits")
        confirmed = dict(result.pop("confirms", []))
        lat = sorted(1000 * (at - committed[seq]) for seq, at in commits if seq in committed)
        # Where the time goes: outbox commit -> broker confirm (relay), confirm -> handler commit.
        relay_stage = sorted(
            1000 * (confirmed[s] - committed[s]) for s in committed if s in confirmed
        )
        consumer_stage = sorted(1000 * (at - confirmed[s]) for s, at in commits if s in confirmed)
        times = sorted(at for _, at in commits)
        result.update(
            contender=contender,
            kind=kind,
            target_rate=rate,
            produced=len(committed),
            produced_rate=len(committed) / produced_seconds,
            handled=len(lat),
            handled_rate=(len(times) - 1) / (times[-1] - times[0]) if len(times) > 1 else None,
            p50_ms=percentile(lat, 0.50),
            p90_ms=percentile(lat, 0.90),
            p99_ms=percentile(lat, 0.99),
            max_ms=lat[-1] if lat else None,
            mean_ms=statistics.fmean(lat) if lat else None,
            relay_p50_ms=percentile(relay_stage, 0.50),
            relay_p99_ms=percentile(relay_stage, 0.99),
            consumer_p50_ms=percentile(consumer_stage, 0.50),
            consumer_p99_ms=percentile(consumer_stage, 0.99),
            rss_mb_before=rss_before,
            peak_rss_sampled=worker.peak_rss,
        )
        print(f" p50 {result['p50_ms']:.1f} ms, p99 {result['p99_ms']:.1f} ms", flush=True)
        return result


# -- report ----------------------------------------------------------------------------------


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


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
        "loadavg_before": _loadavg(),
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
        with contextlib.suppress(metadata.PackageNotFoundError):
            info[package] = metadata.version(package)
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
    for kind in ("sqlite", "postgres"):
        for contender in ALL:
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


def _rss(run: dict[str, Any]) -> float:
    return max(run.get("rss_mb_peak") or 0.0, run.get("peak_rss_sampled") or 0.0)


def _pair(run: dict[str, Any], stage: str) -> str:
    p50, p99 = run.get(f"{stage}_p50_ms"), run.get(f"{stage}_p99_ms")
    if p50 is None or p99 is None or p50 != p50:  # missing or NaN
        return "-"
    return f"{p50:.0f} / {p99:.0f}"


def _percent(run: dict[str, Any]) -> str:
    value = run.get("machine_busy_percent")
    return "-" if value is None else f"{value:.0f}%"


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(bench: Bench, info: dict[str, Any]) -> str:
    args = bench.args
    out: list[str] = []
    out.append(
        f"Machine: {info['nproc']} CPUs ({info['cpu']}), Python {info['python']}, "
        f"RabbitMQ {info['rabbitmq']}, SQLite {info['sqlite']}"
        + (f", PostgreSQL {info['postgresql']}" if "postgresql" in info else "")
        + f"; load average before/after: {info['loadavg_before']} / {info.get('loadavg_after')}"
    )
    if TUNED in [*args.contenders, *args.latency_contenders]:
        tuned = [f"experiments {'+'.join(args.experiment) or 'none'}"]
        if args.relay_idle_poll is not None:
            tuned.append(f"relay idle_poll_seconds={args.relay_idle_poll}")
        if args.relay_batch_size is not None:
            tuned.append(f"relay batch_size={args.relay_batch_size}")
        out.append(f"{LABELS[TUNED]}: {', '.join(tuned)}")
    if bench.runs:
        out.append(
            f"Throughput: {args.events} events per run, {args.payload_bytes}-byte payload "
            f"({bench.body_bytes}-byte message body), persistent, publisher confirms, "
            f"{args.repeat} round(s), median shown"
        )
        out.append(
            "events/s: N / (start of the publisher -> handler's commit of the N-th event); "
            "CPU ms/event: the worker process's own CPU; machine busy: all cores of the machine "
            "(100% = saturated)"
        )
        out.append("")
        header = (
            f"{'database':9} {'contender':15} {'events/s':>9} {'CPU ms/event':>13} "
            f"{'machine busy':>12} {'peak RSS MB':>12}  check"
        )
        out.append(header)
        out.append("-" * len(header))
        table = summarise(bench)
        for kind, runs in table.items():
            for contender, run in runs.items():
                rate = run["events_per_second"]
                cpu = run.get("cpu_ms_per_event")
                spread = (
                    f" (runs: {', '.join(f'{r:.0f}' for r in run['all_rates'])})"
                    if len(run["all_rates"]) > 1
                    else ""
                )
                out.append(
                    f"{kind:9} {LABELS[contender]:15} {rate:9,.0f} "
                    f"{(f'{cpu:.2f}' if cpu else '-'):>13} {_percent(run):>12} {_rss(run):12.0f}  "
                    f"{'ok' if run['correct'] else 'FAILED: ' + str(run.get('verify'))}{spread}"
                )
        out.append("")
        for kind, runs in table.items():
            for ours in ("cortesia", TUNED):
                if ours not in runs:
                    continue
                rate = runs[ours]["events_per_second"]
                parts = []
                for other in ("pika", "celery", "faststream"):
                    if other in runs and runs[other]["events_per_second"]:
                        ratio = rate / runs[other]["events_per_second"]
                        note = (
                            f" (target >= 0.8: {_verdict(ratio >= 0.8)})" if other == "pika" else ""
                        )
                        parts.append(f"{LABELS[ours]} / {LABELS[other]} = {ratio:.2f}{note}")
                if parts:
                    out.append(f"{kind}: " + "; ".join(parts))
    if bench.latencies:
        out.append("")
        out.append(
            f"Latency, {args.latency_seconds:.0f} s per run: producer COMMIT -> handler COMMIT, "
            "one event per producer transaction"
        )
        out.append(
            "(relay: outbox commit -> broker confirm; consumer: confirm -> handler commit; "
            "p50/p99 of each stage; busy: all cores while the events were written)"
        )
        header = (
            f"{'database':9} {'contender':15} {'target/s':>8} {'written/s':>9} "
            f"{'handled/s':>9} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} {'max ms':>8} "
            f"{'relay p50/p99':>14} {'consumer p50/p99':>17} {'busy':>5} {'peak RSS MB':>11}"
        )
        out.append(header)
        out.append("-" * len(header))
        for run in bench.latencies:
            handled = run.get("handled_rate") or 0.0
            out.append(
                f"{run['kind']:9} {LABELS[run['contender']]:15} {run['target_rate']:8.0f} "
                f"{run['produced_rate']:9.0f} {handled:9.0f} {run['p50_ms']:8.1f} "
                f"{run['p90_ms']:8.1f} {run['p99_ms']:8.1f} {run['max_ms']:8.1f} "
                f"{_pair(run, 'relay'):>14} {_pair(run, 'consumer'):>17} {_percent(run):>5} "
                f"{_rss(run):11.0f}"
            )
        for run in bench.latencies:
            if run["contender"] == "cortesia" and run["target_rate"] == args.rate:
                out.append(
                    f"{run['kind']}: Cortesia p99 at {args.rate:.0f}/s {run['p99_ms']:.1f} ms "
                    f"(target <= 50 ms: {_verdict(run['p99_ms'] <= 50)})"
                )
    rss_values = [_rss(r) for r in [*bench.runs, *bench.latencies] if r["contender"] == "cortesia"]
    if rss_values:
        peak = max(rss_values)
        out.append(
            f"Cortesia worker (relay + consumer in one process) peak RSS: {peak:.0f} MB "
            f"(target <= 150 MB: {_verdict(peak <= 150)})"
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
        rates = [args.rate] + ([args.extra_rate] if args.extra_rate > 0 else [])
        for kind in kinds:
            if args.latency_contenders:
                print(f"latency on {kind}:", flush=True)
            for rate in rates:
                for contender in args.latency_contenders:
                    bench.latencies.append(bench.latency(contender, kind, rate))
        info["loadavg_after"] = _loadavg()
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
        if not args.keep:
            if pg_root is not None:
                shutil.rmtree(pg_root, ignore_errors=True)
            if failed:
                print(f"worker logs kept in {work / 'logs'}", file=sys.stderr)
                shutil.rmtree(work / "rabbit", ignore_errors=True)
                shutil.rmtree(work / "db", ignore_errors=True)
            else:
                shutil.rmtree(work, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
