"""Real servers for the suite.

RabbitMQ and PostgreSQL come, in order of preference, from URLs in the
environment (``CORTESIA_TEST_AMQP_URL`` / ``CORTESIA_TEST_POSTGRES_URL``),
from ``docker compose`` through pytest-docker where a Docker engine runs, or
from the local Debian binaries started in temporary directories on free ports.
A missing server is an error, never a skip: ``./scripts/test.sh`` installs them.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from shared.logging import configure_logging
from shared.testing.servers import PostgresCluster, RabbitNode, create_database, wait_for_port
from tests.support.wire import Running

ROOT = Path(__file__).resolve().parent.parent

configure_logging(logging.WARNING)


class Broker(Protocol):
    url: str

    def stop_app(self) -> None: ...
    def start_app(self) -> None: ...
    def close_all_connections(self) -> None: ...


def _docker_engine_runs() -> bool:
    if shutil.which("docker") is None:
        return False
    return subprocess.run(["docker", "info"], capture_output=True, timeout=20).returncode == 0


class ComposeRabbit:
    """The compose file's RabbitMQ, faults injected with rabbitmqctl inside its container."""

    def __init__(self, compose_file: Path, project: str, port: int) -> None:
        self.compose = ["docker", "compose", "-f", str(compose_file), "-p", project]
        self.url = f"amqp://cortesia:cortesia@127.0.0.1:{port}/%2F"

    def ctl(self, *args: str) -> str:
        result = subprocess.run(
            [*self.compose, "exec", "-T", "rabbitmq", "rabbitmqctl", *args],
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        return result.stdout

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")

    def close_all_connections(self) -> None:
        self.ctl("close_all_connections", "test fault")


@pytest.fixture(scope="session")
def docker_compose_file() -> str:
    return str(ROOT / "docker-compose.yml")


@pytest.fixture(scope="session")
def docker_setup() -> list[str]:
    return ["up --build -d rabbitmq postgres"]


@pytest.fixture(scope="session")
def rabbit(request: pytest.FixtureRequest) -> Iterator[Broker | Any]:
    url = os.environ.get("CORTESIA_TEST_AMQP_URL")
    if url:
        yield _ExternalBroker(url)
        return
    if _docker_engine_runs():
        port = _compose_port(request, "rabbitmq", 5672)
        yield ComposeRabbit(
            ROOT / "docker-compose.yml",
            request.getfixturevalue("docker_compose_project_name"),
            port,
        )
        return
    yield from _for_the_session(RabbitNode(Path(tempfile.mkdtemp(prefix="cortesia-rabbit-"))))


class _ExternalBroker:
    def __init__(self, url: str) -> None:
        self.url = url

    def _refuse(self) -> None:
        raise RuntimeError(
            "fault injection needs a broker the tests started; unset CORTESIA_TEST_AMQP_URL"
        )

    stop_app = start_app = close_all_connections = _refuse


def _for_the_session(server: RabbitNode | PostgresCluster) -> Iterator[Any]:
    """Run a private server in its temporary directory, and remove both afterwards."""
    server.start()
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(server.root, ignore_errors=True)


def _compose_port(request: pytest.FixtureRequest, service: str, container_port: int) -> int:
    """Start the compose service through pytest-docker; return its port on this host."""
    services = request.getfixturevalue("docker_services")
    port = int(services.port_for(service, container_port))
    services.wait_until_responsive(timeout=120, pause=1, check=lambda: _port_open(port))
    return port


def _port_open(port: int) -> bool:
    try:
        wait_for_port(port, 0.5)
    except Exception:
        return False
    return True


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[Any]:
    url = os.environ.get("CORTESIA_TEST_POSTGRES_URL")
    if url:
        yield _ExternalPostgres(url)
        return
    if _docker_engine_runs():
        port = _compose_port(request, "postgres", 5432)
        yield _ExternalPostgres(f"postgresql://cortesia:cortesia@127.0.0.1:{port}/postgres")
        return
    yield from _for_the_session(PostgresCluster(Path(tempfile.mkdtemp(prefix="cortesia-pg-"))))


class _ExternalPostgres:
    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def create_database(self, name: str) -> str:
        return create_database(self.admin_url, name)


@pytest.fixture
def postgres_url(postgres_server: Any) -> str:
    """A fresh, empty PostgreSQL database for one test."""
    return str(postgres_server.create_database(f"t_{uuid.uuid4().hex[:12]}"))


@pytest.fixture
def unique_name() -> str:
    return uuid.uuid4().hex[:8]


@pytest.fixture
def running() -> Iterator[Running]:
    """Relays and consumers started by a test, stopped when it ends."""
    components = Running()
    yield components
    components.stop_all()
