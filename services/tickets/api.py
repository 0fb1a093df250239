"""The desk's REST API under ``/api/``, described by OpenAPI at ``/api/openapi.json``.

- ``/api/tickets``: the queue, filtered and searched (staff see every ticket, a trainee
  too: they work the queue); staff open a ticket for a phone call or an integration; one
  ticket with its messages (internal notes and held or returned replies included), its
  history, the customer's context, the suggested script and the rating; the customer's
  message relayed by staff, internal notes, status, priority, assignment and tags.
- ``/api/tickets/<id>/check`` and ``/replies``: the reply checker's findings on a draft,
  and replying through it. A reply a blocking finding stops answers 422 with the findings
  (each one's why and lesson is the point: the desk shows them) and nothing is sent.
- ``/api/tickets/<id>/resolve``: P-RESOLVE, with the cause, fix and prevention.
- ``/api/reviews``: the replies held for review, approved (maybe edited) or returned with a
  comment, by the owner.

Errors are JSON ``{"error", "message"}`` (and ``"errors"`` per field): 404 for an unknown
ticket or reply, 422 for a change the desk refuses, 409 for a reply no longer waiting for
review, 403 for a review by anyone but the owner.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import Flask, abort, current_app, jsonify
from flask_smorest import Api, Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets import clocks, lifecycle, replying, resolution, review
from services.tickets.lifecycle import (
    EMERGENCIES,
    MAX_BODY,
    NewTicket,
    NotFound,
    TicketError,
    get_ticket,
    history,
)
from services.tickets.models import (
    OPEN_STATUSES,
    STATUSES,
    CustomerNote,
    CustomerReplica,
    DeliveryReplica,
    HistoryEntry,
    Message,
    Rating,
    StaffMember,
    SuggestedScript,
    Ticket,
)
from services.tickets.search import TicketSearch, search_tickets
from services.tickets.staff import acting_member
from shared.config import Settings
from shared.db import Database
from shared.events.contracts import DEPARTMENTS, LANGUAGES, TICKET_PRIORITIES
from shared.web import current_staff
from shared.web.api import Refusals, UtcDateTime, init_service_api, staff_blueprint

MAX_ID = 2**31 - 1
"""Ids fit PostgreSQL's integer columns; a larger one is simply not found."""
TICKET = f"/<int(max={MAX_ID}):ticket_id>"
REPLY = f"/<int(max={MAX_ID}):message_id>"
STAFF_CHANNELS = ("phone", "api")
"""How staff open a ticket: for a phone call, or on behalf of an integration."""
AFTER_REPLY = ("open", "waiting", "on_hold")
RECENT_DELIVERIES = 10
RECENT_NOTES = 20


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def _settings() -> Settings:
    settings: Settings = current_app.extensions["cortesia.settings"]
    return settings


def _staff_member(session: Session) -> StaffMember:
    return acting_member(session)


def _reviewer(session: Session) -> StaffMember:
    member = _staff_member(session)
    if member.role not in review.REVIEWER_ROLES:
        abort(403, description="Only the owner reviews held replies.")
    return member


# -- schemas ---------------------------------------------------------------------------

_ID = validate.Range(min=1, max=MAX_ID)


class QueueQuery(Schema):
    status = fields.String(
        load_default=None,
        validate=validate.OneOf(STATUSES),
        metadata={"description": f"``open`` means any of {', '.join(OPEN_STATUSES)}."},
    )
    department = fields.String(load_default=None, validate=validate.OneOf(DEPARTMENTS))
    priority = fields.String(load_default=None, validate=validate.OneOf(TICKET_PRIORITIES))
    assignee = fields.String(
        load_default=None,
        validate=validate.Regexp(
            r"^(me|none|[1-9][0-9]{0,8})$", error="An assignee is a staff id, me or none."
        ),
        metadata={"description": "A staff id, ``me`` or ``none`` (nobody assigned)."},
    )
    customer_id = fields.Integer(load_default=None, validate=_ID)
    q = fields.String(
        load_default="",
        validate=validate.Length(max=200),
        metadata={"description": "Words found in the subject, requester, reference or messages."},
    )
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class NewTicketIn(Schema):
    subject = fields.String(required=True, validate=validate.Length(min=1, max=300))
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    requester_email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    requester_name = fields.String(load_default="", validate=validate.Length(max=200))
    customer_id = fields.Integer(allow_none=True, load_default=None, strict=True, validate=_ID)
    department = fields.String(load_default="support", validate=validate.OneOf(DEPARTMENTS))
    priority = fields.String(load_default="normal", validate=validate.OneOf(TICKET_PRIORITIES))
    emergency_kind = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf(EMERGENCIES)
    )
    language = fields.String(allow_none=True, load_default=None, validate=validate.OneOf(LANGUAGES))
    channel = fields.String(load_default="phone", validate=validate.OneOf(STAFF_CHANNELS))


class TicketSummaryOut(Schema):
    id = fields.Integer()
    reference = fields.String()
    subject = fields.String()
    status = fields.String()
    priority = fields.String()
    department = fields.String()
    channel = fields.String()
    language = fields.String()
    emergency = fields.Boolean()
    emergency_kind = fields.String(allow_none=True)
    customer_id = fields.Integer(allow_none=True)
    requester_name = fields.String()
    requester_email = fields.String()
    assignee_id = fields.Integer(allow_none=True)
    tags = fields.Method("_tags")
    created_at = UtcDateTime()
    updated_at = UtcDateTime()
    first_response_at = UtcDateTime(allow_none=True)
    last_customer_message_at = UtcDateTime(allow_none=True)
    last_staff_reply_at = UtcDateTime(allow_none=True)
    resolved_at = UtcDateTime(allow_none=True)

    def _tags(self, ticket: Ticket) -> list[str]:
        return [tag for tag in ticket.tags.split(",") if tag]


class PageOut(Schema):
    total = fields.Integer()
    page = fields.Integer()
    tickets = fields.List(fields.Nested(TicketSummaryOut))


class FindingOut(Schema):
    check = fields.String()
    rule = fields.String()
    severity = fields.String()
    message = fields.String()
    why = fields.String()
    lesson = fields.String()
    evidence = fields.String()
    start = fields.Integer()
    end = fields.Integer()


class MessageOut(Schema):
    id = fields.Integer()
    ticket_id = fields.Integer()
    author = fields.String(metadata={"description": "customer, staff or system"})
    staff_id = fields.Integer(allow_none=True)
    staff_name = fields.String(allow_none=True)
    body = fields.String()
    internal = fields.Boolean(metadata={"description": "An internal note, never sent."})
    state = fields.String(metadata={"description": "sent, held (for review) or returned"})
    findings = fields.Method("_findings", metadata={"description": "The checker's, if checked."})
    override_note = fields.String(allow_none=True)
    review_comment = fields.String(allow_none=True)
    reviewed_by = fields.Integer(allow_none=True)
    created_at = UtcDateTime()

    def _findings(self, message: Message) -> list[dict[str, Any]]:
        findings: list[dict[str, Any]] = json.loads(message.findings) if message.findings else []
        return findings


@dataclass(frozen=True)
class _Authored:
    """A message with its staff author's name, for ``MessageOut``."""

    message: Message
    staff_name: str | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.message, name)


class HistoryOut(Schema):
    at = UtcDateTime()
    actor = fields.String()
    change = fields.String()
    detail = fields.String(allow_none=True)


class DeliveryOut(Schema):
    notification_id = fields.Integer()
    source_event_type = fields.String()
    channel = fields.String()
    status = fields.String()
    detail = fields.String(allow_none=True)
    at = UtcDateTime()


class CustomerNoteOut(Schema):
    id = fields.Integer()
    at = UtcDateTime()
    author = fields.String()
    body = fields.String()


class CustomerOut(Schema):
    customer_id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    language = fields.String()
    timezone = fields.String()
    managed = fields.Boolean()
    billing_status = fields.String()
    grace_used_on = fields.Date(allow_none=True)
    billing_note = fields.String(allow_none=True)
    deliveries = fields.List(fields.Nested(DeliveryOut))
    notes = fields.List(fields.Nested(CustomerNoteOut))


@dataclass(frozen=True)
class _Customer:
    """A customer's billing state with their recent deliveries and the desk's notes."""

    customer: CustomerReplica
    deliveries: list[DeliveryReplica]
    notes: list[CustomerNote]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.customer, name)


class ScriptOut(Schema):
    playbook_id = fields.String()
    situation = fields.String()
    version = fields.Integer()
    reason = fields.String()


class RatingOut(Schema):
    rating = fields.Integer()
    comment = fields.String(allow_none=True)
    rated_at = UtcDateTime()


class TicketOut(TicketSummaryOut):
    closed_at = UtcDateTime(allow_none=True)
    cause = fields.String(allow_none=True)
    fix = fields.String(allow_none=True)
    prevention = fields.String(allow_none=True)
    resolved_by = fields.Integer(allow_none=True)
    messages = fields.List(fields.Nested(MessageOut))
    history = fields.List(fields.Nested(HistoryOut))
    customer = fields.Nested(CustomerOut, allow_none=True)
    suggested_script = fields.Nested(ScriptOut, allow_none=True)
    rating = fields.Nested(RatingOut, allow_none=True)


@dataclass(frozen=True)
class _TicketView:
    """A ticket with everything its page shows, for ``TicketOut``."""

    ticket: Ticket
    messages: list[_Authored]
    history: list[HistoryEntry]
    customer: _Customer | None
    suggested_script: SuggestedScript | None
    rating: Rating | None

    def __getattr__(self, name: str) -> Any:
        return getattr(self.ticket, name)


class BodyIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))


class CheckIn(Schema):
    text = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    beyond_hosting = fields.Boolean(
        load_default=False,
        metadata={"description": "The customer asked for something beyond hosting."},
    )


class CheckOut(Schema):
    blocking = fields.Boolean()
    findings = fields.List(fields.Nested(FindingOut))


class ReplyIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=MAX_BODY))
    override_note = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=2000),
        metadata={"description": "The owner's reason to send over a blocking finding."},
    )
    beyond_hosting = fields.Boolean(load_default=False)
    then_status = fields.String(load_default="waiting", validate=validate.OneOf(AFTER_REPLY))


class ReplyOut(Schema):
    outcome = fields.String(metadata={"description": "sent, held (for review) or overridden"})
    findings = fields.List(fields.Nested(FindingOut))
    message = fields.Nested(MessageOut)


class RefusedReplyOut(Schema):
    error = fields.String()
    message = fields.String()
    findings = fields.List(fields.Nested(FindingOut))


class TicketPatchIn(Schema):
    status = fields.String(validate=validate.OneOf(STATUSES))
    priority = fields.String(validate=validate.OneOf(TICKET_PRIORITIES))
    assignee_id = fields.Integer(
        allow_none=True,
        strict=True,
        validate=_ID,
        metadata={"description": "null to leave the ticket to nobody."},
    )
    tags = fields.List(fields.String(), validate=validate.Length(max=50))


class ResolveIn(Schema):
    # Not required here: resolve() names every missing part with the rule (P-RESOLVE).
    cause = fields.String(load_default="", validate=validate.Length(max=MAX_BODY))
    fix = fields.String(load_default="", validate=validate.Length(max=MAX_BODY))
    prevention = fields.String(load_default="", validate=validate.Length(max=MAX_BODY))


class ApproveIn(Schema):
    body = fields.String(
        allow_none=True,
        load_default=None,
        validate=validate.Length(max=MAX_BODY),
        metadata={"description": "The reply as the owner edited it, if they did."},
    )


_SAY_WHAT_TO_CHANGE = "Say what to change when returning a reply."


class ReturnIn(Schema):
    comment = fields.String(
        required=True,
        validate=[validate.Length(max=5000), validate.Regexp(r"\s*\S", error=_SAY_WHAT_TO_CHANGE)],
        error_messages={"required": _SAY_WHAT_TO_CHANGE},
    )


class StaffOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    role = fields.String()


class HeldReplyOut(Schema):
    reply = fields.Nested(MessageOut)
    ticket = fields.Nested(TicketSummaryOut)
    author = fields.Nested(StaffOut)


# -- what a ticket's page shows --------------------------------------------------------


def _messages(session: Session, ticket: Ticket) -> list[_Authored]:
    rows = session.execute(
        select(Message, StaffMember.name)
        .outerjoin(StaffMember, StaffMember.id == Message.staff_id)
        .where(Message.ticket_id == ticket.id)
        .order_by(Message.created_at, Message.id)
    ).all()
    return [_Authored(message, name) for message, name in rows]


def _customer(session: Session, customer_id: int | None) -> _Customer | None:
    customer = session.get(CustomerReplica, customer_id) if customer_id is not None else None
    if customer is None:
        return None
    deliveries = session.execute(
        select(DeliveryReplica)
        .where(DeliveryReplica.customer_id == customer.customer_id)
        .order_by(DeliveryReplica.at.desc())
        .limit(RECENT_DELIVERIES)
    ).scalars()
    notes = session.execute(
        select(CustomerNote)
        .where(CustomerNote.customer_id == customer.customer_id)
        .order_by(CustomerNote.at.desc(), CustomerNote.id.desc())
        .limit(RECENT_NOTES)
    ).scalars()
    return _Customer(customer, list(deliveries), list(notes))


def _ticket_view(session: Session, ticket: Ticket) -> _TicketView:
    changes = session.execute(
        select(HistoryEntry)
        .where(HistoryEntry.ticket_id == ticket.id)
        .order_by(HistoryEntry.at, HistoryEntry.id)
    ).scalars()
    return _TicketView(
        ticket,
        _messages(session, ticket),
        list(changes),
        _customer(session, ticket.customer_id),
        session.get(SuggestedScript, ticket.id),
        session.get(Rating, ticket.id),
    )


# -- blueprints ------------------------------------------------------------------------


def _blueprint(name: str, url_prefix: str, description: str, refusals: Refusals) -> Blueprint:
    return staff_blueprint(
        name,
        __name__,
        url_prefix,
        description,
        roles=("agent", "billing", "trainee"),
        refusals=refusals,
    )


tickets_api = _blueprint(
    "tickets_api", "/api/tickets", "The desk's tickets", {NotFound: 404, TicketError: 422}
)
# Past the owner check and the comment's validation, a review refused is a reply that is
# no longer waiting for one.
reviews_api = _blueprint(
    "reviews_api", "/api/reviews", "Replies held for review", {NotFound: 404, TicketError: 409}
)


@tickets_api.route("", methods=["GET"])
@tickets_api.arguments(QueueQuery, location="query")
@tickets_api.response(200, PageOut)
def list_tickets(query: dict[str, Any]) -> Any:
    """The queue, newest first, 50 a page."""
    status, assignee = query["status"], query["assignee"]
    search = TicketSearch(
        text=query["q"],
        statuses=OPEN_STATUSES if status == "open" else (status,) if status else (),
        department=query["department"],
        priority=query["priority"],
        assignee_id=_assignee_id(assignee),
        unassigned=assignee == "none",
        customer_id=query["customer_id"],
        page=query["page"],
    )
    with _database().transaction() as session:
        tickets, total = search_tickets(session, search)
    return {"total": total, "page": query["page"], "tickets": tickets}


def _assignee_id(assignee: str | None) -> int | None:
    if assignee is None or assignee == "none":
        return None
    if assignee == "me":
        identity = current_staff()
        assert identity is not None, "the blueprint guard lets only signed-in staff through"
        return identity.id
    return int(assignee)


@tickets_api.route("", methods=["POST"])
@tickets_api.arguments(NewTicketIn)
@tickets_api.response(201, TicketOut)
def open_ticket(data: dict[str, Any]) -> Any:
    """Open a ticket for a customer on the phone, or from an integration."""
    with _database().transaction() as session:
        staff = _staff_member(session)
        ticket = lifecycle.open_ticket(session, NewTicket(**data), staff.email)
        return _ticket_view(session, ticket)


@tickets_api.route(TICKET, methods=["GET"])
@tickets_api.response(200, TicketOut)
def get_one(ticket_id: int) -> Any:
    """The ticket with its messages, history, the customer's context, script and rating."""
    with _database().transaction() as session:
        return _ticket_view(session, get_ticket(session, ticket_id))


@tickets_api.route(TICKET, methods=["PATCH"])
@tickets_api.arguments(TicketPatchIn)
@tickets_api.response(200, TicketOut)
def patch_ticket(data: dict[str, Any], ticket_id: int) -> Any:
    """Change any of status, priority, assignee and tags; all of them or none."""
    with _database().transaction() as session:
        actor = _staff_member(session).email
        ticket = get_ticket(session, ticket_id)
        if "assignee_id" in data:
            lifecycle.assign(session, ticket, data["assignee_id"], actor)
        if "priority" in data:
            lifecycle.set_priority(session, ticket, data["priority"], actor)
        if "tags" in data:
            lifecycle.set_tags(session, ticket, ",".join(data["tags"]), actor)
        if "status" in data:
            # Last: closing announces the ticket as the other changes left it.
            lifecycle.set_status(session, ticket, data["status"], actor)
        return _ticket_view(session, ticket)


@tickets_api.route(f"{TICKET}/messages", methods=["POST"])
@tickets_api.arguments(BodyIn)
@tickets_api.response(201, MessageOut)
def relay_customer_message(data: dict[str, Any], ticket_id: int) -> Any:
    """The customer's message as staff took it down (on the phone, say)."""
    with _database().transaction() as session:
        staff = _staff_member(session)
        ticket = get_ticket(session, ticket_id)
        message = lifecycle.customer_message(session, ticket, data["body"], staff.email)
        session.flush()
        history(session, ticket, staff.email, "relayed", f"message {message.id}")
        return _Authored(message, None)


@tickets_api.route(f"{TICKET}/notes", methods=["POST"])
@tickets_api.arguments(BodyIn)
@tickets_api.response(201, MessageOut)
def add_note(data: dict[str, Any], ticket_id: int) -> Any:
    """An internal note: staff see it, the customer never does."""
    with _database().transaction() as session:
        staff = _staff_member(session)
        note = lifecycle.add_note(session, get_ticket(session, ticket_id), staff, data["body"])
        session.flush()
        return _Authored(note, staff.name)


@tickets_api.route(f"{TICKET}/check", methods=["POST"])
@tickets_api.arguments(CheckIn)
@tickets_api.response(200, CheckOut)
def check_draft(data: dict[str, Any], ticket_id: int) -> Any:
    """The checker's findings on a draft, each with why and its lesson; nothing is sent."""
    with _database().transaction() as session:
        ticket = get_ticket(session, ticket_id)
        findings = replying.check(
            session, ticket, data["text"], beyond_hosting=data["beyond_hosting"]
        )
    blocking = any(finding["severity"] == "block" for finding in findings)
    return {"blocking": blocking, "findings": findings}


@tickets_api.route(f"{TICKET}/replies", methods=["POST"])
@tickets_api.arguments(ReplyIn)
@tickets_api.response(201, ReplyOut)
@tickets_api.alt_response(
    422,
    schema=RefusedReplyOut,
    description="Stopped by a blocking finding (or refused): nothing was sent.",
)
def post_reply(data: dict[str, Any], ticket_id: int) -> Any:
    """Reply through the checker: sent, held for review, or sent over a blocking finding
    with the owner's note (overridden)."""
    with _database().transaction() as session:
        staff = _staff_member(session)
        outcome = replying.reply(
            session,
            get_ticket(session, ticket_id),
            staff,
            data["body"],
            override_note=data["override_note"],
            beyond_hosting=data["beyond_hosting"],
            then_status=data["then_status"],
        )
    # A stopped reply still commits: training coaches on the attempt it announced.
    if outcome.outcome == "stopped":
        blocking = [finding for finding in outcome.findings if finding["severity"] == "block"]
        reasons = " ".join(finding["message"] for finding in blocking)
        body = RefusedReplyOut().dump(
            {
                "error": "refused",
                "message": f"The reply was not sent: {reasons}",
                "findings": outcome.findings,
            }
        )
        return jsonify(body), 422
    assert outcome.message is not None, "a reply not stopped is written"
    return {
        "outcome": outcome.outcome,
        "findings": outcome.findings,
        "message": _Authored(outcome.message, staff.name),
    }


@tickets_api.route(f"{TICKET}/resolve", methods=["POST"])
@tickets_api.arguments(ResolveIn)
@tickets_api.response(200, TicketOut)
def resolve(data: dict[str, Any], ticket_id: int) -> Any:
    """P-RESOLVE: what caused it, what fixed it and what keeps it from happening again. The
    customer gets the summary and the satisfaction survey."""
    with _database().transaction() as session:
        staff = _staff_member(session)
        ticket = get_ticket(session, ticket_id)
        resolution.resolve(
            session,
            ticket,
            staff,
            cause=data["cause"],
            fix=data["fix"],
            prevention=data["prevention"],
            survey_url=f"{_settings().public_url}/portal/tickets/{ticket.id}#rate",
            sla_outcome=clocks.resolution_outcome(session),
        )
        return _ticket_view(session, ticket)


@reviews_api.route("", methods=["GET"])
@reviews_api.response(200, HeldReplyOut(many=True))
def held_replies() -> Any:
    """Replies waiting for the owner's review, oldest first."""
    with _database().transaction() as session:
        _reviewer(session)
        return [
            {"reply": _Authored(message, author.name), "ticket": ticket, "author": author}
            for message, ticket, author in review.waiting(session)
        ]


@reviews_api.route(f"{REPLY}/approve", methods=["POST"])
@reviews_api.arguments(ApproveIn)
@reviews_api.response(200, MessageOut)
def approve(data: dict[str, Any], message_id: int) -> Any:
    """Send the held reply to the customer, as the owner edited it if they did."""
    with _database().transaction() as session:
        message = review.approve(session, message_id, _reviewer(session), data["body"])
        return _Authored(message, _author_name(session, message))


@reviews_api.route(f"{REPLY}/return", methods=["POST"])
@reviews_api.arguments(ReturnIn)
@reviews_api.response(200, MessageOut)
def return_reply(data: dict[str, Any], message_id: int) -> Any:
    """Give the held reply back to its author with what to change; nothing is sent."""
    with _database().transaction() as session:
        message = review.return_to_author(session, message_id, _reviewer(session), data["comment"])
        return _Authored(message, _author_name(session, message))


def _author_name(session: Session, message: Message) -> str | None:
    author = session.get(StaffMember, message.staff_id) if message.staff_id else None
    return author.name if author else None


def init_api(app: Flask) -> Api:
    from services.tickets.operations_api import BLUEPRINTS

    return init_service_api(app, "Cortesia tickets", [tickets_api, reviews_api, *BLUEPRINTS])
