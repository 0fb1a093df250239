"""The owner's settings of the desk: SLA targets per priority (in business minutes),
escalation rules, canned replies; and each person's day: their tickets, the care tasks due,
referrals and running late."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from sqlalchemy import select

from services.tickets import canned, care, clocks
from services.tickets.escalation import ACTIONS, RuleDraft, save_rule
from services.tickets.lifecycle import TicketError
from services.tickets.models import (
    OPEN_STATUSES,
    CannedReply,
    CustomerReplica,
    EscalationRule,
    Message,
    StaffMember,
    Ticket,
)
from services.tickets.sla import PRIORITIES
from services.tickets.staff import acting_member
from services.tickets.staff_words import name_of, say, speak_on
from shared.db import Database
from shared.events.contracts import DEPARTMENTS, LANGUAGES, TICKET_PRIORITIES
from shared.web import roles_required

desk_settings = Blueprint(
    "desk_settings", __name__, url_prefix="/desk", template_folder="templates"
)
speak_on(desk_settings)
TARGETS = ("first_response_minutes", "next_response_minutes", "resolution_minutes")


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def _member(session: Any) -> StaffMember:
    return acting_member(session, say("said.inactive"))


def _settings_page(error: str | None = None, status: int = 200) -> Any:
    with _database().transaction() as session:
        return render_template(
            "tickets/desk/settings.html",
            targets=clocks.targets(session).to_mapping(),
            priorities=PRIORITIES,
            target_names=TARGETS,
            rules=list(
                session.execute(select(EscalationRule).order_by(EscalationRule.id)).scalars()
            ),
            canned=list(
                session.execute(
                    select(CannedReply).order_by(CannedReply.language, CannedReply.title)
                ).scalars()
            ),
            team=list(
                session.execute(
                    select(StaffMember)
                    .where(StaffMember.active.is_(True))
                    .order_by(StaffMember.name)
                ).scalars()
            ),
            departments=DEPARTMENTS,
            ticket_priorities=TICKET_PRIORITIES,
            statuses=OPEN_STATUSES,
            actions=ACTIONS,
            languages=LANGUAGES,
            placeholders=canned.PLACEHOLDERS,
            error=error,
        ), status


@desk_settings.get("/settings")
@roles_required()
def settings() -> Any:
    return _settings_page()


@desk_settings.post("/settings/targets")
@roles_required()
def save_targets() -> Any:
    mapping: dict[str, object] = {}
    for priority in PRIORITIES:
        values: dict[str, object] = {}
        for name in TARGETS:
            raw = request.form.get(f"{priority}:{name}", "").strip()
            if not raw.isdigit():
                target = name_of("target", name).replace("_", " ")
                return _settings_page(
                    say(
                        "said.whole_minutes", priority=name_of("priority", priority), target=target
                    ),
                    422,
                )
            values[name] = int(raw)
        mapping[priority] = values
    try:
        with _database().transaction() as session:
            clocks.save_targets(session, mapping)
    except ValueError as refused:
        return _settings_page(str(refused), 422)
    flash(say("said.targets_saved"))
    return redirect(url_for("desk_settings.settings"), 303)


@desk_settings.post("/settings/rules")
@roles_required()
def add_rule() -> Any:
    form = request.form
    actions = [a for a in form.getlist("actions") if a != "reassign"]
    if "reassign" in form.getlist("actions"):
        actions.append(f"reassign:{form.get('reassign_to', '')}")
    raw_minutes = form.get("after_minutes", "")
    try:
        if not raw_minutes.isdigit():
            raise TicketError(say("said.rule_minutes"))
        with _database().transaction() as session:
            save_rule(
                session,
                RuleDraft(
                    name=form.get("name", ""),
                    after_minutes=int(raw_minutes),
                    actions=actions,
                    department=form.get("department") or None,
                    priority=form.get("priority") or None,
                    status=form.get("status") or None,
                ),
            )
    except TicketError as refused:
        return _settings_page(str(refused), 422)
    flash(say("said.rule_added"))
    return redirect(url_for("desk_settings.settings"), 303)


@desk_settings.post("/settings/rules/<int:rule_id>/toggle")
@roles_required()
def toggle_rule(rule_id: int) -> Any:
    with _database().transaction() as session:
        rule = session.get(EscalationRule, rule_id)
        if rule is None:
            abort(404, description=say("said.no_rule", number=rule_id))
        rule.active = not rule.active
    return redirect(url_for("desk_settings.settings"), 303)


@desk_settings.post("/settings/canned")
@roles_required()
def add_canned() -> Any:
    form = request.form
    try:
        with _database().transaction() as session:
            canned.save(
                session, form.get("title", ""), form.get("language", ""), form.get("body", "")
            )
    except TicketError as refused:
        return _settings_page(str(refused), 422)
    flash(say("said.canned_saved"))
    return redirect(url_for("desk_settings.settings"), 303)


# -- each person's day ---------------------------------------------------------------------


def _my_day_page(error: str | None = None, status: int = 200) -> Any:
    with _database().transaction() as session:
        member = _member(session)
        today = clocks.company_date()
        mine = list(
            session.execute(
                select(Ticket)
                .where(Ticket.assignee_id == member.id, Ticket.status.in_(OPEN_STATUSES))
                .order_by(Ticket.emergency.desc(), Ticket.next_due_at.asc().nulls_last())
            ).scalars()
        )
        returned = list(
            session.execute(
                select(Message).where(Message.staff_id == member.id, Message.state == "returned")
            ).scalars()
        )
        return render_template(
            "tickets/desk/my_day.html",
            tasks=care.my_day(session, member, today),
            tickets=mine,
            states=clocks.states(session, mine),
            returned=returned,
            customers=list(
                session.execute(select(CustomerReplica).order_by(CustomerReplica.name)).scalars()
            ),
            names=dict(
                session.execute(select(CustomerReplica.customer_id, CustomerReplica.name)).all()
            ),
            error=error,
        ), status


@desk_settings.get("/my-day")
@roles_required("agent", "billing", "trainee")
def my_day() -> Any:
    return _my_day_page()


def _care_action(action: Any, done: str) -> Any:
    try:
        with _database().transaction() as session:
            action(session, _member(session))
    except TicketError as refused:
        return _my_day_page(str(refused), 422)
    flash(done)
    return redirect(url_for("desk_settings.my_day"), 303)


def _customer_id() -> int:
    raw = request.form.get("customer_id", "")
    if not raw.isdigit():
        raise TicketError(say("said.choose_customer"))
    return int(raw)


@desk_settings.post("/my-day/tasks/<int:task_id>/done")
@roles_required("agent", "billing", "trainee")
def task_done(task_id: int) -> Any:
    note = request.form.get("note")
    return _care_action(lambda s, m: care.complete(s, task_id, m, note), say("said.done"))


@desk_settings.post("/my-day/referral")
@roles_required("agent", "billing", "trainee")
def referral() -> Any:
    referred = request.form.get("referred", "")
    return _care_action(
        lambda s, m: care.record_referral(s, _customer_id(), referred, m),
        say("said.referral"),
    )


@desk_settings.post("/my-day/late")
@roles_required("agent", "billing", "trainee")
def late() -> Any:
    raw = request.form.get("minutes", "")
    minutes = int(raw) if raw.isdigit() else 0
    return _care_action(
        lambda s, m: care.running_late(s, _customer_id(), minutes, m),
        say("said.late"),
    )
