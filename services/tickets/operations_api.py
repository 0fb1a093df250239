"""The REST API of the desk's other actions (the pages' every action exists here too):

- on a ticket: ask billing to reactivate (P-ONE-GRACE), record a cancellation request
  (P-EASE), merge it into another;
- the owner's settings: SLA targets, escalation rules, canned replies (read by all staff);
- care: each person's day, a task done, a referral, running late;
- the team (owner): add someone (a password link is emailed), change a role, remove;
- maintenance windows (P-EMPATHY): scheduled with the customers they affect, announced
  to them by notify, called off.
"""

from __future__ import annotations

from typing import Any

from flask import abort, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets import (
    billing_requests,
    canned,
    care,
    clocks,
    lifecycle,
    maintenance,
    replying,
)
from services.tickets.escalation import RuleDraft, save_rule
from services.tickets.lifecycle import NotFound, TicketError
from services.tickets.models import CannedReply, EscalationRule, StaffMember
from services.tickets.staff import (
    StaffError,
    acting_member,
    change_role,
    invite_staff,
    remove_staff,
)
from shared.config import Settings
from shared.db import Database
from shared.events.contracts import DEPARTMENTS, LANGUAGES, TICKET_PRIORITIES
from shared.web.api import UtcDateTime, staff_blueprint
from shared.web.auth import ROLES

TICKET = "/<int(max=2147483647):ticket_id>"


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def _member(session: Session, *, owner: bool = False) -> StaffMember:
    member = acting_member(session)
    if owner and member.role != "owner":
        abort(403, description="Only the owner can change this.")
    return member


def _blueprint(name: str, prefix: str, description: str) -> Blueprint:
    return staff_blueprint(
        name,
        __name__,
        prefix,
        description,
        roles=("agent", "billing", "trainee"),
        refusals={NotFound: 404, TicketError: 422, StaffError: 422},
    )


ticket_actions = _blueprint("ticket_actions", "/api/tickets", "Requests to billing, merging")
desk_setup = _blueprint("desk_setup", "/api/settings", "The owner's settings of the desk")
care_api = _blueprint("care_api", "/api/care", "Care of managed customers")
team_api = _blueprint("team_api", "/api/staff", "The team")
maintenance_api = _blueprint(
    "maintenance_api", "/api/maintenance", "Maintenance windows announced to the customers"
)


class ReactivationIn(Schema):
    pay_by = fields.Date(required=True)
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))


class CancellationIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    offer_made = fields.String(allow_none=True, load_default=None)
    outcome = fields.String(required=True, validate=validate.OneOf(billing_requests.OUTCOMES))
    at_period_end = fields.Boolean(load_default=True)


class MergeIn(Schema):
    into = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))


class Done(Schema):
    ok = fields.Boolean()
    detail = fields.String()


@ticket_actions.route(f"{TICKET}/reactivation", methods=["POST"])
@ticket_actions.arguments(ReactivationIn)
@ticket_actions.response(202, Done)
def request_reactivation(data: dict[str, Any], ticket_id: int) -> Any:
    """Ask billing for the one grace until the customer's date; billing answers by event."""
    with _database().transaction() as session:
        member = _member(session)
        if member.role == "trainee":
            abort(403, description="Requests to billing are for agents, billing and the owner.")
        ticket = lifecycle.get_ticket(session, ticket_id)
        billing_requests.request_reactivation(session, ticket, member, data["pay_by"], data["note"])
    return {"ok": True, "detail": "asked billing; its answer appears on the ticket"}


@ticket_actions.route(f"{TICKET}/cancellation", methods=["POST"])
@ticket_actions.arguments(CancellationIn)
@ticket_actions.response(202, Done)
def record_cancellation(data: dict[str, Any], ticket_id: int) -> Any:
    with _database().transaction() as session:
        member = _member(session)
        if member.role == "trainee":
            abort(403, description="Requests to billing are for agents, billing and the owner.")
        ticket = lifecycle.get_ticket(session, ticket_id)
        billing_requests.record_cancellation(session, ticket, member, **data)
    return {"ok": True, "detail": f"recorded: the customer {data['outcome']}"}


@ticket_actions.route(f"{TICKET}/merge", methods=["POST"])
@ticket_actions.arguments(MergeIn)
@ticket_actions.response(200, Done)
def merge(data: dict[str, Any], ticket_id: int) -> Any:
    with _database().transaction() as session:
        member = _member(session)
        lifecycle.merge(
            session,
            lifecycle.get_ticket(session, ticket_id),
            lifecycle.get_ticket(session, data["into"]),
            member.email,
        )
    return {"ok": True, "detail": f"merged into #{data['into']}"}


# -- settings ---------------------------------------------------------------------------------


class RuleIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    after_minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1))
    actions = fields.List(fields.String(), required=True, validate=validate.Length(min=1))
    department = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf(DEPARTMENTS)
    )
    priority = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf(TICKET_PRIORITIES)
    )
    status = fields.String(allow_none=True, load_default=None)


class RuleOut(Schema):
    id = fields.Integer()
    name = fields.String()
    after_minutes = fields.Integer()
    actions = fields.Function(lambda rule: rule.actions.split(","))
    department = fields.String(allow_none=True)
    priority = fields.String(allow_none=True)
    status = fields.String(allow_none=True)
    active = fields.Boolean()


class CannedIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=120))
    language = fields.String(required=True, validate=validate.OneOf(LANGUAGES))
    body = fields.String(required=True, validate=validate.Length(min=1, max=20_000))


class CannedOut(CannedIn):
    id = fields.Integer()


@desk_setup.route("/sla-targets", methods=["GET"])
def get_targets() -> Any:
    with _database().transaction() as session:
        return clocks.targets(session).to_mapping()


@desk_setup.route("/sla-targets", methods=["PUT"])
@desk_setup.arguments(Schema.from_dict({}, name="TargetsIn")(unknown="include"), location="json")
def put_targets(data: dict[str, Any]) -> Any:
    """Per priority: first_response_minutes, next_response_minutes, resolution_minutes."""
    with _database().transaction() as session:
        _member(session, owner=True)
        try:
            return clocks.save_targets(session, data).to_mapping()
        except ValueError as refused:
            raise TicketError(str(refused)) from None


@desk_setup.route("/escalation-rules", methods=["GET"])
@desk_setup.response(200, RuleOut(many=True))
def list_rules() -> Any:
    with _database().transaction() as session:
        return list(session.execute(select(EscalationRule).order_by(EscalationRule.id)).scalars())


@desk_setup.route("/escalation-rules", methods=["POST"])
@desk_setup.arguments(RuleIn)
@desk_setup.response(201, RuleOut)
def add_rule(data: dict[str, Any]) -> Any:
    with _database().transaction() as session:
        _member(session, owner=True)
        return save_rule(session, RuleDraft(**data))


@desk_setup.route("/canned-replies", methods=["GET"])
@desk_setup.response(200, CannedOut(many=True))
def list_canned() -> Any:
    with _database().transaction() as session:
        return list(session.execute(select(CannedReply).order_by(CannedReply.title)).scalars())


@desk_setup.route("/canned-replies", methods=["POST"])
@desk_setup.arguments(CannedIn)
@desk_setup.response(201, CannedOut)
def add_canned(data: dict[str, Any]) -> Any:
    with _database().transaction() as session:
        _member(session, owner=True)
        return canned.save(session, data["title"], data["language"], data["body"])


# -- care ---------------------------------------------------------------------------------------


class TaskOut(Schema):
    id = fields.Integer()
    customer_id = fields.Integer(allow_none=True)
    kind = fields.String()
    title = fields.String()
    due_on = fields.Date()
    assignee_id = fields.Integer(allow_none=True)
    done_at = fields.DateTime(allow_none=True)
    note = fields.String(allow_none=True)


class NoteIn(Schema):
    note = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=2000))


class ReferralIn(Schema):
    customer_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    referred = fields.String(required=True, validate=validate.Length(min=1, max=200))


class LateIn(Schema):
    customer_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    minutes = fields.Integer(required=True, strict=True, validate=validate.Range(min=1, max=240))


@care_api.route("/my-day", methods=["GET"])
@care_api.response(200, TaskOut(many=True))
def my_day() -> Any:
    with _database().transaction() as session:
        member = _member(session)
        return care.my_day(session, member, clocks.company_date())


@care_api.route("/tasks/<int(max=2147483647):task_id>/done", methods=["POST"])
@care_api.arguments(NoteIn)
@care_api.response(200, TaskOut)
def task_done(data: dict[str, Any], task_id: int) -> Any:
    with _database().transaction() as session:
        return care.complete(session, task_id, _member(session), data["note"])


@care_api.route("/referrals", methods=["POST"])
@care_api.arguments(ReferralIn)
@care_api.response(201, TaskOut)
def referral(data: dict[str, Any]) -> Any:
    with _database().transaction() as session:
        return care.record_referral(
            session, data["customer_id"], data["referred"], _member(session)
        )


@care_api.route("/running-late", methods=["POST"])
@care_api.arguments(LateIn)
@care_api.response(201, TaskOut)
def running_late(data: dict[str, Any]) -> Any:
    with _database().transaction() as session:
        return care.running_late(session, data["customer_id"], data["minutes"], _member(session))


# -- the team -------------------------------------------------------------------------------------


class StaffIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class RoleIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(ROLES))


class TeamMemberOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    role = fields.String()
    active = fields.Boolean()


class TeamListOut(TeamMemberOut):
    replies_held = fields.Integer(
        metadata={"description": "the share of the person's replies held for the owner's review"}
    )


@team_api.route("", methods=["GET"])
@team_api.response(200, TeamListOut(many=True))
def team() -> Any:
    """Everyone on the team, with the share of their replies training has the desk hold."""
    with _database().transaction() as session:
        members = session.execute(select(StaffMember).order_by(StaffMember.name)).scalars()
        return [
            {**TeamMemberOut().dump(member), "replies_held": replying.share_held(session, member)}
            for member in members
        ]


@team_api.route("", methods=["POST"])
@team_api.arguments(StaffIn)
@team_api.response(201, TeamMemberOut)
def add_member(data: dict[str, Any]) -> Any:
    settings: Settings = current_app.extensions["cortesia.settings"]
    with _database().transaction() as session:
        owner = _member(session, owner=True)
        return invite_staff(
            session, data["name"], data["email"], data["role"], owner.email, settings.public_url
        )


@team_api.route("/<int(max=2147483647):staff_id>/role", methods=["PUT"])
@team_api.arguments(RoleIn)
@team_api.response(200, TeamMemberOut)
def put_role(data: dict[str, Any], staff_id: int) -> Any:
    with _database().transaction() as session:
        owner = _member(session, owner=True)
        return change_role(session, staff_id, data["role"], owner.email)


@team_api.route("/<int(max=2147483647):staff_id>", methods=["DELETE"])
@team_api.response(200, TeamMemberOut)
def delete_member(staff_id: int) -> Any:
    with _database().transaction() as session:
        owner = _member(session, owner=True)
        return remove_staff(session, staff_id, owner.email)


# -- maintenance windows ------------------------------------------------------------------


class MaintenanceIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=200))
    details = fields.String(load_default="", validate=validate.Length(max=5000))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    customer_ids = fields.List(
        fields.Integer(validate=validate.Range(min=1, max=2**31 - 1)),
        required=True,
        validate=validate.Length(min=1, max=10_000),
    )


class MaintenanceOut(Schema):
    id = fields.Integer()
    title = fields.String()
    details = fields.String()
    starts_at = UtcDateTime()
    ends_at = UtcDateTime()
    customer_ids = fields.Function(maintenance.customers_of)
    scheduled_by = fields.String()
    scheduled_at = UtcDateTime()
    cancelled_at = UtcDateTime(allow_none=True)


def _scheduler(session: Session) -> StaffMember:
    member = _member(session)
    if member.role not in ("owner", "agent"):
        abort(403, description="Maintenance windows are scheduled by agents and the owner.")
    return member


@maintenance_api.route("", methods=["GET"])
@maintenance_api.response(200, MaintenanceOut(many=True))
def upcoming_maintenance() -> Any:
    """Windows not over yet, soonest first."""
    with _database().transaction() as session:
        return maintenance.upcoming(session)


@maintenance_api.route("", methods=["POST"])
@maintenance_api.arguments(MaintenanceIn)
@maintenance_api.response(201, MaintenanceOut)
def schedule_maintenance(data: dict[str, Any]) -> Any:
    """Schedule a window: notify announces it to each affected customer ahead and reminds
    them an hour before."""
    with _database().transaction() as session:
        return maintenance.schedule(session, _scheduler(session), **data)


@maintenance_api.route("/<int(max=2147483647):maintenance_id>", methods=["DELETE"])
@maintenance_api.response(200, MaintenanceOut)
def cancel_maintenance(maintenance_id: int) -> Any:
    """Call the window off: what notify has not sent yet is withdrawn."""
    with _database().transaction() as session:
        return maintenance.cancel(session, _scheduler(session), maintenance_id)


BLUEPRINTS = [ticket_actions, desk_setup, care_api, team_api, maintenance_api]
