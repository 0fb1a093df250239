"""Notify: every message to customers and staff, in the right language, channel and hour."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, render_template

from shared.bus.subscriber import Subscriber
from shared.config import Settings
from shared.db import Database
from shared.web import create_service_app, roles_required

NAME = "notify"
MIGRATIONS = Path(__file__).parent / "migrations"
SUBSCRIBERS: list[Subscriber] = []

bp = Blueprint("notify", __name__)


@bp.get("/")
@roles_required()
def index() -> Any:
    return render_template(
        "service_home.html",
        heading="Notifications",
        summary="Templates, channel preferences and the delivery log.",
    )


def create_app(
    settings: Settings, database: Database, bus_database: Database | None = None
) -> Flask:
    app = create_service_app(__name__, settings, database, bus_database=bus_database)
    app.register_blueprint(bp)
    return app
