"""Notify's email delivery: invoice messages rendered and sent to a local SMTP sink, against
plain smtplib sending the same messages; and the release of messages held for the opening.

    .venv/bin/python -m bench.notify_delivery [--messages 5000] [--held 10000] \\
        [--database sqlite|postgres|both] [--json] [--keep]

Every message goes to one SMTP sink (a minimal server in this process, on a
loopback port, that counts what it accepts and parses nothing), so the sink
costs both contenders the same. For each database, each step in a child
process of its own:

1. **Throughput.** A freshly migrated notify database gets N
   ``billing.invoice_issued.v1`` events for N distinct customers (pt-BR, es and
   en mixed) at 11:30 on a business day, so nothing is held:

   - **Cortesia**: the events, as they arrive from the bus (the envelopes' JSON),
     go through notify's subscriber as its consumer takes them: ``process_batch``
     in batches of the consumer's size (envelopes decoded and validated, inbox
     records, ``plan_events``, which renders; one transaction per batch, the
     batch's events planned together); then ``Dispatcher.drain()`` sends
     everything through a real ``SmtpChannel``. Planning and delivery are timed
     apart and together.
   - **smtplib**: the baseline. The messages Cortesia rendered are read back
     from the notifications table and built once with ``EmailMessage`` (same
     headers, text, html and transfer encoding), untimed; then one
     ``smtplib.SMTP`` connection sends the N of them with ``send_message``.

   The headline ratio is Cortesia's render+deliver rate over smtplib's rate.

2. **Held-message release.** H events at 03:00 (São Paulo) on a Wednesday are
   planned the same way (this is the seed, not the measure), so their
   H notifications are ``held`` until 10:00. A dispatcher whose clock reads
   09:59:59 must send nothing; then its clock is moved to 10:00 and ``drain()``
   is timed until all H are sent.

Both are checked afterwards: the sink received exactly N (H) messages, one per
customer, for each contender; every notification is ``sent`` and has its
``notify.notification_sent.v1`` event in the outbox. Each child reports its
peak resident memory (VmHWM).

PostgreSQL runs in a private cluster (``fsync=on``) on a loopback port in a
temporary directory; SQLite files live in a temporary directory. Both are
removed at the end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import gc
import json
import logging
import os
import platform
import shutil
import smtplib
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select, text

import services.notify as notify
from bench.common import cpu_seconds, proc_status
from services.notify.catalogue import load_catalogue
from services.notify.channels import SmtpChannel, SmtpSettings
from services.notify.config import NotifyConfig
from services.notify.dispatcher import Dispatcher, message_id
from services.notify.models import Notification
from services.notify.rendering import render, sample_context
from services.notify.subscribers import messages
from shared.bus.consumer import BATCH_SIZE
from shared.bus.subscriber import Outcome, process_batch
from shared.bus.tables import outbox
from shared.db import Database
from shared.events import Envelope
from shared.logging import configure_logging
from shared.migrations import upgrade
from shared.testing.servers import PostgresCluster, free_port

ROOT = Path(__file__).resolve().parents[1]
ZONE = ZoneInfo("America/Sao_Paulo")
EVENT = "billing.invoice_issued.v1"
SENT_EVENT = "notify.notification_sent.v1"
CONFIG = NotifyConfig(public_url="https://cortesia.example", support_email="oi@cortesia.example")

BUSINESS_HOURS = datetime(2026, 12, 1, 11, 30, tzinfo=ZONE)
"""A Tuesday, no holiday, inside the morning window: invoice messages go at once."""
NIGHT = datetime(2026, 12, 2, 3, 0, tzinfo=ZONE)
"""A Wednesday before dawn: invoice messages wait for the opening."""
OPENING = datetime(2026, 12, 2, 10, 0, tzinfo=ZONE)

CUSTOMERS = (
    ("pt-BR", "BRL"),
    ("pt-BR", "BRL"),
    ("pt-BR", "BRL"),
    ("es", "EUR"),
    ("en", "USD"),
)
"""(language, currency) by customer number modulo 5: three in five write in Portuguese."""
MAX_MESSAGE = 32 * 2**20


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench.notify_delivery", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--messages", type=int, default=5000, help="invoice messages (throughput)")
    parser.add_argument("--held", type=int, default=10_000, help="held messages released at once")
    parser.add_argument("--database", choices=("sqlite", "postgres", "both"), default="sqlite")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--keep", action="store_true", help="keep the databases' directory")
    parser.add_argument(
        "--profile",
        type=Path,
        metavar="DIR",
        help="run each step under cProfile and write DIR/<database>-<step>.prof",
    )
    parser.add_argument(
        "--child", choices=("cortesia", "smtplib", "seed-held", "release"), help=argparse.SUPPRESS
    )
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--profile-to", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the sink -------------------------------------------------------------------------


class CountingSink:
    """An SMTP server that accepts every message and keeps only counts.

    It speaks what ``smtplib`` needs (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP,
    QUIT) on an asyncio loop in a thread of its own. A message's data is read in
    one ``readuntil`` and not parsed: the sink should cost as little as it can,
    the same for both contenders.
    """

    def __init__(self) -> None:
        self.port = free_port()
        self._lock = threading.Lock()
        self._messages = 0
        self._bytes = 0
        self._recipients: set[str] = set()
        self._loop = asyncio.new_event_loop()
        self._thread: threading.Thread | None = None
        self._server: asyncio.Server | None = None

    def start(self) -> CountingSink:
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                asyncio.start_server(self._session, "127.0.0.1", self.port, limit=MAX_MESSAGE)
            )
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, name="smtp-sink", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"the SMTP sink did not start on port {self.port}")
        return self

    def stop(self) -> None:
        if self._thread is None:
            return

        async def close() -> None:
            if self._server is not None:
                self._server.close()
            sessions = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for session in sessions:
                session.cancel()
            await asyncio.gather(*sessions, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(timeout=10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._thread = None
        self._loop.close()

    def take(self) -> dict[str, int]:
        """What arrived since the last ``take``, and start counting afresh."""
        with self._lock:
            counts = {
                "messages": self._messages,
                "distinct_recipients": len(self._recipients),
                "bytes": self._bytes,
            }
            self._messages, self._bytes = 0, 0
            self._recipients = set()
        return counts

    async def _session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 sink.bench ESMTP\r\n")
        recipients: list[str] = []
        try:
            while line := await reader.readline():
                verb = line[:4].upper()
                if verb == b"EHLO":
                    writer.write(b"250-sink.bench\r\n250-8BITMIME\r\n250 SIZE 33554432\r\n")
                elif verb == b"HELO":
                    writer.write(b"250 sink.bench\r\n")
                elif verb == b"MAIL" or verb == b"RSET":
                    recipients = []
                    writer.write(b"250 OK\r\n")
                elif verb == b"RCPT":
                    address = line.partition(b"<")[2].partition(b">")[0]
                    recipients.append(address.decode("utf-8", "replace").lower())
                    writer.write(b"250 OK\r\n")
                elif verb == b"DATA":
                    writer.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                    await writer.drain()
                    data = await reader.readuntil(b"\r\n.\r\n")
                    self._received(recipients, len(data))
                    recipients = []
                    writer.write(b"250 2.0.0 OK: queued\r\n")
                elif verb == b"NOOP":
                    writer.write(b"250 OK\r\n")
                elif verb == b"QUIT":
                    writer.write(b"221 Bye\r\n")
                    await writer.drain()
                    break
                else:
                    writer.write(b"502 5.5.2 Command not recognised\r\n")
                await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            writer.close()

    def _received(self, recipients: list[str], size: int) -> None:
        with self._lock:
            self._messages += 1
            self._bytes += size
            self._recipients.update(recipients)


# -- the events -------------------------------------------------------------------------


def invoice_payload(number: int) -> dict[str, Any]:
    """Customer ``number``'s invoice event, in its JSON form (as it travels on the bus)."""
    language, currency = CUSTOMERS[number % len(CUSTOMERS)]
    total = 2990 + 1000 * (number % 13)
    # One in seven has credit with the company: the templates' other branch.
    balance = total - 1500 if number % 7 == 0 else total
    return {
        "customer_id": number,
        "customer_name": f"Cliente {number:06d} Ltda",
        "email": f"financeiro{number}@cliente{number}.example",
        "language": language,
        "timezone": "America/Sao_Paulo",
        "invoice_id": number,
        "invoice_number": 2026000 + number,
        "subscription_id": number,
        "total_minor": total,
        "balance_minor": balance,
        "currency": currency,
        "due_date": (date(2026, 12, 10) + timedelta(days=number % 14)).isoformat(),
    }


def events(count: int, moment: datetime) -> list[bytes]:
    """The invoice events as billing publishes them at ``moment``: the envelopes' JSON."""
    return [
        Envelope(EVENT, "billing", invoice_payload(number), occurred_at=moment).to_json()
        for number in range(1, count + 1)
    ]


def handle(database: Database, bodies: list[bytes]) -> None:
    """Notify's subscriber, as its consumer runs it: batch after batch, each committed."""
    for start in range(0, len(bodies), BATCH_SIZE):
        results = process_batch(database, messages, bodies[start : start + BATCH_SIZE])
        outcomes = {result.outcome for result in results}
        if outcomes != {Outcome.HANDLED}:
            raise SystemExit(f"notify's subscriber did not handle every event: {results}")


def warm_up() -> None:
    """Load the catalogue and compile the invoice's templates, as a running service has."""
    kind = load_catalogue().kind("invoice_issued")
    for language in kind.languages:
        render(kind, "email", (language,), sample_context(kind, recipient_language=language))


def smtp_settings(port: int) -> SmtpSettings:
    return SmtpSettings(
        host="127.0.0.1",
        port=port,
        security="none",
        from_address=CONFIG.support_email,
        from_name=CONFIG.company_name,
        timeout=30,
    )


def fixed(moment: datetime) -> Any:
    return lambda: moment.astimezone(UTC)


# -- the children -------------------------------------------------------------------------


def run_cortesia(url: str, port: int, count: int) -> dict[str, Any]:
    database = Database(url)
    database.ping()
    incoming = events(count, BUSINESS_HOURS.astimezone(UTC))
    warm_up()
    started = time.perf_counter()
    handle(database, incoming)
    planned = time.perf_counter()
    with database.transaction() as session:
        statuses = _statuses(session)
    if statuses != {"queued": count}:
        raise SystemExit(f"planning inside business hours left {statuses}, not {count} queued")
    channel = SmtpChannel(smtp_settings(port))
    dispatcher = Dispatcher(database, {"email": channel}, CONFIG, clock=fixed(BUSINESS_HOURS))
    resumed = time.perf_counter()
    sent = dispatcher.drain()
    channel.close()
    delivered = time.perf_counter()
    database.dispose()
    return {
        "plan_s": planned - started,
        "deliver_s": delivered - resumed,
        "wall_s": (planned - started) + (delivered - resumed),
        "attempted": sent,
    }


def run_smtplib(url: str, port: int) -> dict[str, Any]:
    """The same messages as Cortesia sent, already rendered, over one plain connection."""
    database = Database(url)
    with database.transaction() as session:
        rows = session.execute(
            select(Notification).where(Notification.status == "sent").order_by(Notification.id)
        ).scalars()
        mails = [(prebuilt(row, CONFIG), str(row.address)) for row in rows]
    database.dispose()
    # The prebuilt messages stay alive to the end: the collector need not walk them.
    gc.collect()
    gc.freeze()
    sender = CONFIG.support_email
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as connection:
        for mail, recipient in mails:
            connection.send_message(mail, from_addr=sender, to_addrs=[recipient])
    return {"wall_s": time.perf_counter() - started, "attempted": len(mails)}


def prebuilt(row: Notification, config: NotifyConfig) -> EmailMessage:
    mail = EmailMessage()
    mail["From"] = f"{config.company_name} <{config.support_email}>"
    mail["To"] = f"{row.recipient_name} <{row.address}>"
    mail["Subject"] = row.subject or ""
    mail["Date"] = format_datetime(datetime.now(UTC))
    mail["Message-ID"] = message_id(row, config.support_email.rpartition("@")[2])
    for name, value in json.loads(row.headers or "{}").items():
        mail[name] = value
    # Quoted-printable for accented text, as the channel sends it: the same bytes on the wire.
    body = row.body_text or ""
    mail.set_content(body, charset="utf-8", cte=None if body.isascii() else "quoted-printable")
    if row.body_html is not None:
        html = row.body_html
        cte = None if html.isascii() else "quoted-printable"
        mail.add_alternative(html, subtype="html", charset="utf-8", cte=cte)
    return mail


def seed_held(url: str, count: int) -> dict[str, Any]:
    database = Database(url)
    database.ping()
    incoming = events(count, NIGHT.astimezone(UTC))
    warm_up()
    started = time.perf_counter()
    handle(database, incoming)
    seeded = time.perf_counter() - started
    with database.transaction() as session:
        statuses = _statuses(session)
        moments = session.execute(
            select(func.min(Notification.not_before), func.max(Notification.not_before))
        ).one()
    if statuses != {"held": count}:
        raise SystemExit(f"planning at night left {statuses}, not {count} held")
    opening = {_aware(moment) for moment in moments}
    if opening != {OPENING.astimezone(UTC)}:
        raise SystemExit(f"held until {sorted(opening)}, not the opening at {OPENING}")
    if database.is_postgres:
        # A live database has its planner statistics; a freshly loaded one needs them.
        with database.engine.connect() as connection:
            connection.execute(text("ANALYZE"))
            connection.commit()
    database.dispose()
    return {"seed_s": seeded}


def run_release(url: str, port: int) -> dict[str, Any]:
    database = Database(url)
    database.ping()
    warm_up()
    channel = SmtpChannel(smtp_settings(port))
    dispatcher = Dispatcher(
        database, {"email": channel}, CONFIG, clock=fixed(OPENING - timedelta(seconds=1))
    )
    early = dispatcher.drain()
    if early:
        raise SystemExit(f"{early} held messages went out before the opening")
    dispatcher.clock = fixed(OPENING)
    started = time.perf_counter()
    sent = dispatcher.drain()
    channel.close()
    wall = time.perf_counter() - started
    database.dispose()
    return {"wall_s": wall, "attempted": sent}


def _statuses(session: Any) -> dict[str, int]:
    rows = session.execute(
        select(Notification.status, func.count()).group_by(Notification.status)
    ).all()
    return {status: int(count) for status, count in rows}


def _aware(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive (in UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def child(arguments: argparse.Namespace) -> None:
    configure_logging(logging.WARNING)
    url, port = arguments.url, arguments.port
    assert url
    profiler = cProfile.Profile() if arguments.profile_to else None
    if profiler is not None:
        profiler.enable()
    if arguments.child == "cortesia":
        result = run_cortesia(url, port, arguments.messages)
    elif arguments.child == "smtplib":
        result = run_smtplib(url, port)
    elif arguments.child == "seed-held":
        result = seed_held(url, arguments.held)
    else:
        result = run_release(url, port)
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(arguments.profile_to)
    result["peak_rss_mib"] = proc_status().get("VmHWM", float("nan"))
    print(json.dumps(result))


# -- the parent: databases, children, checks ------------------------------------------------


def run_child(
    step: str, kind: str, url: str, arguments: argparse.Namespace, port: int
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.notify_delivery", "--child", step, "--url", url]
    command += ["--port", str(port), "--messages", str(arguments.messages)]
    command += ["--held", str(arguments.held)]
    if arguments.profile is not None:
        arguments.profile.mkdir(parents=True, exist_ok=True)
        command += ["--profile-to", str(arguments.profile.resolve() / f"{kind}-{step}.prof")]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=3600, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"{step} failed:\n{result.stderr[-4000:]}{result.stdout[-2000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def verify(url: str, expected: int) -> dict[str, Any]:
    """Every notification sent, each with its ``notification_sent`` event; raises otherwise."""
    database = Database(url)
    with database.transaction() as session:
        statuses = _statuses(session)
        ids = set(session.execute(select(Notification.id)).scalars())
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == SENT_EVENT)
        ).scalars()
        reported = [json.loads(body)["payload"]["notification_id"] for body in bodies]
    database.dispose()
    if statuses != {"sent": expected}:
        raise SystemExit(f"the notifications are {statuses}, expected {expected} sent")
    if len(reported) != expected or set(reported) != ids:
        raise SystemExit(
            f"{len(reported)} {SENT_EVENT} events for {len(set(reported))} notifications, "
            f"expected one for each of {expected}"
        )
    return {"sent": expected, "sent_events": len(reported)}


def received(
    sink: CountingSink, contender: str, expected: int, cpu_before: float
) -> dict[str, Any]:
    """What the sink got from one child; raises unless it is ``expected`` messages to as
    many recipients. While a child runs this process does nothing but the sink."""
    cpu = cpu_seconds() - cpu_before
    counts: dict[str, Any] = dict(sink.take())
    wanted = {"messages": expected, "distinct_recipients": expected}
    if {key: counts[key] for key in wanted} != wanted:
        raise SystemExit(f"the sink got {counts} from {contender}, expected {wanted}")
    counts["cpu_ms_per_message"] = 1000 * cpu / expected
    return counts


def fresh_database(kind: str, name: str, workdir: Path, cluster: PostgresCluster | None) -> str:
    if kind == "sqlite":
        url = f"sqlite:///{workdir / f'{name}.sqlite3'}"
    else:
        assert cluster is not None
        url = cluster.create_database(f"notify_{name}")
    upgrade(notify.MIGRATIONS, url)
    return url


def measure(
    kind: str, arguments: argparse.Namespace, workdir: Path, sink: CountingSink
) -> dict[str, Any]:
    cluster = None
    if kind == "postgres":
        # Its own directory: the cluster's is handed to the postgres user.
        cluster = PostgresCluster(Path(tempfile.mkdtemp(prefix="cortesia-bench-notify-pg-")))
        cluster.start()
    try:
        results: dict[str, Any] = {"database": kind}
        if cluster is not None:
            results["postgresql"] = _server_version(cluster)
        count = arguments.messages
        url = fresh_database(kind, "throughput", workdir, cluster)
        sink.take()
        cpu = cpu_seconds()
        ours = run_child("cortesia", kind, url, arguments, sink.port)
        ours["sink"] = received(sink, "Cortesia", count, cpu)
        ours["verified"] = verify(url, count)
        cpu = cpu_seconds()
        theirs = run_child("smtplib", kind, url, arguments, sink.port)
        theirs["sink"] = received(sink, "smtplib", count, cpu)
        results["throughput"] = {
            "messages": count,
            "cortesia": ours,
            "smtplib": theirs,
            "rates": {
                "render": count / ours["plan_s"],
                "deliver": count / ours["deliver_s"],
                "render_deliver": count / ours["wall_s"],
                "smtplib": count / theirs["wall_s"],
            },
            "ratio": theirs["wall_s"] / ours["wall_s"],
            "deliver_ratio": theirs["wall_s"] / ours["deliver_s"],
        }
        print(f"{kind}: throughput, Cortesia {count / ours['wall_s']:.0f}/s "
              f"(render {ours['plan_s']:.1f} s, deliver {ours['deliver_s']:.1f} s), "
              f"smtplib {count / theirs['wall_s']:.0f}/s", flush=True)  # fmt: skip
        held = arguments.held
        url = fresh_database(kind, "release", workdir, cluster)
        seed = run_child("seed-held", kind, url, arguments, sink.port)
        cpu = cpu_seconds()
        release = run_child("release", kind, url, arguments, sink.port)
        release["sink"] = received(sink, "the release", held, cpu)
        release["verified"] = verify(url, held)
        results["release"] = {
            "held": held,
            "seed_s": seed["seed_s"],
            **release,
            "rate": held / release["wall_s"],
        }
        print(f"{kind}: release of {held} held in {release['wall_s']:.1f} s", flush=True)
        return results
    finally:
        if cluster is not None:
            cluster.stop()
            if not arguments.keep:
                shutil.rmtree(cluster.root, ignore_errors=True)


def _server_version(cluster: PostgresCluster) -> str:
    admin = Database(cluster.admin_url)
    with admin.engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar_one())
    admin.dispose()
    return version


def machine() -> dict[str, Any]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    info: dict[str, Any] = {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory_gb": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "load_average": os.getloadavg(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    for package in ("sqlalchemy", "psycopg", "jinja2", "babel", "marshmallow"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            info[package] = metadata.version(package)
    return info


def report(results: list[dict[str, Any]], arguments: argparse.Namespace) -> None:
    print()
    print(f"Notify delivery, {machine()}")
    print(f"Throughput: {arguments.messages} invoice messages, one SMTP connection to a "
          "counting sink; rates in messages/s")  # fmt: skip
    print("| database | render (subscriber) | deliver (drain) | render + deliver | smtplib "
          "| ratio | deliver alone / smtplib | Cortesia peak RSS MiB | bytes per message "
          "| sink CPU ms per message |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        run = row["throughput"]
        rates, ours = run["rates"], run["cortesia"]
        size = ours["sink"]["bytes"] / run["messages"]
        print(
            f"| {row['database']} | {rates['render']:.0f} | {rates['deliver']:.0f} | "
            f"{rates['render_deliver']:.0f} | {rates['smtplib']:.0f} | {run['ratio']:.2f} | "
            f"{run['deliver_ratio']:.2f} | {ours['peak_rss_mib']:.0f} | {size:.0f} | "
            f"{run['smtplib']['sink']['cpu_ms_per_message']:.2f} |"
        )
    print()
    print(f"Release: {arguments.held} messages held until 10:00, drained at the opening")
    print("| database | release s | messages/s | peak RSS MiB | seed (planning at night) s |")
    print("|---|---:|---:|---:|---:|")
    for row in results:
        release = row["release"]
        print(
            f"| {row['database']} | {release['wall_s']:.1f} | {release['rate']:.0f} | "
            f"{release['peak_rss_mib']:.0f} | {release['seed_s']:.1f} |"
        )
    if arguments.json:
        print(json.dumps({"machine": machine(), "results": results}, default=str))


def main(argv: list[str] | None = None) -> None:
    arguments = parse(argv)
    if arguments.child:
        child(arguments)
        return
    kinds = ["sqlite", "postgres"] if arguments.database == "both" else [arguments.database]
    workdir = Path(tempfile.mkdtemp(prefix="cortesia-bench-notify-"))
    sink = CountingSink().start()
    try:
        results = [measure(kind, arguments, workdir, sink) for kind in kinds]
    finally:
        sink.stop()
        if arguments.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    report(results, arguments)


if __name__ == "__main__":
    main()
