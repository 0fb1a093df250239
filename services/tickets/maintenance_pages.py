"""The desk's page for maintenance windows (P-EMPATHY): the windows coming up and those just
over with the customers each affects, scheduling one on the company's clock, calling one
off. Agents and the owner, as in the REST API; notify does the telling."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, url_for
from sqlalchemy import select

from services.tickets import maintenance
from services.tickets.clocks import DEFAULT_CALENDAR, aware
from services.tickets.forms import LOCAL_MINUTE, MaintenanceForm
from services.tickets.lifecycle import NotFound, TicketError, now
from services.tickets.models import CustomerReplica, MaintenanceWindow, StaffMember
from services.tickets.staff import acting_member
from services.tickets.staff_words import say, speak_on
from shared.db import Database
from shared.web import roles_required

maintenance_pages = Blueprint(
    "maintenance_pages", __name__, url_prefix="/desk", template_folder="templates"
)
speak_on(maintenance_pages)
RECENT_DAYS = 30
"""How long a window stays on the page once it is over."""


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def on_company_clock(moment: datetime | None) -> datetime | None:
    known = aware(moment)
    return known.astimezone(DEFAULT_CALENDAR.zone) if known is not None else None


def _shown(moment: datetime | None) -> str:
    local = on_company_clock(moment)
    return local.strftime("%d/%m/%Y %H:%M") if local is not None else ""


def _hours(period: timedelta) -> int:
    return int(period.total_seconds() // 3600)


def _page(
    form: MaintenanceForm,
    status: int = 200,
    error: str | None = None,
    short: bool = False,
    close: bool = False,
) -> Any:
    moment = now()
    with _database().transaction() as session:
        coming = maintenance.upcoming(session)
        past = maintenance.ended_since(session, moment - timedelta(days=RECENT_DAYS))
        customers = list(
            session.execute(select(CustomerReplica).order_by(CustomerReplica.name)).scalars()
        )
        known = {customer.customer_id: customer for customer in customers}
        windows = {
            window.id: {
                "customers": [
                    known.get(customer_id) or customer_id
                    for customer_id in maintenance.customers_of(window)
                ],
                "short": maintenance.short_notice(window.starts_at, window.scheduled_at),
                "started": (aware(window.starts_at) or moment) <= moment,
            }
            for window in coming + past
        }
        local_now = on_company_clock(moment)
        assert local_now is not None
        return render_template(
            "tickets/desk/maintenance.html",
            form=form,
            error=error,
            short=short,
            close=close,
            coming=coming,
            past=past,
            windows=windows,
            customers=customers,
            chosen=set(form.customer_ids.data or []),
            shown=_shown,
            zone=DEFAULT_CALENDAR.timezone,
            notice_hours=_hours(maintenance.notice_period()),
            reminder_hours=_hours(maintenance.REMINDER),
            now_local=local_now.strftime(LOCAL_MINUTE),
            recent_days=RECENT_DAYS,
        ), status


@maintenance_pages.get("/maintenance")
@roles_required("agent")
def maintenance_list() -> Any:
    return _page(MaintenanceForm())


@maintenance_pages.post("/maintenance")
@roles_required("agent")
def schedule() -> Any:
    form = MaintenanceForm()
    if not form.validate():
        return _page(form, 422)
    assert form.starts_at.data is not None and form.ends_at.data is not None
    starts_at = form.starts_at.data.replace(tzinfo=DEFAULT_CALENDAR.zone)
    ends_at = form.ends_at.data.replace(tzinfo=DEFAULT_CALENDAR.zone)
    if starts_at <= now():
        return _page(form, 422, say("said.maintenance_in_the_past"))
    short = maintenance.short_notice(starts_at)
    close = starts_at - now() <= maintenance.REMINDER
    if short and not form.short_notice_ok.data:
        return _page(form, 422, say("said.maintenance_confirm_short"), short=True, close=close)
    try:
        with _database().transaction() as session:
            member: StaffMember = acting_member(session, say("said.inactive"))
            window: MaintenanceWindow = maintenance.schedule(
                session,
                member,
                title=form.title.data or "",
                details=form.details.data or "",
                starts_at=starts_at,
                ends_at=ends_at,
                customer_ids=form.customer_ids.data or [],
            )
            title, count = window.title, len(maintenance.customers_of(window))
    except TicketError as refused:
        return _page(form, 422, str(refused), short=short, close=close)
    hours = _hours(maintenance.notice_period())
    flash(
        say("said.maintenance_scheduled_short", title=title, count=count, hours=hours)
        if short
        else say("said.maintenance_scheduled", title=title, count=count, hours=hours)
    )
    return redirect(url_for("maintenance_pages.maintenance_list"), 303)


@maintenance_pages.post("/maintenance/<int(max=2147483647):maintenance_id>/call-off")
@roles_required("agent")
def call_off(maintenance_id: int) -> Any:
    try:
        with _database().transaction() as session:
            member = acting_member(session, say("said.inactive"))
            title = maintenance.cancel(session, member, maintenance_id).title
    except NotFound:
        abort(404, description=say("said.no_maintenance", number=maintenance_id))
    except TicketError:
        flash(say("said.maintenance_already_off", number=maintenance_id))
    else:
        flash(say("said.maintenance_called_off", title=title))
    return redirect(url_for("maintenance_pages.maintenance_list"), 303)
