"""Billing: customers, plans, subscriptions, invoices, payments and the reserve ledger."""

from __future__ import annotations

from pathlib import Path

from flask import Flask

from services.billing.schedule import BillingScheduler
from services.billing.subscribers import deliveries, desk_requests, desk_tickets
from shared.bus.subscriber import Subscriber
from shared.config import Settings
from shared.db import Database
from shared.web import create_service_app

NAME = "billing"
MIGRATIONS = Path(__file__).parent / "migrations"
SUBSCRIBERS: list[Subscriber] = [desk_tickets, deliveries, desk_requests]


def background_jobs(settings: Settings, database: Database) -> list[BillingScheduler]:
    """The daily billing run, repeated through the day."""
    return [BillingScheduler(database)]


def create_app(
    settings: Settings, database: Database, bus_database: Database | None = None
) -> Flask:
    # Imported here: the API's modules import this package's models and accounts.
    from services.billing.api import init_api
    from services.billing.policy import BillingPolicy
    from services.billing.views import pages
    from services.billing.webhook import webhook_secret

    app = create_service_app(__name__, settings, database, bus_database=bus_database)
    app.register_blueprint(pages)
    app.extensions["billing.policy"] = BillingPolicy.from_env()
    init_api(app, webhook_secret())
    return app
