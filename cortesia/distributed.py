"""The distributed topology without Docker: every service's web and worker processes.

    cortesia up --amqp-url amqp://... --postgres-url postgresql://.../postgres

is what ``docker-compose.yml`` runs, on this machine's RabbitMQ and PostgreSQL:

    gateway (this process, one origin)
      ├─► tickets-web, billing-web, notify-web, training-web  (gunicorn, a port each)
    tickets-worker, billing-worker, notify-worker, training-worker
                                  (outbox relay, consumers, background jobs)

Each service gets its own database on the PostgreSQL server (created when
missing, then migrated) and the bus topology is declared before any process
starts, so no event finds its queue missing. The processes are children of
this one: if any of them stops, everything is stopped and the command fails,
rather than leaving half a platform running.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from shared.config import SERVICES
from shared.logging import get_logger

log = get_logger(__name__)

READY_TIMEOUT_SECONDS = 120.0
STOP_TIMEOUT_SECONDS = 20.0


@dataclass(frozen=True)
class ProcessSpec:
    name: str
    argv: list[str]


@dataclass(frozen=True)
class Topology:
    """Where each part listens and what it is told about the others."""

    web_ports: Mapping[str, int]
    environment: Mapping[str, str]
    """The variables every process gets on top of this one's own."""
    web_workers: int = 1

    def processes(self) -> list[ProcessSpec]:
        command = [sys.executable, "-m", "cortesia"]
        specs = []
        for service in SERVICES:
            bind = f"127.0.0.1:{self.web_ports[service]}"
            workers = str(self.web_workers)
            serve = [*command, "serve", service, "--bind", bind, "--workers", workers]
            specs.append(ProcessSpec(f"{service}-web", serve))
            specs.append(ProcessSpec(f"{service}-worker", [*command, "worker", service]))
        return specs

    def upstreams(self) -> dict[str, str]:
        return {service: f"http://127.0.0.1:{port}" for service, port in self.web_ports.items()}


def service_database_urls(postgres_admin_url: str, prefix: str = "cortesia") -> dict[str, str]:
    """One database per service on the server of ``postgres_admin_url``, created when
    missing (never dropped); returns each service's URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = make_url(postgres_admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(admin, isolation_level="AUTOCOMMIT")
    urls = {}
    try:
        with engine.connect() as connection:
            for service in SERVICES:
                name = f"{prefix}_{service}"
                exists = connection.execute(
                    text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                ).first()
                if exists is None:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                url = admin.set(database=name).render_as_string(hide_password=False)
                urls[service] = url.replace("+psycopg", "")
    finally:
        engine.dispose()
    return urls


@dataclass
class Supervisor:
    """Starts the topology's processes, waits until each web answers, stops them all."""

    topology: Topology
    logs: Path | None = None
    """A folder for one log file per process; ``None`` shares this terminal."""
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    stopped: threading.Event = field(default_factory=threading.Event)

    def start(self) -> None:
        environment = {**os.environ, **self.topology.environment}
        if self.logs is not None:
            self.logs.mkdir(parents=True, exist_ok=True)
        for spec in self.topology.processes():
            output = None
            if self.logs is not None:
                output = (self.logs / f"{spec.name}.log").open("ab")
            errors = subprocess.STDOUT if output else None
            self.children[spec.name] = subprocess.Popen(
                spec.argv, env=environment, stdout=output, stderr=errors
            )
            log.info("distributed.started", process=spec.name, pid=self.children[spec.name].pid)

    def wait_until_ready(self, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        deadline = time.monotonic() + timeout
        for service, url in self.topology.upstreams().items():
            while not _answers(f"{url}/healthz"):
                self.raise_if_one_stopped()
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service}-web did not answer within {timeout:.0f} s")
                time.sleep(0.2)

    def raise_if_one_stopped(self) -> None:
        for name, child in self.children.items():
            if child.poll() is not None:
                raise RuntimeError(f"{name} stopped with exit status {child.returncode}")

    def watch(self, poll_seconds: float = 1.0) -> str:
        """Block until a child stops or ``stop`` is called; the reason."""
        while not self.stopped.wait(poll_seconds):
            for name, child in self.children.items():
                if child.poll() is not None:
                    return f"{name} stopped with exit status {child.returncode}"
        return "stopped"

    def stop(self) -> None:
        self.stopped.set()
        for child in self.children.values():
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for name, child in self.children.items():
            try:
                child.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning("distributed.killed", process=name)
                child.kill()
                child.wait()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False
