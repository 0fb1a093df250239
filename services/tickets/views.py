"""Sign-in, first-run owner setup, and the desk's front page."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for

from services.tickets.forms import LoginForm, OwnerSetupForm
from services.tickets.staff import (
    StaffError,
    TooManyAttempts,
    add_staff,
    audit,
    authenticate,
    check_sign_in_allowed,
    owner_exists,
    record_failed_sign_in,
    request_password_link,
    set_password_from_link,
)
from services.tickets.staff_words import say, speak_on
from shared.config import Settings
from shared.db import Database
from shared.logging import get_logger
from shared.web.auth import StaffIdentity, roles_required, sign_in, sign_out

bp = Blueprint("desk", __name__, template_folder="templates")
speak_on(bp)
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
    return redirect(url_for("desk_pages.queue"))


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    with _database().transaction() as session:
        if not owner_exists(session):
            return redirect(url_for("desk.setup"))
    form = LoginForm()
    error = None
    status = 200
    if form.validate_on_submit():
        email, address = form.email.data or "", request.remote_addr or "unknown"
        try:
            with _database().transaction() as session:
                check_sign_in_allowed(session, email, address)
                identity = authenticate(session, email, form.password.data or "")
                if identity is None:
                    record_failed_sign_in(session, email, address)
                else:
                    audit(session, identity.email, "signed_in", f"staff:{identity.id}", address)
        except TooManyAttempts as refused:
            log.info("staff.sign_in_throttled")
            return render_template("tickets/login.html", form=form, error=str(refused)), 429
        if identity is not None:
            sign_in(identity)
            log.info("staff.signed_in", staff_id=identity.id)
            return redirect(_safe_next(request.args.get("next")))
        log.info("staff.sign_in_refused")
        error = say("said.no_match")
        status = 401
    elif form.errors:
        status = 400
    return render_template("tickets/login.html", form=form, error=error), status


def _public_url() -> str:
    settings: Settings = current_app.extensions["cortesia.settings"]
    return settings.public_url


@bp.route("/password", methods=["GET", "POST"])
def forgotten_password() -> Any:
    """Ask for a link to set a new password; the answer is the same for any address."""
    sent = False
    if request.method == "POST":
        email = (request.form.get("email") or "").strip()
        if "@" not in email:
            return render_template(
                "tickets/password_request.html", error=say("said.give_email"), sent=False
            ), 400
        with _database().transaction() as session:
            request_password_link(session, email, _public_url())
        sent = True
    return render_template("tickets/password_request.html", error=None, sent=sent)


@bp.route("/password/<token>", methods=["GET", "POST"])
def set_password(token: str) -> Any:
    error = None
    if request.method == "POST":
        password = request.form.get("password") or ""
        if password != (request.form.get("confirm") or ""):
            error = say("said.passwords_differ")
        else:
            try:
                with _database().transaction() as session:
                    member = set_password_from_link(session, token, password)
                    identity = StaffIdentity(member.id, member.name, member.email, member.role)
            except StaffError as refused:
                error = str(refused)
            else:
                sign_in(identity)
                flash(say("said.password_set"))
                return redirect(url_for("desk.index"))
    return render_template("tickets/password_set.html", error=error), (422 if error else 200)


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
                title=say("said.setup_closed"),
                message=say("said.setup_closed_why"),
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
            flash(say("said.welcome", name=identity.name))
            return redirect(url_for("desk.index"))
    return render_template("tickets/setup.html", form=form), (400 if form.errors else 200)
