"""Training: the founder's playbooks, the reply checker, and onboarding to certification."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, current_app, render_template
from sqlalchemy import select

from services.training.coaching import desk_activity
from services.training.just_in_time import billing_state, suggestions
from services.training.models import StaffMemberReplica
from services.training.subscribers import customer_directory, staff_directory
from shared.config import Settings
from shared.db import Database
from shared.web import create_service_app, roles_required

NAME = "training"
MIGRATIONS = Path(__file__).parent / "migrations"
SUBSCRIBERS = [staff_directory, customer_directory, billing_state, suggestions, desk_activity]

bp = Blueprint("training", __name__, template_folder="templates")


@bp.get("/")
@roles_required("agent", "billing", "trainee")
def index() -> Any:
    database: Database = current_app.extensions["cortesia.database"]
    with database.transaction() as session:
        team = (
            session.execute(
                select(StaffMemberReplica)
                .where(StaffMemberReplica.active.is_(True))
                .order_by(StaffMemberReplica.name)
            )
            .scalars()
            .all()
        )
    return render_template("training/index.html", team=team)


def create_app(
    settings: Settings, database: Database, bus_database: Database | None = None
) -> Flask:
    from services.training.api import init_api
    from services.training.coaching_pages import coaching_pages
    from services.training.library import library
    from services.training.portal import portal
    from services.training.staff_words import speak_on

    app = create_service_app(__name__, settings, database, bus_database=bus_database)
    app.register_blueprint(bp)
    app.register_blueprint(portal)
    app.register_blueprint(library)
    app.register_blueprint(coaching_pages)
    speak_on(app)
    init_api(app)
    return app


def after_migrate(database: Database) -> None:
    """Bring the repository's playbook files into the database as versions."""
    from services.training.versions import import_files

    with database.transaction() as session:
        import_files(session)
