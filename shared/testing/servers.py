"""Private RabbitMQ and PostgreSQL servers in temporary directories, on free ports.

Used by the test suite (and the benchmarks) when no Docker engine runs: each
server is the real Debian binary, started for the session and thrown away
after it. Faults are injected the way an operator would meet them: stopping
the broker's application, closing its connections, killing a process.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

RABBITMQ_BIN = Path("/usr/lib/rabbitmq/bin")
POSTGRES_BIN_ROOT = Path("/usr/lib/postgresql")


class ServerUnavailable(RuntimeError):
    """A server binary is missing or did not start; the message says how to fix it."""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_for_port(port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.1)
    raise ServerUnavailable(f"nothing listens on port {port} after {timeout}s")


@dataclass
class RabbitNode:
    """A private RabbitMQ node; ``rabbitmqctl`` drives it for fault injection."""

    root: Path
    port: int = field(default_factory=free_port)
    dist_port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def node_name(self) -> str:
        return f"cortesia{self.port}@localhost"

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def _env(self) -> dict[str, str]:
        plugins = self.root / "enabled_plugins"
        plugins.touch()
        return {
            **os.environ,
            "HOME": str(self.root),  # the Erlang cookie lives here, shared by rabbitmqctl
            "RABBITMQ_NODENAME": self.node_name,
            "RABBITMQ_NODE_IP_ADDRESS": "127.0.0.1",
            "RABBITMQ_NODE_PORT": str(self.port),
            "RABBITMQ_DIST_PORT": str(self.dist_port),
            "RABBITMQ_MNESIA_BASE": str(self.root / "mnesia"),
            "RABBITMQ_LOG_BASE": str(self.root / "log"),
            "RABBITMQ_PID_FILE": str(self.root / "rabbit.pid"),
            "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins),
            "RABBITMQ_CONFIG_FILE": str(self.root / "rabbitmq"),
        }

    def start(self, timeout: float = 90) -> None:
        if not (RABBITMQ_BIN / "rabbitmq-server").exists():
            raise ServerUnavailable(
                "rabbitmq-server is not installed: run ./scripts/test.sh, which installs it"
            )
        self.root.mkdir(parents=True, exist_ok=True)
        # No heartbeat floor on the server side; the clients ask for their own.
        (self.root / "rabbitmq.conf").write_text("loopback_users = none\n")
        log = open(self.root / "server.log", "ab")  # noqa: SIM115 - lives as long as the node
        self.process = subprocess.Popen(
            [str(RABBITMQ_BIN / "rabbitmq-server")],
            env=self._env(),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.ctl(
            "wait",
            str(self.root / "rabbit.pid"),
            "--timeout",
            str(int(timeout)),
            timeout=timeout + 5,
        )
        wait_for_port(self.port, timeout)

    def ctl(self, *args: str, timeout: float = 60) -> str:
        result = subprocess.run(
            [str(RABBITMQ_BIN / "rabbitmqctl"), "-n", self.node_name, *args],
            env=self._env(),
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if result.returncode != 0:
            raise ServerUnavailable(
                f"rabbitmqctl {' '.join(args)} failed: {result.stderr or result.stdout}"
            )
        return result.stdout

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        wait_for_port(self.port, 60)

    def close_all_connections(self) -> None:
        self.ctl("close_all_connections", "test fault")

    def queue_depth(self, queue: str) -> int:
        for line in self.ctl(
            "list_queues", "name", "messages", "--no-table-headers", "--quiet"
        ).splitlines():
            name, _, count = line.rpartition("\t")
            if name == queue:
                return int(count)
        return 0

    def reset(self) -> None:
        """Delete every queue and exchange of the tests (between tests, not between steps)."""
        self.stop_app()
        self.ctl("reset")
        self.start_app()

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            self.ctl("stop", timeout=60)
        except (ServerUnavailable, subprocess.TimeoutExpired):
            self.process.kill()
        self.process.wait(timeout=30)
        self.process = None


def create_database(admin_url: str, name: str) -> str:
    """A fresh, empty database ``name`` on the server of ``admin_url``; returns its URL."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(admin_url).set(drivername="postgresql+psycopg")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    engine.dispose()
    return url.set(database=name).render_as_string(hide_password=False).replace("+psycopg", "")


def _postgres_bin() -> Path:
    versions = sorted(POSTGRES_BIN_ROOT.glob("*/bin/initdb"), reverse=True)
    if not versions:
        raise ServerUnavailable(
            "PostgreSQL is not installed: run ./scripts/test.sh, which installs it"
        )
    return versions[0].parent


def _as_postgres_user(command: list[str]) -> list[str]:
    # initdb refuses to run as root; Debian's package creates the postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


@dataclass
class PostgresCluster:
    root: Path
    port: int = field(default_factory=free_port)

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *command: str) -> None:
        result = subprocess.run(
            _as_postgres_user(list(command)), capture_output=True, text=True, timeout=120
        )
        if result.returncode != 0:
            raise ServerUnavailable(f"{command[0]} failed: {result.stderr or result.stdout}")

    def start(self) -> None:
        bin_dir = _postgres_bin()
        self.root.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.root, "postgres", "postgres")
        data = self.root / "data"
        self._run(
            str(bin_dir / "initdb"),
            "-D",
            str(data),
            "-U",
            "postgres",
            "--auth=trust",
            "--encoding=UTF8",
            "--no-sync",
        )
        self._run(
            str(bin_dir / "pg_ctl"),
            "-D",
            str(data),
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=on "
            f"-c max_connections=200",
            "start",
        )
        wait_for_port(self.port, 30)

    def create_database(self, name: str) -> str:
        return create_database(self.admin_url, name)

    def stop(self) -> None:
        data = self.root / "data"
        if data.exists():
            self._run(str(_postgres_bin() / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
