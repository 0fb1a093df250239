"""Where the services are put together: their modules, databases and subscribers."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Protocol

from flask import Flask

from shared.background import BackgroundJob
from shared.bus.subscriber import Subscriber
from shared.config import SERVICES, Settings, load_settings
from shared.db import Database
from shared.migrations import upgrade


class ServiceModule(Protocol):
    NAME: str
    MIGRATIONS: Path
    SUBSCRIBERS: list[Subscriber]

    def create_app(
        self, settings: Settings, database: Database, bus_database: Database | None = None
    ) -> Flask: ...


def service_module(name: str) -> ServiceModule:
    if name not in SERVICES:
        raise ValueError(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    module: ModuleType = importlib.import_module(f"services.{name}")
    return module


def background_jobs(settings: Settings, database: Database) -> list[BackgroundJob]:
    """The service's own background jobs (its module's optional ``background_jobs``)."""
    make = getattr(service_module(settings.service), "background_jobs", None)
    return [] if make is None else list(make(settings, database))


def all_subscribers() -> list[Subscriber]:
    return [s for name in SERVICES for s in service_module(name).SUBSCRIBERS]


def migrate(settings: Settings) -> None:
    """Run a service's migrations, then what it does with a migrated database (training
    imports its playbook files)."""
    module = service_module(settings.service)
    upgrade(module.MIGRATIONS, settings.database_url)
    after_migrate = getattr(module, "after_migrate", None)
    if after_migrate is not None:
        database = Database(settings.database_url)
        try:
            after_migrate(database)
        finally:
            database.dispose()


def settings_for_all(
    env: Mapping[str, str] | None = None, data_dir: str | Path | None = None
) -> dict[str, Settings]:
    return {name: load_settings(name, env, data_dir) for name in SERVICES}


def declare_bus(settings: Settings) -> None:
    """Declare every service's queues on RabbitMQ, so that no event published before a
    worker first starts finds its queue missing (needs the rights to declare them all)."""
    from kombu import Connection

    from shared.bus.topology import declare_topology

    assert settings.amqp_url, "the bus is declared on RabbitMQ"
    with Connection(settings.amqp_url) as connection:
        declare_topology(
            connection.default_channel,
            all_subscribers(),
            settings.queue_type,
            settings.max_attempts,
            settings.retry_base_seconds,
        )
