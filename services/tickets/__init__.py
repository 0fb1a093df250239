"""Tickets: the staff desk and customer portal. Staff accounts and sign-in live here."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask

from services.tickets.inbound import InboundMailServer
from services.tickets.replicas import billing_state, deliveries, training_policy
from services.tickets.upkeep import UpkeepJob
from shared.background import BackgroundJob
from shared.bus.subscriber import Subscriber
from shared.config import ConfigurationError, Settings
from shared.db import Database
from shared.web import create_service_app

NAME = "tickets"
MIGRATIONS = Path(__file__).parent / "migrations"
SUBSCRIBERS: list[Subscriber] = [billing_state, training_policy, deliveries]


def background_jobs(settings: Settings, database: Database) -> list[BackgroundJob]:
    """The desk's rounds (SLA alerts, escalations, follow-ups, closing inactive tickets,
    care tasks) and, when a port is set, the inbound email listener."""
    jobs: list[BackgroundJob] = [UpkeepJob(database)]
    port = os.environ.get("CORTESIA_TICKETS_INBOUND_PORT")
    if port:
        if not port.isdigit():
            raise ConfigurationError(f"CORTESIA_TICKETS_INBOUND_PORT must be a port, got {port!r}")
        support = os.environ.get("CORTESIA_SUPPORT_EMAIL", "suporte@cortesia.example")
        jobs.append(
            InboundMailServer(
                database,
                os.environ.get("CORTESIA_TICKETS_INBOUND_HOST", "127.0.0.1"),
                int(port),
                os.environ.get("CORTESIA_TICKETS_INBOUND_DOMAIN") or support.rpartition("@")[2],
            )
        )
    return jobs


def create_app(
    settings: Settings, database: Database, bus_database: Database | None = None
) -> Flask:
    from services.tickets import views
    from services.tickets.api import init_api
    from services.tickets.desk_pages import desk
    from services.tickets.desk_settings import desk_settings
    from services.tickets.maintenance_pages import maintenance_pages
    from services.tickets.portal import init_portal
    from services.tickets.staff_pages import staff_pages

    app = create_service_app(__name__, settings, database, bus_database=bus_database)
    app.register_blueprint(views.bp)
    app.register_blueprint(desk)
    app.register_blueprint(staff_pages)
    app.register_blueprint(desk_settings)
    app.register_blueprint(maintenance_pages)
    init_portal(app)
    init_api(app)
    return app
