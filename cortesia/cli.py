"""The ``cortesia`` command line."""

from __future__ import annotations

import json
import os
import signal
import sys
from pathlib import Path
from typing import Any

import click

from shared import clock
from shared.config import QUEUE_TYPES, SERVICES, ConfigurationError, Settings, load_settings
from shared.logging import configure_logging

service_argument = click.argument("service", type=click.Choice(SERVICES))
data_option = click.option(
    "--data",
    "data_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Data directory (default: $CORTESIA_DATA or ./var).",
)


def _settings(service: str, data_dir: Path | None) -> Settings:
    try:
        return load_settings(service, data_dir=data_dir)
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """Cortesia: tickets, billing, notify and training for a hosting company."""
    configure_logging()


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option(
    "--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="0: any free."
)
@data_option
@click.option("--threads", default=8, show_default=True, help="Web request threads.")
@click.option(
    "--demo",
    is_flag=True,
    help="A demo hosting company, seeded on first start into an empty data directory.",
)
def run(host: str, port: int, data_dir: Path | None, threads: int, demo: bool) -> None:
    """Run the whole platform in one process (embedded mode: no servers to install)."""
    from waitress import create_server

    from cortesia.embedded import build_embedded

    settings = {name: _settings(name, data_dir) for name in SERVICES}
    for service_settings in settings.values():
        if not service_settings.embedded_bus:
            raise click.UsageError("embedded mode runs without RabbitMQ: unset CORTESIA_AMQP_URL")
    platform = build_embedded(settings)
    welcome = None
    if demo:
        from cortesia.demo import DemoRefused, prepare_demo

        click.echo("Preparing the demo company (its first start tells a year of its life)...")
        try:
            welcome = prepare_demo(platform, settings)
        except DemoRefused as error:
            raise click.ClickException(str(error)) from None
    platform.start()
    server = create_server(platform.wsgi_app, host=host, port=port, threads=threads)
    data = settings["tickets"].data_dir
    click.echo(
        f"Cortesia is running: open http://{host}:{server.effective_port}/  (data in {data})"
    )
    if welcome is None:
        click.echo("First time? The page asks you to create the owner's account. Ctrl+C stops.")
    else:
        click.echo("The demo company's staff sign in with:")
        for member in welcome.staff:
            click.echo(f"  {member.role:<8} {member.name:<17} {member.email}")
        click.echo(f"Password (every demo account): {welcome.password}   Ctrl+C stops.")

    def shut_down(_signum: int, _frame: Any) -> None:
        server.close()

    signal.signal(signal.SIGTERM, shut_down)
    try:
        server.run()
    except (KeyboardInterrupt, OSError):
        pass
    finally:
        platform.stop()
        click.echo("Cortesia stopped.")


@main.command()
@service_argument
@click.option("--bind", default="127.0.0.1:8000", show_default=True)
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64))
@data_option
def serve(service: str, bind: str, workers: int, data_dir: Path | None) -> None:
    """Serve one service's web app with gunicorn (distributed mode)."""
    from gunicorn.app.base import BaseApplication
    from werkzeug.middleware.proxy_fix import ProxyFix

    from cortesia.platform import service_module
    from shared.db import Database

    settings = _settings(service, data_dir)

    class ServiceApplication(BaseApplication):
        def load_config(self) -> None:
            self.cfg.set("bind", bind)
            self.cfg.set("workers", workers)
            self.cfg.set("worker_class", "gthread")
            self.cfg.set("threads", 4)
            self.cfg.set("accesslog", None)
            self.cfg.set("forwarded_allow_ips", os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1"))

        def load(self) -> Any:
            # Runs in each worker after the fork: no connection is shared between processes.
            app = service_module(service).create_app(settings, Database(settings.database_url))
            # Behind the gateway each service lives under /<service>/: X-Forwarded-Prefix
            # tells it so, and its links and cookies follow.
            app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1, x_host=1, x_prefix=1)  # type: ignore[method-assign]
            return app

    ServiceApplication().run()


@main.command()
@service_argument
@data_option
def worker(service: str, data_dir: Path | None) -> None:
    """Run one service's worker: its outbox relay and event consumers (RabbitMQ)."""
    from cortesia.worker import Worker

    try:
        process = Worker(_settings(service, data_dir))
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    process.run_until_signalled()


@main.command()
@click.argument("services", nargs=-1, type=click.Choice(SERVICES))
@data_option
def migrate(services: tuple[str, ...], data_dir: Path | None) -> None:
    """Bring databases up to date (all services unless some are named).

    With RabbitMQ configured, also declares the bus topology, so that no event
    published before a worker first starts finds its queue missing.
    """
    from cortesia.platform import declare_bus
    from cortesia.platform import migrate as migrate_service

    for name in services or SERVICES:
        settings = _settings(name, data_dir)
        migrate_service(settings)
        click.echo(f"{name}: database up to date")
    settings = _settings((services or SERVICES)[0], data_dir)
    if settings.amqp_url:
        declare_bus(settings)
        click.echo("bus: topology declared")


@main.command("create-owner")
@click.option("--name", required=True)
@click.option("--email", required=True)
@click.password_option(envvar="CORTESIA_OWNER_PASSWORD", help="Prompted for if not given.")
@data_option
def create_owner(name: str, email: str, password: str, data_dir: Path | None) -> None:
    """Create the owner's staff account (once; the owner adds everyone else)."""
    from cortesia.platform import migrate as migrate_service
    from services.tickets.staff import StaffError, add_staff, owner_exists
    from shared.db import Database

    settings = _settings("tickets", data_dir)
    migrate_service(settings)
    database = Database(settings.database_url)
    try:
        with database.transaction() as session:
            if owner_exists(session):
                raise click.ClickException("an owner already exists; the owner adds other staff")
            member = add_staff(session, name, email, "owner", password)
    except StaffError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(f"Owner account created for {member.email}.")


# -- bus -------------------------------------------------------------------------


def _parked_store(data_dir: Path | None) -> Any:
    from cortesia.platform import all_subscribers
    from shared.bus.embedded import open_bus_database
    from shared.bus.parked import EmbeddedParkedStore, RabbitParkedStore

    settings = _settings("tickets", data_dir)
    if settings.amqp_url:
        return RabbitParkedStore(settings.amqp_url, all_subscribers())
    return EmbeddedParkedStore(open_bus_database(settings.bus_database_url))


@main.group()
def bus() -> None:
    """Inspect and replay parked messages (RabbitMQ or the embedded bus); the broker's
    dead-letter policies."""


@bus.command("list")
@click.option("--subscriber", help="Only this subscriber's parked messages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON lines.")
@data_option
def bus_list(subscriber: str | None, as_json: bool, data_dir: Path | None) -> None:
    """List parked messages with the reason each was parked."""
    try:
        parked = _parked_store(data_dir).list(subscriber)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    for message in parked:
        if as_json:
            click.echo(json.dumps({k: v for k, v in message.as_dict().items() if k != "body"}))
        else:
            click.echo(
                f"{message.event_id}  {message.subscriber}  {message.event_type}  "
                f"attempts={message.attempts}  {message.reason}"
            )
    if not as_json:
        click.echo(f"{len(parked)} parked message(s)", err=True)


@bus.command("show")
@click.argument("event_id")
@data_option
def bus_show(event_id: str, data_dir: Path | None) -> None:
    """Show a parked message in full: reason, headers and body."""
    matches = [m for m in _parked_store(data_dir).list() if m.event_id == event_id]
    if not matches:
        raise click.ClickException(f"no parked message with event id {event_id}")
    for message in matches:
        click.echo(json.dumps(message.as_dict(), indent=2, default=str))


@bus.command("replay")
@click.argument("event_ids", nargs=-1)
@click.option("--all", "replay_all", is_flag=True, help="Replay every parked message.")
@click.option("--subscriber", help="Only this subscriber's parked messages.")
@data_option
def bus_replay(
    event_ids: tuple[str, ...], replay_all: bool, subscriber: str | None, data_dir: Path | None
) -> None:
    """Send parked messages back to the subscriber that parked them, with fresh attempts."""
    if not event_ids and not replay_all:
        raise click.UsageError("name event ids to replay, or pass --all")
    try:
        count = _parked_store(data_dir).replay(None if replay_all else list(event_ids), subscriber)
    except ValueError as error:
        raise click.UsageError(str(error)) from None
    click.echo(f"{count} message(s) replayed")
    if event_ids and count == 0:
        sys.exit(1)


@bus.command("policies")
@click.option(
    "--write",
    "definitions_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Put them into this RabbitMQ definitions file (its other contents kept).",
)
@click.option(
    "--queue-type",
    type=click.Choice(QUEUE_TYPES),
    default="classic",
    show_default=True,
    help="The queue type the services declare (CORTESIA_QUEUE_TYPE).",
)
@click.option("--vhost", default="/", show_default=True)
def bus_policies(definitions_file: Path | None, queue_type: str, vhost: str) -> None:
    """The broker's dead-letter policy for every subscriber queue, as definitions JSON.

    Without --write, prints them; on a broker already running, each can be applied with
    ``rabbitmqctl set_policy --apply-to queues --priority 10 NAME PATTERN DEFINITION``.
    """
    from cortesia.platform import all_subscribers
    from shared.bus.policies import dead_letter_policies

    policies = dead_letter_policies(all_subscribers(), queue_type, vhost)
    if definitions_file is None:
        click.echo(json.dumps(policies, indent=2))
        return
    definitions = json.loads(definitions_file.read_text())
    definitions["policies"] = policies
    definitions_file.write_text(json.dumps(definitions, indent=2) + "\n")
    click.echo(f"{len(policies)} policies written to {definitions_file}")


# -- billing ---------------------------------------------------------------------


@main.group("billing")
def billing_group() -> None:
    """The billing service's daily run."""


@billing_group.command("run")
@click.option(
    "--date",
    "run_date",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day to bill, YYYY-MM-DD (default: today in the company's timezone).",
)
@data_option
def billing_run(run_date: Any, data_dir: Path | None) -> None:
    """Run the daily billing for a day, and for any day missed before it.

    Idempotent: running a day again creates nothing new. Suspensions happen
    only inside business hours; outside them they wait for the next run.
    """

    from cortesia.platform import migrate as migrate_service
    from services.billing.policy import BillingPolicy
    from services.billing.run import run_billing
    from shared.business_hours import BusinessCalendar
    from shared.db import Database

    try:
        policy = BillingPolicy.from_env()
    except ConfigurationError as error:
        raise click.UsageError(str(error)) from None
    settings = _settings("billing", data_dir)
    migrate_service(settings)
    calendar = BusinessCalendar()
    now = clock.now()
    day = run_date.date() if run_date else now.astimezone(calendar.zone).date()
    database = Database(settings.database_url)
    try:
        report = run_billing(database, day, policy, calendar, now)
    finally:
        database.dispose()
    if not report.dates:
        click.echo(f"billing: {day} is before the last completed run; nothing to do")
        return
    click.echo(f"billing: {report.summary()}")


# -- training --------------------------------------------------------------------


@main.group("training")
def training_group() -> None:
    """The training service: the reply checker and the playbooks."""


@training_group.command("evaluate-checker")
@click.option(
    "--replies",
    "replies_dir",
    type=click.Path(file_okay=False, exists=True, path_type=Path),
    default=Path("tests/data/replies"),
    show_default=True,
    help="Folder of labelled replies (*.jsonl).",
)
@click.option(
    "--customers",
    "customers_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    default=Path("tests/data/customers.json"),
    show_default=True,
    help="The customer directory the replies are checked against.",
)
@click.option("--mistakes", is_flag=True, help="Also list each reply the checker got wrong.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def evaluate_checker(
    replies_dir: Path, customers_file: Path, mistakes: bool, as_json: bool
) -> None:
    """Precision and recall of each check of the reply checker on a labelled set.

    Exits with status 1 when a blocking check is below its target.
    """
    from services.training.checker import ReplyChecker, default_lexicon
    from services.training.checker.evaluation import (
        evaluate,
        load_directory,
        load_replies,
        report,
    )

    lexicon = default_lexicon()
    checker = ReplyChecker(lexicon, load_directory(customers_file))
    replies = load_replies(sorted(replies_dir.glob("*.jsonl")))
    if not replies:
        raise click.UsageError(f"No labelled replies in {replies_dir}.")
    result = evaluate(checker, replies)
    severities = {key: settings.severity for key, settings in lexicon.items()}
    if as_json:
        click.echo(json.dumps(result.as_dict(), indent=2))
    else:
        click.echo(report(result, severities))
    if mistakes:
        for reply_id, key, kind in result.mistakes:
            click.echo(f"{reply_id}\t{key}\t{kind}")
    if result.misses_target(severities):
        sys.exit(1)


# -- the distributed topology and the clock -----------------------------------

from cortesia.distributed_commands import clock_group, up  # noqa: E402

main.add_command(up)
main.add_command(clock_group)
