"""Embedded mode: the four services and their workers in one process, on one port.

http://host:port/tickets/...   ─┐
http://host:port/billing/...   ─┤  path-routing dispatcher (one origin, one session cookie)
http://host:port/notify/...    ─┤
http://host:port/training/...  ─┘
background threads: the embedded bus (outbox relays and subscriber dispatchers)
                    and each service's jobs (the billing run's schedule, notify's
                    deliveries, with a local mail server unless SMTP is configured)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, redirect
from werkzeug.middleware.dispatcher import DispatcherMiddleware

from cortesia.platform import (
    BackgroundJob,
    all_subscribers,
    background_jobs,
    migrate,
    service_module,
)
from shared.bus.embedded import EmbeddedBus, open_bus_database
from shared.config import Settings
from shared.db import Database


def _front_door() -> Flask:
    app = Flask("cortesia.front_door")

    @app.get("/")
    def home() -> Any:
        return redirect("/tickets/")

    @app.get("/healthz")
    def healthz() -> Any:
        return {"status": "ok"}

    return app


@dataclass
class EmbeddedPlatform:
    wsgi_app: DispatcherMiddleware
    bus: EmbeddedBus
    databases: Mapping[str, Database]
    jobs: Mapping[str, list[BackgroundJob]] = field(default_factory=dict)
    """Each service's background jobs, by service."""

    def start(self) -> None:
        self.bus.start()
        for jobs in self.jobs.values():
            for job in jobs:
                job.start()

    def stop(self) -> None:
        for jobs in self.jobs.values():
            for job in reversed(jobs):
                job.stop()
        self.bus.stop()
        for database in self.databases.values():
            database.dispose()
        self.bus.bus.dispose()


def build_embedded(
    settings: Mapping[str, Settings], run_migrations: bool = True
) -> EmbeddedPlatform:
    """Migrate every service's database and mount the four apps under their paths."""
    any_settings = next(iter(settings.values()))
    bus_database = open_bus_database(any_settings.bus_database_url)
    databases: dict[str, Database] = {}
    mounts: dict[str, Any] = {}
    for name, service_settings in settings.items():
        if not service_settings.embedded_bus:
            raise ValueError("embedded mode runs without RabbitMQ: unset CORTESIA_AMQP_URL")
        if run_migrations:
            migrate(service_settings)
        databases[name] = Database(service_settings.database_url)
        mounts[f"/{name}"] = service_module(name).create_app(
            service_settings, databases[name], bus_database=bus_database
        )
    bus = EmbeddedBus(
        bus=bus_database,
        service_databases=databases,
        subscribers=all_subscribers(),
        max_attempts=any_settings.max_attempts,
        retry_base_seconds=any_settings.retry_base_seconds,
    )
    jobs = {name: background_jobs(settings[name], databases[name]) for name in databases}
    return EmbeddedPlatform(DispatcherMiddleware(_front_door(), mounts), bus, databases, jobs)
