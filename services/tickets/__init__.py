"""Tickets: the staff desk and customer portal. Staff accounts and sign-in live here."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from services.tickets.replicas import billing_state, deliveries, training_policy
from shared.bus.subscriber import Subscriber
from shared.config import Settings
from shared.db import Database
from shared.web import create_service_app

NAME = "tickets"
MIGRATIONS = Path(__file__).parent / "migrations"
SUBSCRIBERS: list[Subscriber] = [billing_state, training_policy, deliveries]


def create_app(
    settings: Settings, database: Database, bus_database: Database | None = None
) -> Flask:
    from services.tickets import views

    app = create_service_app(__name__, settings, database, bus_database=bus_database)
    app.register_blueprint(views.bp)
    return app
