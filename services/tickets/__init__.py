"""Tickets: the staff desk and customer portal. Staff accounts and sign-in live here."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from services.tickets.replicas import billing_state, deliveries, training_policy
from services.tickets.upkeep import UpkeepJob
from shared.bus.subscriber import Subscriber
from shared.config import Settings
from shared.db import Database
from shared.web import create_service_app

NAME = "tickets"
MIGRATIONS = Path(__file__).parent / "migrations"
SUBSCRIBERS: list[Subscriber] = [billing_state, training_policy, deliveries]


def background_jobs(settings: Settings, database: Database) -> list[UpkeepJob]:
    """SLA warnings and breaches, follow-ups after resolutions, closing inactive tickets."""
    return [UpkeepJob(database)]


def create_app(
    settings: Settings, database: Database, bus_database: Database | None = None
) -> Flask:
    from services.tickets import views
    from services.tickets.api import init_api
    from services.tickets.desk_pages import desk
    from services.tickets.desk_settings import desk_settings
    from services.tickets.staff_pages import staff_pages

    app = create_service_app(__name__, settings, database, bus_database=bus_database)
    app.register_blueprint(views.bp)
    app.register_blueprint(desk)
    app.register_blueprint(staff_pages)
    app.register_blueprint(desk_settings)
    init_api(app)
    return app
