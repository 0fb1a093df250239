"""The whole platform as its users meet it: started as a separate program, reached over
HTTP through one origin, its mail caught by a real SMTP server, its events watched by an
observer that shares nothing with it, and its clock moved for every process at once.

Two ways to run it, one interface:

- ``Distributed``: ``cortesia up``: eight processes (each service's gunicorn web and
  worker) on RabbitMQ and PostgreSQL behind the gateway. Events are watched with pika on
  an exclusive queue bound to everything on the events exchange.
- ``Embedded``: ``cortesia run``: one process, the embedded bus on SQLite. There is no
  wire, so the observer reads each service's outbox file, where every event is kept
  after it was delivered.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pika
import requests

from shared import clock
from shared.bus.topology import EVENTS_EXCHANGE
from shared.config import SERVICES
from shared.testing.servers import free_port
from shared.testing.smtp import MailSink

STARTUP_SECONDS = 180
OWNER = {"name": "Helena Prado", "email": "helena@cortesia.example", "password": "a long way home"}
WEBHOOK_SECRET = "e2e-gateway-shared-secret"
"""What the payment gateway and billing share to sign and check the payment webhook."""

Envelope = dict[str, Any]


# -- events ------------------------------------------------------------------------------


class Observer:
    """Every event the platform published, in the order seen."""

    def __init__(self) -> None:
        self.seen: list[Envelope] = []
        self._lock = threading.Lock()

    def poll(self) -> None:
        """Fetch what arrived since the last look."""

    def close(self) -> None:
        """Release what the observer holds."""

    def wait_for(
        self,
        event_type: str,
        where: Callable[[dict[str, Any]], bool] = lambda payload: True,
        timeout: float = 60,
    ) -> Envelope:
        """The first event of ``event_type`` whose payload satisfies ``where``."""
        deadline = time.monotonic() + timeout
        while True:
            self.poll()
            with self._lock:
                for envelope in self.seen:
                    if envelope["event_type"] == event_type and where(envelope["payload"]):
                        return envelope
            if time.monotonic() > deadline:
                types = sorted({e["event_type"] for e in self.seen})
                raise AssertionError(f"no {event_type} within {timeout:.0f} s; seen: {types}")
            time.sleep(0.2)

    def of_type(self, event_type: str) -> list[Envelope]:
        self.poll()
        with self._lock:
            return [e for e in self.seen if e["event_type"] == event_type]

    def _add(self, envelope: Envelope) -> None:
        with self._lock:
            self.seen.append(envelope)


class WireObserver(Observer):
    """An independent pika client on an exclusive queue bound to every event."""

    def __init__(self, amqp_url: str) -> None:
        super().__init__()
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(EVENTS_EXCHANGE, "topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        self.channel.queue_bind(self.queue, EVENTS_EXCHANGE, routing_key="#")

    def poll(self) -> None:
        while True:
            method, _properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is None:
                self.connection.process_data_events(0)
                return
            self._add(json.loads(body))

    def close(self) -> None:
        self.connection.close()


class OutboxObserver(Observer):
    """Reads the services' outboxes (read-only) for rows added after it was made."""

    def __init__(self, data_dir: Path) -> None:
        super().__init__()
        self.files = [data_dir / f"{service}.sqlite3" for service in SERVICES]
        self.after = {path: self._last_id(path) for path in self.files}

    def _connect(self, path: Path) -> sqlite3.Connection:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)

    def _last_id(self, path: Path) -> int:
        with self._connect(path) as connection:
            return int(connection.execute("SELECT coalesce(max(id), 0) FROM outbox").fetchone()[0])

    def poll(self) -> None:
        fresh: list[tuple[str, int, str]] = []
        for path in self.files:
            with self._connect(path) as connection:
                rows = connection.execute(
                    "SELECT id, body, created_at FROM outbox WHERE id > ? ORDER BY id",
                    (self.after[path],),
                ).fetchall()
            for row_id, body, created_at in rows:
                fresh.append((str(created_at), int(row_id), body))
                self.after[path] = int(row_id)
        for _, _, body in sorted(fresh):
            self._add(json.loads(body))


# -- mail --------------------------------------------------------------------------------


def mails_to(sink: MailSink, address: str) -> list[EmailMessage]:
    return [m for m in sink.messages if address.lower() in str(m["To"]).lower()]


def wait_for_mail(
    sink: MailSink,
    address: str,
    where: Callable[[EmailMessage], bool] = lambda message: True,
    timeout: float = 60,
) -> EmailMessage:
    deadline = time.monotonic() + timeout
    while True:
        for message in mails_to(sink, address):
            if where(message):
                return message
        if time.monotonic() > deadline:
            subjects = [str(m["Subject"]) for m in mails_to(sink, address)]
            raise AssertionError(f"no such mail to {address} within {timeout:.0f} s: {subjects}")
        time.sleep(0.2)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None, f"no text part in {message['Subject']!r}"
    return str(part.get_content())


def portal_link_after(platform: Platform, email: str, already: int) -> str:
    """The path of the portal's sign-in link in the first mail to ``email`` past the
    ``already`` it had: other mail to the customer (billing's, say) may come meanwhile."""
    sign_in_link = re.compile(r"https?://\S+/portal/sign-in/\S+")

    def links() -> list[str]:
        fresh = mails_to(platform.sink, email)[already:]
        return [found.group(0) for m in fresh if (found := sign_in_link.search(text_of(m)))]

    found = eventually(links, bool, what=f"the portal's sign-in link to {email}")
    return str(found[-1]).replace(platform.url, "")


def eventually(
    look: Callable[[], Any],
    until: Callable[[Any], bool],
    timeout: float = 60,
    what: str = "",
) -> Any:
    """What ``look`` returns once ``until`` holds for it: a replica catching up, a mail or
    a message arriving through the bus."""
    deadline = time.monotonic() + timeout
    while True:
        seen = look()
        if until(seen):
            return seen
        assert time.monotonic() < deadline, (
            f"{what or 'still not so'} after {timeout:.0f} s: {seen}"
        )
        time.sleep(0.3)


# -- the running platform ------------------------------------------------------------------


class Platform:
    """A running platform and what a test reaches it through."""

    mode: str
    url: str
    observer: Observer

    def __init__(self, root: Path, sink: MailSink) -> None:
        self.root = root
        self.data_dir = root / "data"
        self.clock_file = root / "clock"
        self.sink = sink
        self.process: subprocess.Popen[bytes] | None = None
        self.log_path = root / "platform.log"

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "CORTESIA_DATA": str(self.data_dir),
            clock.CLOCK_FILE_VARIABLE: str(self.clock_file),
            "CORTESIA_SMTP_HOST": "127.0.0.1",
            "CORTESIA_SMTP_PORT": str(self.sink.port),
            "CORTESIA_SMTP_SECURITY": "none",
            "CORTESIA_SMTP_FROM": "suporte@cortesia.example",
            # Bus retries quickly: a test waits seconds, not minutes, for a repeat.
            "CORTESIA_BUS_RETRY_BASE_SECONDS": "0.2",
            "CORTESIA_BILLING_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }

    def command(self, port: int) -> list[str]:
        raise NotImplementedError

    def start(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        environment = self.environment()
        environment["CORTESIA_PUBLIC_URL"] = self.url
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                self.command(port), env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + STARTUP_SECONDS
        while not self._answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the {self.mode} platform did not start:\n{self.log_tail()}")
            time.sleep(0.5)

    def _answers(self) -> bool:
        try:
            return all(
                requests.get(f"{self.url}/{service}/healthz", timeout=2).status_code == 200
                for service in SERVICES
            )
        except requests.RequestException:
            return False

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        logs = self.data_dir / "logs"
        for path in sorted(logs.glob("*.log")) if logs.exists() else []:
            text += f"\n--- {path.name}\n" + path.read_text(errors="replace")[-3000:]
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        self.observer.close()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    # -- the clock every process of the platform reads

    def now(self) -> datetime:
        return datetime.now(UTC) + timedelta(seconds=clock.read_offset(self.clock_file))

    def set_clock(self, moment: datetime) -> None:
        """Move every process to ``moment`` (only forward: the billing run keeps its days)."""
        assert moment >= self.now() - timedelta(seconds=5), "the platform's clock moves forward"
        clock.write_offset(self.clock_file, moment - datetime.now(UTC))
        time.sleep(0.6)  # every process re-reads the file within a quarter of a second

    def next_moment(self, weekday: int, hour: int, minute: int = 0, zone: Any = None) -> datetime:
        """The first ``weekday`` (0 = Monday) at ``hour`` in ``zone`` after the platform's
        now, in a week without Brazilian national holidays (business hours are plain)."""
        from shared.business_hours import BusinessCalendar

        calendar = BusinessCalendar()
        zone = zone or calendar.zone
        day = (self.now() + timedelta(hours=1)).astimezone(zone).date()
        while True:
            moment = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
            week = [day + timedelta(days=offset - day.weekday()) for offset in range(7)]
            quiet_week = all(calendar.holiday_name(d) is None for d in week)
            if day.weekday() == weekday and moment > self.now() and quiet_week:
                return moment
            day += timedelta(days=1)


class Distributed(Platform):
    mode = "distributed"

    def __init__(self, root: Path, sink: MailSink, amqp_url: str, postgres_admin_url: str):
        super().__init__(root, sink)
        self.amqp_url = amqp_url
        self.postgres_admin_url = postgres_admin_url
        self.database_prefix = f"e2e_{os.getpid()}_{int(time.time())}"

    def command(self, port: int) -> list[str]:
        return [
            sys.executable, "-m", "cortesia", "up",
            "--amqp-url", self.amqp_url,
            "--postgres-url", self.postgres_admin_url,
            "--database-prefix", self.database_prefix,
            "--port", str(port),
            "--logs", str(self.data_dir / "logs"),
        ]  # fmt: skip

    def start(self) -> None:
        # Bound before the platform exists: nothing it publishes is missed.
        self.observer = WireObserver(self.amqp_url)
        super().start()


class Embedded(Platform):
    mode = "embedded"

    def command(self, port: int) -> list[str]:
        return [sys.executable, "-m", "cortesia", "run", "--port", str(port)]

    def environment(self) -> dict[str, str]:
        environment = super().environment()
        environment.pop("CORTESIA_AMQP_URL", None)
        return environment

    def start(self) -> None:
        super().start()
        self.observer = OutboxObserver(self.data_dir)


# -- people ------------------------------------------------------------------------------

_CSRF = re.compile(r'name="csrf_token"[^>]*?value="([^"]+)"')


class Browser:
    """A person's cookies on the platform's one origin, and the CSRF token for writes."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.http = requests.Session()
        self.token = ""

    def url(self, path: str) -> str:
        return f"{self.platform.url}{path}"

    def page(self, path: str, expect: int = 200) -> requests.Response:
        response = self.http.get(self.url(path), headers={"Accept": "text/html"}, timeout=30)
        assert response.status_code == expect, (path, response.status_code, response.text[:800])
        found = _CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def form(self, path: str, data: dict[str, Any], expect: int = 200) -> requests.Response:
        """Post a form the way the page does (its CSRF token included), following redirects."""
        response = self.http.post(
            self.url(path),
            data={"csrf_token": self.token, **data},
            headers={"Accept": "text/html"},
            timeout=30,
        )
        assert response.status_code == expect, (path, response.status_code, response.text[:800])
        found = _CSRF.search(response.text)
        if found:
            self.token = found.group(1)
        return response

    def api(self, method: str, path: str, json: Any = None, expect: int = 200) -> Any:
        response = self.http.request(
            method,
            self.url(path),
            json=json,
            headers={"X-CSRFToken": self.token, "Accept": "application/json"},
            timeout=30,
        )
        assert response.status_code == expect, (path, response.status_code, response.text[:800])
        return response.json() if response.content else None


def owner_signed_in(platform: Platform) -> Browser:
    """The owner's browser: the account made on the first visit if there is none yet."""
    owner = Browser(platform)
    first_visit = owner.page("/tickets/")
    if "/setup" in first_visit.url:
        owner.form("/tickets/setup", {**OWNER, "confirm": OWNER["password"]})
    return sign_in(platform, OWNER["email"], OWNER["password"], owner)


def sign_in(
    platform: Platform, email: str, password: str, browser: Browser | None = None
) -> Browser:
    person = browser or Browser(platform)
    person.page("/tickets/login")
    landed = person.form("/tickets/login", {"email": email, "password": password})
    assert "/login" not in landed.url, f"{email} could not sign in"
    return person


def customer_in_portal(platform: Platform, email: str, language: str = "pt-BR") -> Browser:
    """A customer signed in to the portal by the link notify emailed."""
    customer = Browser(platform)
    customer.page(f"/tickets/portal/language/{language}")
    already = len(mails_to(platform.sink, email))
    customer.form("/tickets/portal/link", {"email": email})
    customer.page(portal_link_after(platform, email, already))
    return customer
