"""Notify's staff pages: the delivery log (search, each message with its steps, send again),
the message templates with the owner's editor and live preview, staff duty hours, and in
embedded mode the local mailbox."""

from __future__ import annotations

import unicodedata
from datetime import date, time
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select

from services.notify import delivery_log, template_editing
from services.notify.catalogue import CHANNELS, LANGUAGES, UnknownKind, load_catalogue
from services.notify.config import NotifyConfig
from services.notify.models import STATUSES, DutySlot, StaffContact
from services.notify.staff_words import WEEKDAYS, say, speak_on
from services.notify.subscribers import current_config
from shared import clock
from shared.config import Settings
from shared.db import Database
from shared.web import current_staff, roles_required

pages = Blueprint("notify", __name__, template_folder="templates")
speak_on(pages)


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def _config() -> NotifyConfig:
    config: NotifyConfig = current_app.extensions["notify.config"]
    return config


def _staff_email() -> str:
    staff = current_staff()
    assert staff is not None
    return staff.email


def _date(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=say("said.bad_date", name=name))


# -- the delivery log --------------------------------------------------------------------


@pages.get("/")
@roles_required("agent", "billing")
def log_page() -> Any:
    status = request.args.get("status") or None
    if status is not None and status not in STATUSES:
        abort(400, description=say("said.bad_status", statuses=", ".join(STATUSES)))
    query = delivery_log.Search(
        text=request.args.get("q", ""),
        status=status,
        kind=request.args.get("kind") or None,
        customer_id=request.args.get("customer", type=int),
        since=_date("since"),
        until=_date("until"),
        timezone=_config().calendar.zone,
        page=max(1, request.args.get("page", 1, type=int)),
    )
    with _database().transaction() as session:
        rows, total = delivery_log.search(session, query)
        return render_template(
            "notify/log.html",
            rows=rows,
            total=total,
            query=query,
            statuses=STATUSES,
            kinds=[kind.kind for kind in load_catalogue().kinds()],
            page_size=delivery_log.PAGE_SIZE,
        )


@pages.get("/notifications/<int:notification_id>")
@roles_required("agent", "billing")
def notification_page(notification_id: int) -> Any:
    with _database().transaction() as session:
        try:
            notification = delivery_log.get(session, notification_id)
        except delivery_log.NotFound as missing:
            abort(404, description=str(missing))
        return render_template(
            "notify/notification.html",
            notification=notification,
            steps=delivery_log.steps(session, notification_id),
            retryable=notification.status in delivery_log.RETRYABLE,
        )


@pages.post("/notifications/<int:notification_id>/retry")
@roles_required("agent", "billing")
def retry(notification_id: int) -> Any:
    try:
        with _database().transaction() as session:
            delivery_log.retry(session, _config(), notification_id, _staff_email(), clock.now())
    except delivery_log.NotFound as missing:
        abort(404, description=str(missing))
    except delivery_log.LogError as refused:
        flash(str(refused))
    else:
        flash(say("said.queued"))
    return redirect(url_for("notify.notification_page", notification_id=notification_id), 303)


# -- templates -----------------------------------------------------------------------------


@pages.get("/templates")
@roles_required("agent", "billing")
def templates_page() -> Any:
    with _database().transaction() as session:
        return render_template(
            "notify/templates.html",
            kinds=load_catalogue().kinds(),
            edited=template_editing.edited(session),
            missing=template_editing.missing_translations(session),
        )


def _editor(kind: str, channel: str, language: str, **extra: Any) -> Any:
    try:
        message_kind = load_catalogue().kind(kind)
        with _database().transaction() as session:
            draft, is_edit = template_editing.current(session, kind, channel, language)
    except UnknownKind as unknown:
        abort(404, description=str(unknown.args[0]))
    except template_editing.EditError as refused:
        abort(404, description=str(refused))
    draft = extra.pop("draft", draft)
    preview = extra.pop("preview", None)
    if preview is None and "error" not in extra:
        try:
            preview = template_editing.preview(_config(), kind, channel, language, draft)
        except template_editing.EditError as refused:
            extra["error"] = str(refused)
    return render_template(
        "notify/template.html",
        kind=message_kind,
        channel=channel,
        language=language,
        draft=draft,
        is_edit=is_edit,
        preview=preview,
        languages=message_kind.languages,
        owner=(current_staff() is not None and current_staff().role == "owner"),  # type: ignore[union-attr]
        **extra,
    )


@pages.get("/templates/<kind>/<channel>/<language>")
@roles_required("agent", "billing")
def template_page(kind: str, channel: str, language: str) -> Any:
    return _editor(kind, channel, language)


def _draft_from(form: Any) -> template_editing.Draft:
    return template_editing.Draft(
        subject=form.get("subject"),
        text=form.get("text", ""),
        html=form.get("html") or None,
    )


@pages.post("/templates/<kind>/<channel>/<language>")
@roles_required()
def save_template(kind: str, channel: str, language: str) -> Any:
    draft = _draft_from(request.form)
    if request.form.get("action") == "revert":
        with _database().transaction() as session:
            template_editing.revert(session, kind, channel, language)
        flash(say("said.reverted"))
        return redirect(
            url_for("notify.template_page", kind=kind, channel=channel, language=language), 303
        )
    try:
        with _database().transaction() as session:
            template_editing.save(
                session, _config(), kind, channel, language, draft, _staff_email()
            )
    except UnknownKind as unknown:
        abort(404, description=str(unknown.args[0]))
    except template_editing.EditError as refused:
        return _editor(kind, channel, language, draft=draft, error=str(refused)), 422
    flash(say("said.saved"))
    return redirect(
        url_for("notify.template_page", kind=kind, channel=channel, language=language), 303
    )


@pages.post("/templates/<kind>/<channel>/<language>/preview")
@roles_required("agent", "billing")
def preview_template(kind: str, channel: str, language: str) -> Any:
    """The live preview: the draft in the form rendered on sample data, as JSON."""
    try:
        rendered = template_editing.preview(
            _config(), kind, channel, language, _draft_from(request.form)
        )
    except UnknownKind as unknown:
        return jsonify(error=str(unknown.args[0])), 404
    except template_editing.EditError as refused:
        return jsonify(error=str(refused)), 422
    return jsonify(subject=rendered.subject, text=rendered.text, html=rendered.html)


# -- duty hours ------------------------------------------------------------------------------


@pages.get("/duty")
@roles_required("agent", "billing")
def duty_page() -> Any:
    with _database().transaction() as session:
        staff = list(
            session.execute(
                select(StaffContact)
                .where(StaffContact.active.is_(True))
                .order_by(StaffContact.name)
            ).scalars()
        )
        slots: dict[int, list[DutySlot]] = {}
        for slot in session.execute(
            select(DutySlot).order_by(DutySlot.weekday, DutySlot.starts)
        ).scalars():
            slots.setdefault(slot.staff_id, []).append(slot)
        return render_template("notify/duty.html", staff=staff, slots=slots)


@pages.post("/duty/<int:staff_id>")
@roles_required()
def save_duty(staff_id: int) -> Any:
    phone = (request.form.get("phone") or "").strip() or None
    chat = (request.form.get("chat") or "").strip() or None
    try:
        slots = parse_slots(request.form.get("slots", ""))
        if phone and not (phone.startswith("+") and phone[1:].isdigit()):
            raise ValueError(say("said.phone"))
    except ValueError as refused:
        flash(str(refused))
        return redirect(url_for("notify.duty_page"), 303)
    with _database().transaction() as session:
        member = session.get(StaffContact, staff_id)
        if member is None:
            abort(404, description=say("said.no_staff", id=staff_id))
        member.phone, member.chat_handle = phone, chat
        replace_slots(session, staff_id, slots)
        name = member.name
    flash(say("said.duty_saved", name=name))
    return redirect(url_for("notify.duty_page"), 303)


def parse_slots(text: str) -> list[tuple[int, time, time]]:
    """``Mon 10:00-19:00`` (or ``Seg 10:00-19:00``) a line; an empty text means business
    hours."""
    slots = []
    for number, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        try:
            day, hours = line.split(maxsplit=1)
            starts, ends = (time.fromisoformat(part.strip()) for part in hours.split("-"))
            weekday = _weekday(day)
        except ValueError:
            raise ValueError(say("said.slot_form", number=number, line=repr(line))) from None
        if ends <= starts:
            raise ValueError(say("said.slot_order", number=number))
        slots.append((weekday, starts, ends))
    return slots


def _weekday(name: str) -> int:
    """Monday's 0, from a day's name in any of the staff's languages (``Sab`` for ``Sáb``
    too: not every keyboard writes the accent)."""
    wanted = _bare(name[:3])
    for names in WEEKDAYS.values():
        for weekday, day in enumerate(names):
            if _bare(day) == wanted:
                return weekday
    raise ValueError(name)


def _bare(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


def replace_slots(session: Any, staff_id: int, slots: list[tuple[int, time, time]]) -> None:
    for old in session.execute(select(DutySlot).where(DutySlot.staff_id == staff_id)).scalars():
        session.delete(old)
    for weekday, starts, ends in slots:
        session.add(DutySlot(staff_id=staff_id, weekday=weekday, starts=starts, ends=ends))


# -- the local mailbox (embedded mode) ---------------------------------------------------------


@pages.get("/mailbox")
@roles_required("agent", "billing")
def mailbox_page() -> Any:
    from services.notify.local_mail import kept_messages

    maildir = current_app.extensions.get("notify.maildir")
    if maildir is None:
        abort(404, description=say("said.no_mailbox"))
    return render_template("notify/mailbox.html", messages=kept_messages(maildir))


def init_views(app: Flask, settings: Settings) -> None:
    from services.notify import local_maildir, uses_local_mail
    from services.notify.api import init_api
    from services.notify.public import public

    app.extensions["notify.config"] = current_config()
    if uses_local_mail(settings):
        app.extensions["notify.maildir"] = local_maildir(settings)
    app.jinja_env.globals.update(
        CHANNELS=CHANNELS,
        LANGUAGES=LANGUAGES,
        has_local_mailbox="notify.maildir" in app.extensions,
    )
    app.register_blueprint(pages)
    app.register_blueprint(public)
    # Mail clients' one-click unsubscribe (RFC 8058) posts without a form, so without a
    # token; the link's own secret stands for it.
    app.extensions["csrf"].exempt("services.notify.public.unsubscribe")
    init_api(app)
