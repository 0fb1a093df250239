"""The daily billing run over many active subscriptions, against raw SQL writing the same rows.

    .venv/bin/python -m bench.billing_run [--subscriptions 100000] \\
        [--database sqlite|postgres|both] [--batch-size 500] [--json]

For each database a seeded copy is made (customers with a contact, five plans
of all three cycles, one active subscription each, every period ending within
the renewal lead window of the run's day), so the run has the heaviest day it
can have: one renewal invoice per subscription, checked, numbered and issued,
with its timeline entry and its ``billing.invoice_issued.v1`` event. Then, each
in a child process of its own on a fresh copy of the same seed:

- **raw SQL**: the baseline. It reads the subscriptions in the same batches and
  writes the same rows (invoice, line, timeline entry, outbox event, the
  invoice counter, the day's run record) with the driver's ``executemany``,
  one transaction per batch; it checks nothing.
- **Cortesia**: ``run_billing`` as the worker and ``cortesia billing run`` call
  it, with the default policy, at 11:00 on a business day.

Both are checked afterwards: one issued invoice per subscription, invoice
numbers 1..N without a gap, as many lines, timeline entries and outbox events.
Cortesia then runs the same day again (idempotent: it must create nothing),
and that re-run's time is reported too. Each child reports its wall time and
its peak resident memory (VmHWM).

PostgreSQL runs in a private cluster on a loopback port in a temporary
directory; SQLite files live in a temporary directory. Both are removed at the
end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import create_engine, func, insert, select, text
from sqlalchemy.engine import Engine, make_url

import services.billing as billing
from bench.common import proc_status
from services.billing.catalog import period_after
from services.billing.changes import INVOICE_SEQUENCE
from services.billing.models import (
    BillingRun,
    Contact,
    Customer,
    Invoice,
    InvoiceLine,
    Plan,
    Subscription,
    TimelineEntry,
)
from shared.bus.tables import outbox
from shared.db import Database
from shared.migrations import upgrade
from shared.testing.servers import PostgresCluster

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("America/Sao_Paulo")
RUN_DAY = date(2026, 12, 1)
"""A Tuesday, no holiday: the run is at 11:00 company time, inside business hours."""
RUN_AT = datetime(2026, 12, 1, 11, 0, tzinfo=ZONE).astimezone(UTC)
PLANS = (
    ("basic-m", "Hospedagem Básica", "monthly", 2990),
    ("pro-m", "Hospedagem Pro", "monthly", 5990),
    ("business-m", "Hospedagem Empresarial", "monthly", 14990),
    ("pro-q", "Hospedagem Pro trimestral", "quarterly", 16990),
    ("pro-y", "Hospedagem Pro anual", "yearly", 59900),
)
LANGUAGES = ("pt-BR", "pt-BR", "pt-BR", "es", "en")
SEED_BATCH = 5000


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.billing_run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscriptions", type=int, default=100_000)
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--batch-size", type=int, default=500, help="rows per transaction")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--keep", action="store_true", help="keep the databases' directory")
    parser.add_argument("--child", choices=("raw", "cortesia"), help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the seed ---------------------------------------------------------------------------


def seed(url: str, subscriptions: int) -> None:
    """Migrate ``url`` and fill it with ``subscriptions`` customers, one subscription each."""
    upgrade(billing.MIGRATIONS, url)
    database = Database(url)
    created = RUN_AT - timedelta(days=400)
    with database.engine.begin() as connection:
        connection.execute(
            insert(Plan),
            [
                {"code": c, "name": n, "cycle": cy, "price_minor": p, "currency": "BRL"}
                for c, n, cy, p in PLANS
            ],
        )
        plans = {row.id: row.cycle for row in connection.execute(select(Plan.id, Plan.cycle))}
    plan_ids = sorted(plans)
    for start in range(1, subscriptions + 1, SEED_BATCH):
        numbers = range(start, min(subscriptions, start + SEED_BATCH - 1) + 1)
        with database.engine.begin() as connection:
            connection.execute(
                insert(Customer),
                [
                    {
                        "id": n,
                        "name": f"Cliente {n:06d} Ltda",
                        "email": f"financeiro{n}@cliente{n}.example",
                        "language": LANGUAGES[n % len(LANGUAGES)],
                        "timezone": "America/Sao_Paulo",
                        "currency": "BRL",
                        "managed": n % 10 == 0,
                        "created_at": created,
                    }
                    for n in numbers
                ],
            )
            connection.execute(
                insert(Contact),
                [
                    {
                        "customer_id": n,
                        "name": f"Contato {n}",
                        "email": f"contato{n}@cliente{n}.example",
                        "phone": None,
                        "receives_invoices": True,
                    }
                    for n in numbers
                ],
            )
            rows = []
            for n in numbers:
                plan_id = plan_ids[n % len(plan_ids)]
                # Every period ends within the 14-day lead: each subscription renews today.
                end = RUN_DAY + timedelta(days=1 + n % 14)
                rows.append(
                    {
                        "id": n,
                        "customer_id": n,
                        "plan_id": plan_id,
                        "status": "active",
                        "current_period_start": _period_before(end, plans[plan_id]),
                        "current_period_end": end,
                        "cancel_at_period_end": False,
                        "created_at": created,
                    }
                )
            connection.execute(insert(Subscription), rows)
    if database.is_postgres:
        autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
        with autocommit.connect() as connection:
            # Explicit ids were inserted: move the sequences past them.
            for table in ("customers", "contacts", "subscriptions"):
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
            # A live database has its planner statistics; a freshly loaded one needs them.
            connection.execute(text("ANALYZE"))
    database.dispose()


def _period_before(end: date, cycle: str) -> date:
    start = end
    while period_after(start, cycle) > end:
        start -= timedelta(days=1)
    return start


# -- the contenders (each in a child process) ------------------------------------------


def run_cortesia(url: str, batch_size: int) -> dict[str, Any]:
    from services.billing.run import run_billing

    database = Database(url)
    database.ping()
    started = time.perf_counter()
    report = run_billing(database, RUN_DAY, now=RUN_AT, batch_size=batch_size)
    wall = time.perf_counter() - started
    started = time.perf_counter()
    again = run_billing(database, RUN_DAY, now=RUN_AT, batch_size=batch_size)
    rerun = time.perf_counter() - started
    return {
        "wall_s": wall,
        "rerun_s": rerun,
        "counts": dict(report.counts),
        "rerun_counts": dict(again.counts),
    }


def run_raw(url: str, batch_size: int) -> dict[str, Any]:
    """The same rows as the run writes for a renewal day, with plain SQL and executemany."""
    engine = Database(url).engine
    postgres = engine.dialect.name == "postgresql"
    mark = "%s" if postgres else "?"
    started = time.perf_counter()
    connection = engine.raw_connection()
    cursor = connection.cursor()
    number = 0
    next_id = {
        table: _max_id(cursor, table) + 1 for table in ("invoices", "invoice_lines", "timeline")
    }
    last_subscription = 0
    horizon = RUN_DAY + timedelta(days=14)
    while True:
        if not postgres:
            cursor.execute("BEGIN IMMEDIATE")
        cursor.execute(
            "SELECT s.id, s.customer_id, s.current_period_end, p.name, p.cycle, p.price_minor, "
            "p.currency, c.name, c.email, c.language, c.timezone "
            "FROM subscriptions s JOIN plans p ON p.id = s.plan_id "
            "JOIN customers c ON c.id = s.customer_id "
            f"WHERE s.status = 'active' AND s.current_period_end <= {mark} AND s.id > {mark} "
            f"ORDER BY s.id LIMIT {mark}",
            (horizon, last_subscription, batch_size),
        )
        batch = cursor.fetchall()
        invoices, lines, notes, events = [], [], [], []
        for sub_id, customer_id, end, plan_name, cycle, price, currency, *customer in batch:
            end = end if isinstance(end, date) else date.fromisoformat(end)
            number += 1
            invoice_id = next_id["invoices"]
            next_id["invoices"] += 1
            event_id = str(uuid.uuid4())
            invoices.append(
                (invoice_id, number, "renewal", customer_id, sub_id, end,
                 period_after(end, cycle), currency, price, 0, "issued", end, RUN_AT, RUN_AT,
                 event_id)
            )  # fmt: skip
            lines.append(
                (next_id["invoice_lines"], invoice_id, f"{plan_name}, {end} a {end}", 1, price,
                 price)
            )  # fmt: skip
            next_id["invoice_lines"] += 1
            notes.append(
                (next_id["timeline"], customer_id, RUN_AT, "invoice_issued",
                 f"Issued invoice #{number}: the renewal of {plan_name}, due {end}.", True)
            )  # fmt: skip
            next_id["timeline"] += 1
            body = _event_body(
                event_id, customer_id, customer, invoice_id, number, sub_id, price, currency, end
            )
            events.append((event_id, "billing.invoice_issued.v1", body, RUN_AT))
        placeholders = lambda n: ", ".join([mark] * n)  # noqa: E731
        cursor.executemany(
            "INSERT INTO invoices (id, number, kind, customer_id, subscription_id, period_start, "
            "period_end, currency, total_minor, paid_minor, status, due_date, created_at, "
            f"issued_at, issued_event_id) VALUES ({placeholders(15)})",
            invoices,
        )
        cursor.executemany(
            "INSERT INTO invoice_lines (id, invoice_id, description, quantity, unit_minor, "
            f"amount_minor) VALUES ({placeholders(6)})",
            lines,
        )
        cursor.executemany(
            "INSERT INTO timeline (id, customer_id, at, kind, message, automatic) "
            f"VALUES ({placeholders(6)})",
            notes,
        )
        cursor.executemany(
            f"INSERT INTO outbox (event_id, event_type, body, created_at) "
            f"VALUES ({placeholders(4)})",
            events,
        )
        if batch:
            cursor.execute(
                f"UPDATE sequences SET value = {mark} WHERE name = {mark}",
                (number, INVOICE_SEQUENCE),
            )
            if cursor.rowcount == 0:
                cursor.execute(
                    f"INSERT INTO sequences (name, value) VALUES ({mark}, {mark})",
                    (INVOICE_SEQUENCE, number),
                )
        connection.commit()
        if len(batch) < batch_size:
            break
        last_subscription = batch[-1][0]
    if not postgres:
        cursor.execute("BEGIN IMMEDIATE")
    cursor.execute(
        f"INSERT INTO billing_runs (run_date, completed_at) VALUES ({mark}, {mark})",
        (RUN_DAY, RUN_AT),
    )
    connection.commit()
    connection.close()
    return {"wall_s": time.perf_counter() - started, "counts": {"invoices_issued": number}}


def _max_id(cursor: Any, table: str) -> int:
    cursor.execute(f"SELECT coalesce(max(id), 0) FROM {table}")
    return int(cursor.fetchone()[0])


def _event_body(
    event_id: str,
    customer_id: int,
    customer: list[Any],
    invoice_id: int,
    number: int,
    subscription_id: int,
    price: int,
    currency: str,
    due: date,
) -> str:
    name, email, language, timezone = customer
    payload = {
        "customer_id": customer_id,
        "customer_name": name,
        "email": email,
        "language": language,
        "timezone": timezone,
        "invoice_id": invoice_id,
        "invoice_number": number,
        "subscription_id": subscription_id,
        "total_minor": price,
        "balance_minor": price,
        "currency": currency,
        "due_date": due.isoformat(),
    }
    return json.dumps(
        {
            "event_id": event_id,
            "event_type": "billing.invoice_issued.v1",
            "occurred_at": RUN_AT.isoformat(),
            "producer": "billing",
            "correlation_id": str(uuid.uuid4()),
            "causation_id": None,
            "payload": payload,
        },
        separators=(",", ":"),
    )


def child(arguments: argparse.Namespace) -> None:
    assert arguments.url
    runner = run_raw if arguments.child == "raw" else run_cortesia
    result = runner(arguments.url, arguments.batch_size)
    result["peak_rss_mib"] = proc_status().get("VmHWM", float("nan"))
    print(json.dumps(result))


# -- the parent: seed, copy, run, verify -----------------------------------------------


def verify(url: str, expected: int) -> dict[str, int | None]:
    """What the database holds after a run; raises if it is not one issued invoice each."""
    database = Database(url)
    with database.engine.connect() as connection:
        counts = {
            "invoices": connection.execute(
                select(func.count()).where(Invoice.status == "issued")
            ).scalar_one(),
            "first_number": connection.execute(select(func.min(Invoice.number))).scalar_one(),
            "last_number": connection.execute(select(func.max(Invoice.number))).scalar_one(),
            "lines": connection.execute(select(func.count()).select_from(InvoiceLine)).scalar_one(),
            "timeline": connection.execute(
                select(func.count()).select_from(TimelineEntry)
            ).scalar_one(),
            "events": connection.execute(select(func.count()).select_from(outbox)).scalar_one(),
            "runs": connection.execute(select(func.count()).select_from(BillingRun)).scalar_one(),
        }
    database.dispose()
    wanted = {
        "invoices": expected,
        "first_number": 1,
        "last_number": expected,
        "lines": expected,
        "timeline": expected,
        "events": expected,
        "runs": 1,
    }
    if counts != wanted:
        raise SystemExit(f"the run left {counts}, expected {wanted}")
    return counts


class Copies:
    """Fresh copies of one seeded database, for one contender each."""

    def __init__(self, kind: str, workdir: Path, cluster: PostgresCluster | None) -> None:
        self.kind = kind
        self.workdir = workdir
        self.cluster = cluster
        self.seed_url = self._url("seed")

    def _url(self, name: str) -> str:
        if self.kind == "sqlite":
            return f"sqlite:///{self.workdir / f'{name}.sqlite3'}"
        assert self.cluster is not None
        return self.cluster.create_database(f"billing_{name}")

    def copy(self, name: str) -> str:
        if self.kind == "sqlite":
            target = self.workdir / f"{name}.sqlite3"
            shutil.copyfile(self.workdir / "seed.sqlite3", target)
            return f"sqlite:///{target}"
        assert self.cluster is not None
        with _admin(self.cluster) as admin, admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "billing_{name}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "billing_{name}" TEMPLATE "billing_seed"'))
        return self.cluster.url(f"billing_{name}")


@contextmanager
def _admin(cluster: PostgresCluster) -> Iterator[Engine]:
    url = make_url(cluster.admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        yield engine
    finally:
        engine.dispose()


def run_child(contender: str, url: str, batch_size: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.billing_run", "--child", contender, "--url", url]
    command += ["--batch-size", str(batch_size)]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{contender} failed:\n{result.stderr[-4000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def measure(kind: str, arguments: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    cluster = None
    if kind == "postgres":
        # Its own directory: the cluster's is handed to the postgres user.
        cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="cortesia-bench-billing-pg-")))
        cluster.start()
    try:
        copies = Copies(kind, workdir, cluster)
        started = time.perf_counter()
        seed(copies.seed_url, arguments.subscriptions)
        print(f"{kind}: seeded {arguments.subscriptions} subscriptions in "
              f"{time.perf_counter() - started:.1f} s", flush=True)  # fmt: skip
        results: dict[str, Any] = {"database": kind}
        for contender in ("raw", "cortesia"):
            url = copies.copy(contender)
            results[contender] = run_child(contender, url, arguments.batch_size)
            results[contender]["verified"] = verify(url, arguments.subscriptions)
            print(f"{kind}: {contender} {results[contender]['wall_s']:.1f} s", flush=True)
        rerun_counts = results["cortesia"]["rerun_counts"]
        if any(name.startswith("invoices") for name in rerun_counts):
            raise SystemExit(f"the re-run of the same day created something: {rerun_counts}")
        results["ratio"] = results["cortesia"]["wall_s"] / results["raw"]["wall_s"]
        return results
    finally:
        if cluster is not None:
            cluster.stop()
            if not arguments.keep:
                shutil.rmtree(cluster.root, ignore_errors=True)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "load_average": os.getloadavg(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def report(results: list[dict[str, Any]], arguments: argparse.Namespace) -> None:
    print()
    print(f"Billing run over {arguments.subscriptions} active subscriptions, "
          f"batches of {arguments.batch_size}, {machine()}")  # fmt: skip
    print("| database | raw SQL s | Cortesia s | ratio | same day again s "
          "| raw peak RSS MiB | Cortesia peak RSS MiB |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|")
    for row in results:
        raw, ours = row["raw"], row["cortesia"]
        print(
            f"| {row['database']} | {raw['wall_s']:.1f} | {ours['wall_s']:.1f} | "
            f"{row['ratio']:.2f} | {ours['rerun_s']:.1f} | {raw['peak_rss_mib']:.0f} | "
            f"{ours['peak_rss_mib']:.0f} |"
        )
    if arguments.json:
        print(json.dumps({"machine": machine(), "results": results}, default=str))


def main(argv: list[str] | None = None) -> None:
    arguments = parse(argv)
    if arguments.child:
        child(arguments)
        return
    kinds = ["sqlite", "postgres"] if arguments.database == "both" else [arguments.database]
    workdir = Path(tempfile.mkdtemp(prefix="cortesia-bench-billing-"))
    try:
        results = [measure(kind, arguments, workdir) for kind in kinds]
    finally:
        if arguments.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report(results, arguments)


if __name__ == "__main__":
    main()
