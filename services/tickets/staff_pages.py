"""The owner's pages for the team: add someone (they set their password from the emailed
link), change a role, remove someone, and the audit log of who did what."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from services.tickets.models import AuditEntry, StaffMember
from services.tickets.staff import StaffError, change_role, invite_staff, remove_staff
from services.tickets.staff_words import name_of, say, speak_on
from shared.config import Settings
from shared.db import Database
from shared.web import current_staff, roles_required
from shared.web.auth import ROLES

staff_pages = Blueprint("staff_pages", __name__, template_folder="templates")
speak_on(staff_pages)
AUDIT_PAGE = 200


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def _owner_email() -> str:
    staff = current_staff()
    assert staff is not None
    return staff.email


def _page(error: str | None = None, status: int = 200) -> Any:
    with _database().transaction() as session:
        team = list(
            session.execute(
                select(StaffMember).order_by(StaffMember.active.desc(), StaffMember.name)
            ).scalars()
        )
        return render_template(
            "tickets/staff.html", team=team, roles=ROLES, error=error, form=request.form
        ), status


@staff_pages.get("/staff")
@roles_required()
def staff_list() -> Any:
    return _page()


@staff_pages.post("/staff")
@roles_required()
def add_member() -> Any:
    settings: Settings = current_app.extensions["cortesia.settings"]
    form = request.form
    try:
        with _database().transaction() as session:
            member = invite_staff(
                session,
                form.get("name", ""),
                form.get("email", ""),
                form.get("role", ""),
                _owner_email(),
                settings.public_url,
            )
            name = member.name
    except StaffError as refused:
        return _page(str(refused), 422)
    flash(say("said.added", name=name))
    return redirect(url_for("staff_pages.staff_list"), 303)


@staff_pages.post("/staff/<int:staff_id>")
@roles_required()
def change_member(staff_id: int) -> Any:
    action = request.form.get("action")
    try:
        with _database().transaction() as session:
            if action == "role":
                member = change_role(
                    session, staff_id, request.form.get("role", ""), _owner_email()
                )
                done = say("said.role_changed", name=member.name, role=name_of("role", member.role))
            elif action == "remove":
                member = remove_staff(session, staff_id, _owner_email())
                done = say("said.removed", name=member.name)
            else:
                abort(400, description=say("said.role_or_remove"))
    except StaffError as refused:
        return _page(str(refused), 422)
    flash(done)
    return redirect(url_for("staff_pages.staff_list"), 303)


@staff_pages.get("/audit")
@roles_required()
def audit() -> Any:
    with _database().transaction() as session:
        entries = list(
            session.execute(
                select(AuditEntry).order_by(AuditEntry.id.desc()).limit(AUDIT_PAGE)
            ).scalars()
        )
        return render_template("tickets/audit.html", entries=entries)
