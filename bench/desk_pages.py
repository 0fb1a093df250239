"""The staff desk's pages over many tickets: server time of the queue, a ticket and search,
and requests/s of the queue against a bare Flask page on the same gunicorn settings.

    .venv/bin/python -m bench.desk_pages [--tickets 100000] [--requests 2000] \\
        [--samples 200] [--budget 60] [--concurrency 8] [--workers 2] [--profile DIR] \\
        [--json] [--keep]

A private PostgreSQL cluster (``fsync=on``) gets a migrated tickets database seeded by
``bench.desk_seed``: N tickets over N/20 customers, most closed or resolved and a few
thousand new, open, waiting or on hold (each with its next SLA deadline, which the queue
sorts by), 2-6 messages each in Portuguese, Spanish or English, their history and pauses.

Two servers run in child processes, each a gunicorn with the settings of ``cortesia
serve`` (gthread worker, 4 threads per worker, no access log; ``--workers`` defaults to
serve's 2, which suits this 2-core machine):

- **Cortesia**: the tickets app as ``cortesia serve tickets`` loads it (ProxyFix included);
- **bare Flask**: one route answering a small HTML page.

Both are wrapped in a WSGI middleware that puts the time from the request's arrival in
the app to the start of its response (routing, the session, the view with its queries and
template, the commit) in an ``X-Response-Time`` header, and the worker's pid in
``X-Served-By``. The app's own Prometheus histogram measures about the same span, but in
buckets too coarse for a p95 against these targets.

1. **Server time.** One keep-alive connection from this process asks, in turns, for the
   queue (the default view, one filtered by department and priority, the resolved view),
   a ticket page for a random ticket, the API search (``/api/tickets?q=``) and the queue
   searched (``/desk/?q=``), with words of the corpus. Each is asked ``--samples`` times
   after a warm-up (a kind slow enough to spend ``--budget`` seconds stops at 30);
   p50/p95/p99 of the server time are reported, and the client's time as an upper bound.
   Every answer must be 200 and show what it should: the queue its count of tickets, the
   ticket page its subject, the search API the tickets it found.
2. **Load.** A load generator in a child process (threads, each with an http.client
   keep-alive connection, ``--concurrency`` of them) sends ``--requests`` requests to the
   queue, and the same to the bare page; requests/s of each and their ratio are reported.
   The generator shares the 2 cores with the servers and the database.

``--profile DIR`` also runs each kind of request in a child process of its own under
cProfile, through the Flask test client, writes ``DIR/<kind>.prof``, and prints the
functions and SQL statements that took the most time, with EXPLAIN ANALYZE of the
statement that took the most in all. The cluster and its directory are removed at the
end (``--keep`` keeps them).
"""

from __future__ import annotations

import argparse
import cProfile
import http.client
import io
import itertools
import json
import os
import platform
import pstats
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from wsgiref.types import StartResponse, WSGIApplication, WSGIEnvironment

from markupsafe import escape
from sqlalchemy import text

import services.tickets as tickets_service
from bench import desk_corpus as corpus
from bench import desk_seed
from bench.common import percentile, proc_status
from services.tickets import desk_pages
from shared.db import Database
from shared.testing.servers import PostgresCluster, free_port, wait_for_port
from shared.web.auth import SESSION_KEY

ROOT = Path(__file__).resolve().parents[1]
COOKIE_NAME = "cortesia_session"
"""The session cookie's name outside production (``shared.web.app``)."""
QUEUE_PAGE_SIZE = 50
WARM_UP = 5
"""Untimed requests of each kind first: templates compiled, connections in the pool."""
MIN_SAMPLES = 30
PROFILED_REQUESTS = 12
PAGE_HEADERS = {"Accept": "text/html", "Accept-Language": "en"}
"""English pages, whatever the desk's default language: the checks read them."""
TARGETS_MS = {"queue": 50.0, "ticket": 30.0, "search": 100.0}
"""The issue's p95 targets: the queue page, the ticket page, search."""
BARE_PAGE = (
    "<!doctype html><html lang=en><head><meta charset=utf-8><title>Hello</title></head>"
    "<body><h1>Hello</h1><p>A page from a bare Flask app.</p></body></html>"
)


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="bench.desk_pages", description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--requests", type=int, default=2000, help="requests of the load run, per server"
    )
    parser.add_argument(
        "--samples", type=int, default=200, help="server-time samples per kind of request"
    )
    parser.add_argument(
        "--budget",
        type=float,
        default=60,
        help="seconds of server time per kind, after which a slow kind stops at 30 samples",
    )
    parser.add_argument("--concurrency", type=int, default=8, help="load generator connections")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per server")
    parser.add_argument("--profile", type=Path, metavar="DIR", help="also profile each kind")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    parser.add_argument("--keep", action="store_true", help="keep the cluster's directory")
    parser.add_argument("--serve", choices=("tickets", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--load", metavar="PATH", help=argparse.SUPPRESS)
    parser.add_argument("--expect", default="", help=argparse.SUPPRESS)
    parser.add_argument("--cookie", default="", help=argparse.SUPPRESS)
    parser.add_argument("--profile-child", type=Path, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


# -- the servers (each in a child process) -----------------------------------------------


def gunicorn_settings(bind: str, workers: int) -> dict[str, Any]:
    """What ``cortesia serve`` sets (cortesia/cli.py), with the address and workers given."""
    return {
        "bind": bind,
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "accesslog": None,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"),
    }


class ServerTiming:
    """Adds how long the app took to start its response, and which worker answered."""

    def __init__(self, app: WSGIApplication) -> None:
        self.app = app
        self.served_by = str(os.getpid())

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        started = time.perf_counter()

        def timed(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            elapsed = (time.perf_counter() - started) * 1000
            headers.append(("X-Response-Time", f"{elapsed:.3f}"))
            headers.append(("X-Served-By", self.served_by))
            return start_response(status, headers, exc_info)

        return self.app(environ, timed)


def tickets_app() -> WSGIApplication:
    """The tickets app exactly as ``cortesia serve tickets`` loads it in each worker."""
    from werkzeug.middleware.proxy_fix import ProxyFix

    from shared.config import load_settings

    settings = load_settings("tickets")
    app = tickets_service.create_app(settings, Database(settings.database_url))
    app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
    return ServerTiming(app)


def bare_app() -> WSGIApplication:
    from flask import Flask

    app = Flask("bare")

    @app.get("/")
    def page() -> str:
        return BARE_PAGE

    return ServerTiming(app)


def serve(which: str, port: int, workers: int) -> None:
    from gunicorn.app.base import BaseApplication

    class BenchApplication(BaseApplication):
        def load_config(self) -> None:
            for key, value in gunicorn_settings(f"127.0.0.1:{port}", workers).items():
                self.cfg.set(key, value)

        def load(self) -> WSGIApplication:
            # Runs in each worker after the fork, as serve's does.
            return tickets_app() if which == "tickets" else bare_app()

    BenchApplication().run()


class Server:
    """A gunicorn in a child process, on a free port, stopped at the end."""

    def __init__(self, which: str, workers: int, env: dict[str, str], log: Path) -> None:
        self.which = which
        self.port = free_port()
        command = [sys.executable, "-m", "bench.desk_pages", "--serve", which]
        command += ["--port", str(self.port), "--workers", str(workers)]
        self._log = log.open("w")
        self.process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT
        )
        self.log = log

    def wait_ready(self, path: str) -> None:
        wait_for_port(self.port, 60)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"{self.which} server exited:\n{self.log.read_text()[-3000:]}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                connection.request("GET", path)
                if connection.getresponse().status == 200:
                    connection.close()
                    return
                connection.close()
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"{self.which} server not ready:\n{self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


# -- the client -------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: str
    server_ms: float
    client_ms: float
    served_by: str


class Client:
    """One keep-alive connection, signed in with the staff cookie."""

    def __init__(self, port: int, cookie: str) -> None:
        self.port = port
        self.headers = dict(PAGE_HEADERS)
        if cookie:
            self.headers["Cookie"] = f"{COOKIE_NAME}={cookie}"
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def get(self, path: str) -> Answer:
        for attempt in (1, 2):
            try:
                started = time.perf_counter()
                self.connection.request("GET", path, headers=self.headers)
                response = self.connection.getresponse()
                body = response.read().decode()
                elapsed = (time.perf_counter() - started) * 1000
                return Answer(
                    response.status,
                    body,
                    float(response.getheader("X-Response-Time") or "nan"),
                    elapsed,
                    response.getheader("X-Served-By") or "",
                )
            except (http.client.RemoteDisconnected, ConnectionError):
                # The server closed an idle keep-alive connection: open another, once.
                self.connection.close()
                self.connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def close(self) -> None:
        self.connection.close()


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": percentile(values, 0.50),
        "p95": percentile(values, 0.95),
        "p99": percentile(values, 0.99),
        "max": max(values, default=float("nan")),
    }


def load(port: int, path: str, requests: int, concurrency: int, cookie: str, expect: str) -> None:
    """The load generator's child: ``requests`` GETs of ``path`` over ``concurrency``
    keep-alive connections; prints what it saw as JSON."""
    counter = itertools.count()
    server: list[float] = []
    client: list[float] = []
    statuses: Counter[int] = Counter()
    workers: Counter[str] = Counter()
    wrong: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(concurrency + 1)

    def run() -> None:
        connection = Client(port, cookie)
        start.wait()
        while next(counter) < requests:
            answer = connection.get(path)
            with lock:
                statuses[answer.status] += 1
                server.append(answer.server_ms)
                client.append(answer.client_ms)
                workers[answer.served_by] += 1
                if answer.status != 200 or expect not in answer.body:
                    wrong.append(answer.body[:200])
        connection.close()

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    start.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - started
    print(
        json.dumps(
            {
                "path": path,
                "requests": len(server),
                "concurrency": concurrency,
                "wall_s": wall,
                "rps": len(server) / wall,
                "statuses": dict(statuses),
                "wrong": len(wrong),
                "first_wrong": wrong[:1],
                "server_ms": summary(server),
                "client_ms": summary(client),
                "workers": dict(workers),
                "generator_cpu_s": time.process_time() - cpu,
            }
        )
    )


def run_load(
    port: int, path: str, requests: int, concurrency: int, cookie: str, expect: str
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.desk_pages", "--load", path, "--port", str(port)]
    command += ["--requests", str(requests), "--concurrency", str(concurrency)]
    command += ["--cookie", cookie, "--expect", expect]
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=1800, check=False
    )
    if result.returncode != 0:
        raise SystemExit(f"the load generator failed:\n{result.stderr[-4000:]}")
    outcome: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    if outcome["wrong"]:
        raise SystemExit(f"{outcome['wrong']} wrong answers from {path}: {outcome['first_wrong']}")
    return outcome


# -- what is asked, and what each answer must show ------------------------------------------


@dataclass
class Kind:
    """One kind of request: its paths (taken in turn) and what each answer must contain."""

    name: str
    target: str
    """Which of TARGETS_MS applies."""
    paths: list[tuple[str, str]]
    """(path, a text the answer must contain)."""
    server: list[float] = field(default_factory=list)
    client: list[float] = field(default_factory=list)
    hits: dict[str, int] = field(default_factory=dict)

    def path(self, turn: int) -> tuple[str, str]:
        return self.paths[turn % len(self.paths)]


def _count_text(total: int, counted_ahead: bool = False) -> str:
    """What the queue's first page says of ``total`` tickets (the resolved view counts
    only a few pages ahead)."""
    counted_to = (1 + desk_pages.COUNT_AHEAD) * desk_pages.PAGE_SIZE
    if counted_ahead and total > counted_to:
        return f"More than {counted_to:,} tickets"
    return f"{total} ticket{'' if total == 1 else 's'}"


def kinds(url: str, samples: int) -> list[Kind]:
    """The requests to time, with the answers the seeded database says they must give."""
    from urllib.parse import quote

    rng = random.Random(desk_seed.SEED + 1)
    database = Database(url)
    with database.engine.connect() as connection:

        def count(where: str) -> int:
            return int(
                connection.execute(text(f"SELECT count(*) FROM tickets WHERE {where}")).scalar_one()
            )

        opened = "status IN ('new', 'open', 'waiting', 'on_hold')"
        open_total = count(opened)
        filtered_total = count(f"{opened} AND department = 'billing' AND priority = 'high'")
        resolved_total = count("status IN ('resolved', 'closed')")
        largest = int(connection.execute(text("SELECT max(id) FROM tickets")).scalar_one())
        chosen = [rng.randint(1, largest) for _ in range(samples)]
        subjects: dict[int, str] = dict(
            connection.execute(
                text("SELECT id, subject FROM tickets WHERE id = ANY(:ids)"), {"ids": chosen}
            ).all()
        )
    database.dispose()
    words = list(corpus.SEARCH_WORDS)
    return [
        Kind("queue (open, the default)", "queue", [("/desk/", _count_text(open_total))]),
        Kind(
            "queue, billing + high",
            "queue",
            [("/desk/?view=open&department=billing&priority=high", _count_text(filtered_total))],
        ),
        Kind(
            "queue, resolved view",
            "queue",
            [("/desk/?view=resolved", _count_text(resolved_total, counted_ahead=True))],
        ),
        Kind(
            "ticket page",
            "ticket",
            [(f"/desk/tickets/{i}", f"<h1>#{i} {escape(subjects[i])}</h1>") for i in chosen],
        ),
        Kind(
            "search API ?q=", "search", [(f"/api/tickets?q={quote(w)}", '"total"') for w in words]
        ),
        Kind(
            "queue search ?q=",
            "search",
            [(f"/desk/?q={quote(w)}", "<h1>Queue</h1>") for w in words],
        ),
    ]


def _check(kind: Kind, path: str, expect: str, answer: Answer) -> None:
    if answer.status != 200 or expect not in answer.body:
        raise SystemExit(
            f"{kind.name}: GET {path} answered {answer.status} without {expect!r}:\n"
            f"{answer.body[:1500]}"
        )
    if path.startswith("/api/tickets?q="):
        found = json.loads(answer.body)
        if found["total"] <= 0 or len(found["tickets"]) != min(found["total"], QUEUE_PAGE_SIZE):
            raise SystemExit(f"{kind.name}: GET {path} found {found['total']} tickets")
        kind.hits[path] = int(found["total"])


def time_requests(
    port: int, cookie: str, all_kinds: list[Kind], samples: int, budget_s: float
) -> None:
    """Each kind ``samples`` times, in turns, one request at a time on one connection; a
    kind that has had ``budget_s`` seconds of server time stops at ``MIN_SAMPLES``."""
    client = Client(port, cookie)
    for turn in range(-WARM_UP, samples):
        for kind in all_kinds:
            if len(kind.server) >= MIN_SAMPLES and sum(kind.server) / 1000 > budget_s:
                continue
            path, expect = kind.path(turn)
            answer = client.get(path)
            _check(kind, path, expect, answer)
            if turn >= 0:
                kind.server.append(answer.server_ms)
                kind.client.append(answer.client_ms)
    client.close()


# -- the signed-in staff member ------------------------------------------------------------


def staff_cookie(env: dict[str, str]) -> str:
    """The shared session cookie of a signed-in agent, signed as the tickets app signs it
    (the claims ``tests/support/staff.py`` puts in the session)."""
    from flask.sessions import SecureCookieSessionInterface

    from shared.config import load_settings

    settings = load_settings("tickets", env=env)
    app = tickets_service.create_app(settings, Database(settings.database_url))
    interface = app.session_interface
    assert isinstance(interface, SecureCookieSessionInterface)
    serializer = interface.get_signing_serializer(app)
    assert serializer is not None
    number = desk_seed.first_agent()
    identity = {
        "id": number,
        "name": desk_seed.STAFF[number - 1][1],
        "email": desk_seed.staff_email(number),
        "role": "agent",
    }
    return str(serializer.dumps({SESSION_KEY: identity, "_user_id": str(number)}))


# -- profiling (a child process per kind) ---------------------------------------------------


def profile_child(arguments: argparse.Namespace) -> None:
    """Each kind's paths through the Flask test client under cProfile, with the SQL."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    from shared.config import load_settings

    plan = json.loads(Path(arguments.profile_child, "plan.json").read_text())
    settings = load_settings("tickets")
    database = Database(settings.database_url)
    app = tickets_service.create_app(settings, database)
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, arguments.cookie)
    statements: list[tuple[float, str, Any]] = []

    @event.listens_for(Engine, "before_cursor_execute")
    def before(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        conn.info.setdefault("started", []).append(time.perf_counter())

    @event.listens_for(Engine, "after_cursor_execute")
    def after(conn: Any, cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        elapsed = (time.perf_counter() - conn.info["started"].pop()) * 1000
        statements.append((elapsed, statement, parameters))

    for path in plan["paths"][:WARM_UP]:
        client.get(path, headers=PAGE_HEADERS)  # untimed
    statements.clear()
    profiler = cProfile.Profile()
    started = time.perf_counter()
    profiler.enable()
    for path in plan["paths"]:
        client.get(path, headers=PAGE_HEADERS)
    profiler.disable()
    each = (time.perf_counter() - started) * 1000 / len(plan["paths"])
    profiler.dump_stats(Path(arguments.profile_child, f"{plan['slug']}.prof"))
    report = io.StringIO()
    stats = pstats.Stats(profiler, stream=report)
    stats.sort_stats("cumulative").print_stats(18)
    by_statement: dict[str, list[tuple[float, Any]]] = {}
    for elapsed, statement, parameters in statements:
        by_statement.setdefault(statement, []).append((elapsed, parameters))
    ranked = sorted(by_statement.items(), key=lambda item: -sum(t for t, _ in item[1]))
    count = len(plan["paths"])
    sql_ms = sum(elapsed for elapsed, _, _ in statements) / count
    lines = [
        f"== {plan['name']}: {each:.1f} ms a request under the profiler, {sql_ms:.1f} ms of it "
        f"in SQL ({len(statements) / count:.1f} statements)"
    ]
    for statement, runs in ranked[:5]:
        share = sum(t for t, _ in runs) / count
        lines.append(f"  {share:7.2f} ms/request  {' '.join(statement.split())[:160]}")
    heaviest = ranked[0] if ranked else None
    if heaviest is not None and heaviest[0].lstrip().upper().startswith("SELECT"):
        # The statement that took the most time in all, with its slowest parameters.
        statement, runs = heaviest
        parameters = max(runs, key=lambda run: run[0])[1]
        with database.engine.connect() as connection:
            explained = connection.exec_driver_sql(
                "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
            ).scalars()
            lines.append("  EXPLAIN ANALYZE of the statement that took the most time:")
            lines.extend(f"    {row}" for row in explained)
    lines.append(report.getvalue())
    print("\n".join(lines))


def run_profiles(directory: Path, env: dict[str, str], cookie: str, all_kinds: list[Kind]) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    for kind in all_kinds:
        slug = "".join(c if c.isalnum() else "-" for c in kind.name).strip("-")
        distinct = [path for path, _ in kind.paths][:PROFILED_REQUESTS]
        paths = (distinct * PROFILED_REQUESTS)[:PROFILED_REQUESTS]
        work = Path(tempfile.mkdtemp(dir=directory))
        (work / "plan.json").write_text(
            json.dumps({"name": kind.name, "slug": slug, "paths": paths})
        )
        command = [sys.executable, "-m", "bench.desk_pages", "--profile-child", str(work)]
        result = subprocess.run(
            [*command, "--cookie", cookie], cwd=ROOT, env=env, capture_output=True, text=True,
            timeout=1800, check=False,
        )  # fmt: skip
        if result.returncode != 0:
            raise SystemExit(f"profiling {kind.name} failed:\n{result.stderr[-4000:]}")
        shutil.move(work / f"{slug}.prof", directory / f"{slug}.prof")
        shutil.rmtree(work, ignore_errors=True)
        print(result.stdout, flush=True)


# -- the parent --------------------------------------------------------------------------


def machine(url: str) -> dict[str, Any]:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    database = Database(url)
    with database.engine.connect() as connection:
        version = str(connection.execute(text("SHOW server_version")).scalar_one())
    database.dispose()
    return {
        "cpus": os.cpu_count(),
        "cpu": model,
        "python": platform.python_version(),
        "postgresql": version,
        "load_average": os.getloadavg(),
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def measure(arguments: argparse.Namespace, root: Path) -> dict[str, Any]:
    cluster = PostgresCluster(root / "pg")
    cluster.start()
    servers: list[Server] = []
    try:
        url = cluster.create_database("desk")
        started = time.perf_counter()
        written = desk_seed.seed(url, arguments.tickets)
        seeding = time.perf_counter() - started
        print(f"seeded {written} in {seeding:.0f} s", flush=True)
        env = {
            **os.environ,
            "CORTESIA_DATA": str(root / "data"),
            "CORTESIA_TICKETS_DATABASE_URL": url,
        }
        # Embedded mode's settings: the session secret is the data directory's, which the
        # cookie below and both servers share.
        for name in (
            "CORTESIA_ENV",
            "CORTESIA_SECRET_KEY",
            "CORTESIA_AMQP_URL",
            "CORTESIA_TICKETS_AMQP_URL",
        ):
            env.pop(name, None)
        cookie = staff_cookie(env)
        ours = Server("tickets", arguments.workers, env, root / "tickets.log")
        servers.append(ours)
        bare = Server("bare", arguments.workers, env, root / "bare.log")
        servers.append(bare)
        ours.wait_ready("/healthz")
        bare.wait_ready("/")
        before = machine(url)
        all_kinds = kinds(url, arguments.samples)
        time_requests(ours.port, cookie, all_kinds, arguments.samples, arguments.budget)
        print("server times measured", flush=True)
        queue = all_kinds[0]
        expect_queue = queue.paths[0][1]
        # Warm every worker of both servers (templates compiled, pools filled), untimed.
        run_load(ours.port, "/desk/", 200, arguments.concurrency, cookie, expect_queue)
        run_load(bare.port, "/", 200, arguments.concurrency, "", "<h1>Hello</h1>")
        loaded = {
            "cortesia": run_load(
                ours.port, "/desk/", arguments.requests, arguments.concurrency, cookie, expect_queue
            ),
            "bare": run_load(
                bare.port, "/", arguments.requests, arguments.concurrency, "", "<h1>Hello</h1>"
            ),
        }
        loaded["ratio"] = loaded["cortesia"]["rps"] / loaded["bare"]["rps"]
        for server in servers:
            server.stop()
        if arguments.profile is not None:
            run_profiles(arguments.profile.resolve(), env, cookie, all_kinds)
        after = machine(url)
        return {
            "machine": {**before, "load_average_after": after["load_average"]},
            "tickets": arguments.tickets,
            "seeded": written,
            "seed_s": seeding,
            "workers": arguments.workers,
            "samples": arguments.samples,
            "kinds": [
                {
                    "name": kind.name,
                    "target": kind.target,
                    "target_p95_ms": TARGETS_MS[kind.target],
                    "n": len(kind.server),
                    "server_ms": summary(kind.server),
                    "client_ms": summary(kind.client),
                    "hits": kind.hits,
                }
                for kind in all_kinds
            ],
            "load": loaded,
            "parent_peak_rss_mib": proc_status().get("VmHWM", float("nan")),
        }
    finally:
        for server in servers:
            server.stop()
        cluster.stop()


def report(results: dict[str, Any], arguments: argparse.Namespace) -> None:
    machine_ = results["machine"]
    print()
    print(
        f"Staff desk over {results['tickets']} tickets ({results['seeded']['messages']} messages), "
        f"gunicorn gthread {results['workers']} workers x 4 threads; "
        f"{machine_['cpus']} CPUs ({machine_['cpu']}), Python {machine_['python']}, "
        f"PostgreSQL {machine_['postgresql']}; load average before/after: "
        f"{' '.join(f'{v:.2f}' for v in machine_['load_average'])} / "
        f"{' '.join(f'{v:.2f}' for v in machine_['load_average_after'])}"
    )
    print("Server time (X-Response-Time, one request at a time):")
    print("| request | n | server p50 ms | p95 ms | p99 ms | client p50 ms | client p95 ms "
          "| target p95 ms | met |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for kind in results["kinds"]:
        server, client = kind["server_ms"], kind["client_ms"]
        met = "yes" if server["p95"] <= kind["target_p95_ms"] else "**no**"
        print(
            f"| {kind['name']} | {kind['n']} | {server['p50']:.1f} | {server['p95']:.1f} | "
            f"{server['p99']:.1f} | "
            f"{client['p50']:.1f} | {client['p95']:.1f} | {kind['target_p95_ms']:.0f} | {met} |"
        )
    loaded = results["load"]
    print()
    print(f"Load: {loaded['cortesia']['requests']} requests over "
          f"{loaded['cortesia']['concurrency']} keep-alive connections")  # fmt: skip
    print("| server | requests/s | server p50 ms | server p95 ms | client p50 ms | client p95 ms "
          "| requests per worker |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---:|---|")
    for label, key in (("Cortesia queue `/desk/`", "cortesia"), ("bare Flask `/`", "bare")):
        row = loaded[key]
        spread = ", ".join(str(n) for n in sorted(row["workers"].values(), reverse=True))
        print(
            f"| {label} | {row['rps']:.0f} | {row['server_ms']['p50']:.1f} | "
            f"{row['server_ms']['p95']:.1f} | {row['client_ms']['p50']:.1f} | "
            f"{row['client_ms']['p95']:.1f} | {spread} |"
        )
    print(f"Cortesia queue / bare Flask = {loaded['ratio']:.3f}")
    if arguments.json:
        print(json.dumps(results, default=str))


def main(argv: list[str] | None = None) -> None:
    arguments = parse(argv)
    if arguments.serve:
        serve(arguments.serve, arguments.port, arguments.workers)
        return
    if arguments.load:
        load(arguments.port, arguments.load, arguments.requests, arguments.concurrency,
             arguments.cookie, arguments.expect)  # fmt: skip
        return
    if arguments.profile_child:
        profile_child(arguments)
        return
    # Its own directory: the cluster's is handed to the postgres user.
    root = Path(tempfile.mkdtemp(prefix="cortesia-bench-desk-"))
    os.chmod(root, 0o755)
    try:
        results = measure(arguments, root)
    finally:
        if arguments.keep:
            print(f"kept {root}")
        else:
            shutil.rmtree(root, ignore_errors=True)
    report(results, arguments)


if __name__ == "__main__":
    main()
