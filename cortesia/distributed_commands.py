"""``cortesia up`` (the distributed topology on local servers) and ``cortesia clock``."""

from __future__ import annotations

import os
import signal
import socket
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from shared import clock
from shared.config import SERVICES, ConfigurationError, data_dir_from, load_settings


@click.command()
@click.option(
    "--amqp-url",
    envvar="CORTESIA_AMQP_URL",
    required=True,
    help="RabbitMQ, with rights to declare every service's queues ($CORTESIA_AMQP_URL).",
)
@click.option(
    "--postgres-url",
    envvar="CORTESIA_POSTGRES_URL",
    help="A PostgreSQL server's admin URL: each service gets a database cortesia_<service> "
    "there. Without it, each service's CORTESIA_<SERVICE>_DATABASE_URL is used.",
)
@click.option(
    "--database-prefix",
    default="cortesia",
    show_default=True,
    help="With --postgres-url: the databases are named <prefix>_<service>.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="The gateway's interface.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--web-workers", default=1, show_default=True, type=click.IntRange(1, 16))
@click.option(
    "--logs",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write each process's output to DIR/<process>.log instead of this terminal.",
)
@click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    help="Data directory (default: $CORTESIA_DATA or ./var).",
)
def up(
    amqp_url: str,
    postgres_url: str | None,
    database_prefix: str,
    host: str,
    port: int,
    web_workers: int,
    logs: Path | None,
    data_dir: Path | None,
) -> None:
    """Run every service's web and worker processes on RabbitMQ and PostgreSQL.

    The topology of docker-compose.yml without Docker: databases created and
    migrated, the bus declared, eight processes started, every UI behind one
    gateway. Ctrl+C stops them all.
    """
    from waitress import create_server

    from cortesia.distributed import Supervisor, Topology, service_database_urls
    from cortesia.gateway import Gateway
    from cortesia.platform import declare_bus, migrate

    if not os.environ.get("CORTESIA_SMTP_HOST"):
        raise click.UsageError(
            "notify sends email through an SMTP server: set CORTESIA_SMTP_HOST "
            "(and CORTESIA_SMTP_PORT, _SECURITY, _USERNAME, _PASSWORD as it needs)"
        )
    data = data_dir_from(os.environ, data_dir)
    environment = {"CORTESIA_AMQP_URL": amqp_url, "CORTESIA_DATA": str(data)}
    if postgres_url:
        for service, url in service_database_urls(postgres_url, database_prefix).items():
            environment[f"CORTESIA_{service.upper()}_DATABASE_URL"] = url
    server = create_server(Gateway({}), host=host, port=port, threads=16)
    public_url = os.environ.get("CORTESIA_PUBLIC_URL") or f"http://{host}:{server.effective_port}"
    environment["CORTESIA_PUBLIC_URL"] = public_url
    merged = {**os.environ, **environment}
    try:
        settings = {name: load_settings(name, merged) for name in SERVICES}
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None
    for name, service_settings in settings.items():
        migrate(service_settings)
        click.echo(f"{name}: database up to date")
    declare_bus(settings["tickets"])
    click.echo("bus: topology declared")

    topology = Topology(_free_ports(), environment, web_workers)
    server.application = Gateway(topology.upstreams())
    supervisor = Supervisor(topology, logs)
    signal.signal(signal.SIGTERM, lambda *_: server.close())
    supervisor.start()
    watcher = _Watcher()
    try:
        supervisor.wait_until_ready()
        click.echo(f"Cortesia (distributed) is running: open {public_url}/  Ctrl+C stops.")
        watcher = _close_when_a_child_stops(supervisor, server)
        server.run()
    except (KeyboardInterrupt, OSError):
        pass
    except (TimeoutError, RuntimeError) as error:
        raise click.ClickException(str(error)) from None
    finally:
        supervisor.stop()
    if watcher.reason != "stopped":
        raise click.ClickException(watcher.reason)
    click.echo("Cortesia stopped.")


class _Watcher:
    reason = "stopped"


def _close_when_a_child_stops(supervisor: Any, server: Any) -> _Watcher:
    import threading

    watcher = _Watcher()

    def watch() -> None:
        watcher.reason = supervisor.watch()
        if watcher.reason != "stopped":
            click.echo(f"{watcher.reason}: stopping everything", err=True)
            server.close()

    threading.Thread(target=watch, name="watcher", daemon=True).start()
    return watcher


def _free_ports() -> dict[str, int]:
    """A free port for each service's web process, no two the same: every probe stays
    bound until all are chosen (a port released at once can be handed out again)."""
    probes = [socket.socket() for _ in SERVICES]
    try:
        for probe in probes:
            probe.bind(("127.0.0.1", 0))
        return {
            service: probe.getsockname()[1] for service, probe in zip(SERVICES, probes, strict=True)
        }
    finally:
        for probe in probes:
            probe.close()


# -- the clock -------------------------------------------------------------------


@click.group("clock")
def clock_group() -> None:
    """The platform's clock, shifted for a rehearsal through $CORTESIA_CLOCK_FILE."""


def _clock_file() -> Path:
    path = os.environ.get(clock.CLOCK_FILE_VARIABLE)
    if not path:
        raise click.UsageError(f"set {clock.CLOCK_FILE_VARIABLE} to the file every process reads")
    return Path(path)


@clock_group.command("show")
def clock_show() -> None:
    """Print the platform's moment."""
    click.echo(clock.now().isoformat(timespec="seconds"))


@clock_group.command("set")
@click.argument("moment", type=click.DateTime(["%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z"]))
def clock_set(moment: datetime) -> None:
    """Move every process of the platform to MOMENT (e.g. 2027-01-04T03:00-03:00)."""
    path = _clock_file()
    clock.write_offset(path, moment - datetime.now(moment.tzinfo))
    click.echo(f"the platform's clock now reads {moment.isoformat(timespec='seconds')}")


@clock_group.command("reset")
def clock_reset() -> None:
    """Back to the system clock."""
    _clock_file().unlink(missing_ok=True)
    click.echo("the platform's clock follows the system clock")
