"""Sign-in, first-run owner setup, and the desk's front page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from services.tickets.forms import LoginForm, OwnerSetupForm
from services.tickets.staff import StaffError, add_staff, authenticate, owner_exists
from shared.db import Database
from shared.logging import get_logger
from shared.web.auth import StaffIdentity, current_staff, roles_required, sign_in, sign_out

bp = Blueprint("desk", __name__, template_folder="templates")
log = get_logger(__name__)


def _database() -> Database:
    return current_app.extensions["cortesia.database"]


def _safe_next(target: str | None) -> str:
    # Only same-origin paths: an open redirect would let a phishing link use our login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("desk.index")


@bp.get("/")
@roles_required("agent", "billing", "trainee")
def index() -> Any:
    return render_template("tickets/index.html", staff=current_staff())


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    with _database().transaction() as session:
        if not owner_exists(session):
            return redirect(url_for("desk.setup"))
    form = LoginForm()
    error = None
    if form.validate_on_submit():
        with _database().transaction() as session:
            identity = authenticate(session, form.email.data or "", form.password.data or "")
        if identity is not None:
            sign_in(identity)
            log.info("staff.signed_in", staff_id=identity.id)
            return redirect(_safe_next(request.args.get("next")))
        log.info("staff.sign_in_refused")
        error = "That email and password do not match an active account."
    status = 401 if error else (400 if form.errors else 200)
    return render_template("tickets/login.html", form=form, error=error), status


@bp.post("/logout")
def logout() -> Any:
    sign_out()
    return redirect(url_for("desk.login"))


@bp.route("/setup", methods=["GET", "POST"])
def setup() -> Any:
    """First run only: create the owner's account. Closed for good once an owner exists."""
    with _database().transaction() as session:
        if owner_exists(session):
            return render_template(
                "error.html",
                status=404,
                title="Setup is closed",
                message="This installation already has an owner. Sign in instead.",
            ), 404
    form = OwnerSetupForm()
    if form.validate_on_submit():
        try:
            with _database().transaction() as session:
                if owner_exists(session):  # re-checked under the write lock
                    return redirect(url_for("desk.login"))
                member = add_staff(
                    session,
                    form.name.data or "",
                    form.email.data or "",
                    "owner",
                    form.password.data or "",
                )
                identity = StaffIdentity(member.id, member.name, member.email, member.role)
        except StaffError as error:
            form.email.errors = [*form.email.errors, str(error)]
        else:
            sign_in(identity)
            flash(f"Welcome, {identity.name}. Your owner account is ready.")
            return redirect(url_for("desk.index"))
    return render_template("tickets/setup.html", form=form), (400 if form.errors else 200)
