"""The playbook library pages: every lesson and script in force, each one's history and diffs;
the owner edits a playbook (each save a new version) and tunes the reply checker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy.orm import Session

from services.training import checking, versions
from services.training.checker import CHECK_KEYS
from services.training.checker.lexicon import SEVERITIES, LexiconError
from services.training.content import PlaybookError, without_answers
from services.training.portal import staff_language
from shared.db import Database
from shared.web import current_staff, roles_required

library = Blueprint("library", __name__, url_prefix="/playbooks", template_folder="templates")


@contextmanager
def _transaction() -> Iterator[Session]:
    database: Database = current_app.extensions["cortesia.database"]
    with database.transaction() as session:
        yield session


def _is_owner() -> bool:
    staff = current_staff()
    return staff is not None and staff.role == "owner"


@library.get("/")
@roles_required("agent", "billing", "trainee")
def index() -> Any:
    with _transaction() as session:
        playbooks = versions.all_current(session)
    lessons = sorted(
        (c for c in playbooks if c.playbook.kind == "lesson"),
        key=lambda c: (c.playbook.module or "", int(c.playbook.content.get("order", 0))),
    )
    scripts = [c for c in playbooks if c.playbook.kind == "script"]
    return render_template(
        "training/library.html", lessons=lessons, scripts=scripts, lang=staff_language()
    )


@library.get("/<playbook_id>")
@roles_required("agent", "billing", "trainee")
def playbook(playbook_id: str) -> Any:
    return _playbook_page(playbook_id)


def _playbook_page(playbook_id: str, draft: str | None = None, error: str | None = None) -> Any:
    with _transaction() as session:
        try:
            current = versions.current(session, playbook_id)
            history = versions.history(session, playbook_id)
        except versions.UnknownPlaybook as missing:
            abort(404, description=str(missing.args[0]))
    owner = _is_owner()
    # The source holds a lesson's quiz answers: only the owner, who edits it, gets it.
    return render_template(
        "training/playbook.html",
        current=current,
        content=(current.playbook if owner else without_answers(current.playbook)).content,
        history=history,
        draft=(current.source if draft is None else draft) if owner else None,
        error=error,
        owner=owner,
        lang=staff_language(),
    )


@library.post("/<playbook_id>")
@roles_required()
def edit(playbook_id: str) -> Any:
    source = request.form.get("source", "")
    note = request.form.get("note") or None
    try:
        with _transaction() as session:
            version = versions.publish_edit(session, playbook_id, source, _owner_email(), note)
    except versions.UnknownPlaybook as missing:
        abort(404, description=str(missing.args[0]))
    except PlaybookError as refused:
        return _playbook_page(playbook_id, draft=source, error=str(refused)), 422
    flash(f"Published version {version} of {playbook_id}.")
    return redirect(url_for("library.playbook", playbook_id=playbook_id), 303)


def _owner_email() -> str:
    staff = current_staff()
    assert staff is not None
    return staff.email


@library.get("/<playbook_id>/diff")
@roles_required("agent", "billing", "trainee")
def diff(playbook_id: str) -> Any:
    older = request.args.get("from", type=int)
    newer = request.args.get("to", type=int)
    if older is None or newer is None:
        abort(400, description="Say which versions to compare: ?from=1&to=2.")
    with _transaction() as session:
        try:
            kind = versions.current(session, playbook_id).playbook.kind
            text = versions.diff(session, playbook_id, older, newer)
        except versions.UnknownPlaybook as missing:
            abort(404, description=str(missing.args[0]))
    if kind == "lesson" and not _is_owner():
        abort(403, description="A lesson's changes show its quiz answers: the owner's only.")
    return render_template(
        "training/diff.html",
        playbook_id=playbook_id,
        older=older,
        newer=newer,
        lines=text.splitlines(),
        lang=staff_language(),
    )


@library.get("/checker")
@roles_required()
def checker_settings() -> Any:
    with _transaction() as session:
        lexicon = checking.lexicon(session)
    return render_template(
        "training/checker.html",
        checks=[(key, lexicon[key]) for key in CHECK_KEYS],
        severities=SEVERITIES,
        lang=staff_language(),
    )


@library.post("/checker/<check_key>")
@roles_required()
def tune(check_key: str) -> Any:
    change: dict[str, Any] = {"severity": request.form.get("severity", "")}
    phrases = {
        name.removeprefix("phrases:"): [w.strip() for w in value.splitlines() if w.strip()]
        for name, value in request.form.items()
        if name.startswith("phrases:")
    }
    if phrases:
        change["phrases"] = phrases
    try:
        with _transaction() as session:
            checking.save_overrides(session, check_key, change, _owner_email())
    except LexiconError as refused:
        flash(str(refused))
        return redirect(url_for("library.checker_settings"), 303)
    flash(f"{check_key} saved: every reply is checked with it from now on.")
    return redirect(url_for("library.checker_settings") + f"#{check_key}", 303)
