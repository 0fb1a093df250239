"""Notify's REST API under ``/api/``, described by OpenAPI at ``/api/openapi.json``.

- ``/api/notifications``: the delivery log, searchable; one notification with
  its steps; send again a failed or parked one.
- ``/api/templates``: every message kind with its channels and languages; the
  text in force for one (kind, channel, language); the owner saves an edit
  (refused while it does not render) or goes back to the catalogue's text;
  a preview of a draft on the kind's sample data.
- ``/api/customers/<id>/preferences``: a customer's channels, phone, chat
  handle, opt-out and second language.
- ``POST /api/reports/replies``: the inbound mail intake hands over a message
  (``message/rfc822``) sent to a report's reply address; it is announced as
  ``notify.report_reply_received.v1``.

Errors are JSON ``{"error", "message"}`` (and ``"errors"`` per field).
"""

from __future__ import annotations

from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

from flask import Flask, abort, current_app, jsonify, request
from flask_smorest import Api
from marshmallow import Schema, fields, validate

from services.notify import delivery_log, template_editing
from services.notify.catalogue import CHANNELS, LANGUAGES, UnknownKind, load_catalogue
from services.notify.config import NotifyConfig
from services.notify.directory import PreferenceError, set_preferences
from services.notify.models import STATUSES, CustomerContact, DeliveryLogEntry, Notification
from services.notify.public import cancel_optional
from services.notify.reports import ReplyError, receive_reply
from shared import clock
from shared.db import Database
from shared.web import current_staff
from shared.web.api import UtcDateTime, init_service_api, staff_blueprint


def _database() -> Database:
    database: Database = current_app.extensions["cortesia.database"]
    return database


def _config() -> NotifyConfig:
    config: NotifyConfig = current_app.extensions["notify.config"]
    return config


def _staff_email() -> str:
    staff = current_staff()
    assert staff is not None, "the blueprint guard lets only signed-in staff through"
    return staff.email


def _owner_only() -> None:
    staff = current_staff()
    if staff is None or staff.role != "owner":
        abort(403, description="Only the owner can change this.")


# -- schemas ---------------------------------------------------------------------------


class SearchIn(Schema):
    q = fields.String(load_default="")
    status = fields.String(load_default=None, validate=validate.OneOf(STATUSES))
    kind = fields.String(load_default=None)
    customer_id = fields.Integer(load_default=None)
    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)
    page = fields.Integer(load_default=1, validate=validate.Range(min=1))


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    source_event_id = fields.String()
    source_event_type = fields.String()
    recipient = fields.String(attribute="recipient_name")
    customer_id = fields.Integer(allow_none=True)
    channel = fields.String()
    address = fields.String(allow_none=True)
    language = fields.String()
    fell_back_from = fields.String(allow_none=True)
    urgent = fields.Boolean()
    status = fields.String()
    held_until = UtcDateTime(attribute="not_before")
    attempts = fields.Integer()
    subject = fields.String(allow_none=True)
    reason = fields.String(allow_none=True)
    created_at = UtcDateTime()
    sent_at = UtcDateTime(allow_none=True)


class StepOut(Schema):
    at = UtcDateTime()
    status = fields.String()
    detail = fields.String(allow_none=True)


class NotificationDetailOut(NotificationOut):
    text = fields.String(attribute="body_text", allow_none=True)
    html = fields.String(attribute="body_html", allow_none=True)
    steps = fields.List(fields.Nested(StepOut))


@dataclass(frozen=True)
class _Detail:
    """A notification with its delivery log steps, for ``NotificationDetailOut``."""

    notification: Notification
    steps: list[DeliveryLogEntry]

    def __getattr__(self, name: str) -> Any:
        return getattr(self.notification, name)


class PageOut(Schema):
    total = fields.Integer()
    page = fields.Integer()
    notifications = fields.List(fields.Nested(NotificationOut))


class KindOut(Schema):
    kind = fields.String()
    audience = fields.String()
    event = fields.String(allow_none=True)
    transactional = fields.Boolean()
    description = fields.String()
    channels = fields.List(fields.String())
    languages = fields.List(fields.String())


class DraftIn(Schema):
    subject = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=500))
    text = fields.String(required=True, validate=validate.Length(min=1, max=50_000))
    html = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=200_000))


class TemplateOut(Schema):
    kind = fields.String()
    channel = fields.String()
    language = fields.String()
    edited = fields.Boolean()
    subject = fields.String(allow_none=True)
    text = fields.String()
    html = fields.String(allow_none=True)


class PreviewOut(Schema):
    language = fields.String()
    subject = fields.String(allow_none=True)
    text = fields.String()
    html = fields.String(allow_none=True)


class PreferencesSchema(Schema):
    channels = fields.List(fields.String(validate=validate.OneOf(CHANNELS)), required=True)
    phone = fields.String(allow_none=True, load_default=None)
    chat_handle = fields.String(allow_none=True, load_default=None)
    opted_out = fields.Boolean(required=True)
    second_language = fields.String(
        allow_none=True, load_default=None, validate=validate.OneOf(LANGUAGES)
    )


def _blueprint(name: str, url_prefix: str, description: str) -> Any:
    return staff_blueprint(
        name,
        __name__,
        url_prefix,
        description,
        roles=("agent", "billing"),
        refusals={
            delivery_log.NotFound: 404,
            UnknownKind: 404,
            delivery_log.LogError: 409,
            template_editing.EditError: 422,
            PreferenceError: 422,
            ReplyError: 422,
        },
    )


notifications = _blueprint("notifications", "/api/notifications", "The delivery log")
templates = _blueprint("templates", "/api/templates", "Message templates")
customers = _blueprint("customers", "/api/customers", "Customers' channel preferences")
reports = _blueprint("reports", "/api/reports", "Replies to the periodic reports")


@notifications.route("", methods=["GET"])
@notifications.arguments(SearchIn, location="query")
@notifications.response(200, PageOut)
def search(query: dict[str, Any]) -> Any:
    """Newest first, 100 a page: by address, name, subject or source event id."""
    with _database().transaction() as session:
        rows, total = delivery_log.search(
            session,
            delivery_log.Search(
                text=query["q"],
                status=query["status"],
                kind=query["kind"],
                customer_id=query["customer_id"],
                since=query["since"],
                until=query["until"],
                timezone=_config().calendar.zone,
                page=query["page"],
            ),
        )
        return {"total": total, "page": query["page"], "notifications": rows}


@notifications.route("/<int:notification_id>", methods=["GET"])
@notifications.response(200, NotificationDetailOut)
def get_notification(notification_id: int) -> Any:
    with _database().transaction() as session:
        return _Detail(
            delivery_log.get(session, notification_id),
            delivery_log.steps(session, notification_id),
        )


@notifications.route("/<int:notification_id>/retry", methods=["POST"])
@notifications.response(200, NotificationOut)
def retry(notification_id: int) -> Any:
    """Send again a failed or parked notification, written afresh."""
    with _database().transaction() as session:
        notification = delivery_log.retry(
            session, _config(), notification_id, _staff_email(), clock.now()
        )
        return notification


@templates.route("", methods=["GET"])
@templates.response(200, KindOut(many=True))
def list_kinds() -> Any:
    return load_catalogue().kinds()


@templates.route("/<kind>/<channel>/<language>", methods=["GET"])
@templates.response(200, TemplateOut)
def get_template(kind: str, channel: str, language: str) -> Any:
    with _database().transaction() as session:
        draft, is_edit = template_editing.current(session, kind, channel, language)
    return _template_out(kind, channel, language, draft, is_edit)


def _template_out(
    kind: str, channel: str, language: str, draft: template_editing.Draft, is_edit: bool
) -> dict[str, Any]:
    return {
        "kind": kind,
        "channel": channel,
        "language": language,
        "edited": is_edit,
        "subject": draft.subject,
        "text": draft.text,
        "html": draft.html,
    }


@templates.route("/<kind>/<channel>/<language>", methods=["PUT"])
@templates.arguments(DraftIn)
@templates.response(200, TemplateOut)
def put_template(data: dict[str, Any], kind: str, channel: str, language: str) -> Any:
    """Save the owner's edit; refused (422, with the reason) while it does not render."""
    _owner_only()
    draft = template_editing.Draft(data["subject"], data["text"], data["html"])
    with _database().transaction() as session:
        template_editing.save(session, _config(), kind, channel, language, draft, _staff_email())
    return _template_out(kind, channel, language, draft, True)


@templates.route("/<kind>/<channel>/<language>", methods=["DELETE"])
@templates.response(204)
def delete_template(kind: str, channel: str, language: str) -> Any:
    """Back to the catalogue's text."""
    _owner_only()
    with _database().transaction() as session:
        template_editing.revert(session, kind, channel, language)
    return None


@templates.route("/<kind>/<channel>/<language>/preview", methods=["POST"])
@templates.arguments(DraftIn)
@templates.response(200, PreviewOut)
def preview(data: dict[str, Any], kind: str, channel: str, language: str) -> Any:
    """A draft rendered on the kind's sample data."""
    draft = template_editing.Draft(data["subject"], data["text"], data["html"])
    return template_editing.preview(_config(), kind, channel, language, draft)


def _contact(session: Any, customer_id: int) -> CustomerContact:
    contact = session.get(CustomerContact, customer_id)
    if contact is None:
        abort(404, description=f"No customer {customer_id} is known to notify.")
    return contact


def _preferences_out(contact: CustomerContact) -> dict[str, Any]:
    return {
        "channels": contact.channels.split(","),
        "phone": contact.phone,
        "chat_handle": contact.chat_handle,
        "opted_out": contact.opted_out,
        "second_language": contact.second_language,
    }


@customers.route("/<int:customer_id>/preferences", methods=["GET"])
@customers.response(200, PreferencesSchema)
def get_preferences(customer_id: int) -> Any:
    with _database().transaction() as session:
        return _preferences_out(_contact(session, customer_id))


@customers.route("/<int:customer_id>/preferences", methods=["PUT"])
@customers.arguments(PreferencesSchema)
@customers.response(200, PreferencesSchema)
def put_preferences(data: dict[str, Any], customer_id: int) -> Any:
    """Set on the customer's behalf (they asked on the phone, say)."""
    with _database().transaction() as session:
        contact = _contact(session, customer_id)
        set_preferences(contact, **data)
        if contact.opted_out:
            cancel_optional(session, customer_id, f"opted out, as {_staff_email()} recorded")
        return _preferences_out(contact)


MAX_REPLY_BYTES = 5 * 1024 * 1024


@reports.route("/replies", methods=["POST"])
def post_reply() -> Any:
    """A customer's answer to their report, as raw email (``message/rfc822``)."""
    raw = request.get_data(cache=False)
    if not raw.strip():
        abort(400, description="Send the email itself as the request body (message/rfc822).")
    if len(raw) > MAX_REPLY_BYTES:
        abort(413, description="The message is over 5 MiB.")
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    with _database().transaction() as session:
        customer_id = receive_reply(session, message, clock.now())
    return jsonify(customer_id=customer_id), 202


def init_api(app: Flask) -> Api:
    return init_service_api(app, "Cortesia notify", [notifications, templates, customers, reports])
