"""From an event to the notifications it causes: which messages, to whom, on which
channels, in which language, and when.

- **Who.** Customer messages go to the customer the event is about (or, for a
  ticket from someone billing does not know, to the address they wrote from);
  a maintenance window to each affected customer, each their own message. Staff
  alerts go to the staff on duty, or to the people the alert concerns (the
  owner for a reply waiting for review, billing for an undelivered invoice).
- **Channels (P-CHANNELS).** Email, plus SMS and chat for customers who chose
  them (for the messages written for those channels). An urgent message goes on
  the fastest channel the recipient has (SMS, chat, then email; staff have SMS
  and chat for urgent alerts only), and on the next one if that fails.
- **When (P-HOURS).** Urgent messages go at once. The rest wait for the
  recipient's next business window: the company's hours and holidays, on the
  customer's clock; a staff alert, for someone on duty. A maintenance reminder
  goes an hour before the window, whatever the hour.
- **Words.** Rendered now, in the recipient's language (the owner's edits
  first): a template that fails parks the message with the reason, and a
  missing translation is recorded on the message.

Nothing is sent here: the dispatcher sends what is due. A notification is unique
per (event, kind, recipient, channel).

Every event notify hears passes through ``plan_events``, a batch of them at a time
(the subscriber hands it the events of a batch together), so it reads and writes
each table once for the whole batch, with plain statements rather than ORM objects,
whose tracking and flushing cost more than the statements themselves: the sources go
in with ``ON CONFLICT DO NOTHING`` (which tells a first delivery from a repeated
one), billing's descriptions refresh the customers' contacts in one read and one
write, the other contacts named are read at once, the notifications (with ids
reserved for them) and their log entries go in with one statement each, and the
owner's template edits are read once per transaction. A contact is read after the
batch's descriptions refreshed it: a message is written to the freshest contact
there is. It returns ``PlannedNotification`` records of what it wrote. ``write``,
for notify's own rarer messages (a fallback channel, a failure alert, a report),
keeps ORM objects, which its callers go on changing.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from marshmallow import EXCLUDE, Schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notify.catalogue import MessageKind, TemplateText, load_catalogue
from services.notify.config import NotifyConfig
from services.notify.directory import (
    Customer,
    Roster,
    remember_customer,
    remember_customers,
)
from services.notify.models import (
    CHANNELS,
    Base,
    CustomerContact,
    DeliveryLogEntry,
    Maintenance,
    Notification,
    SourceEvent,
    StaffContact,
    TemplateOverride,
)
from services.notify.rendering import Overrides, RenderFailure, render
from shared import clock
from shared.db import InsertIfNew, insert_rows, once_per_transaction, reserve_ids
from shared.events import REGISTRY

URGENT_KINDS = frozenset({"alert_emergency", "alert_sla_breached"})
TIMED_KINDS = frozenset({"maintenance_reminder"})
"""Sent at their own moment, outside business hours too."""
IMMEDIATE_KINDS = frozenset({"portal_sign_in", "staff_password_link", "running_late"})
"""Sent at once, any hour, without being urgent: someone is waiting for it right now."""
URGENT_ORDER = ("sms", "chat", "email")
"""An urgent message goes on the first of these the recipient has, then falls back."""

NotificationKey = tuple[str, str, str]
"""``(kind, recipient_key, channel)``: with the source event, what makes a notification."""


@dataclass(frozen=True)
class Addressee:
    key: str
    name: str
    customer_id: int | None
    languages: tuple[str, ...]
    timezone: str
    addresses: Mapping[str, str]
    """The channels this person can be reached on for this message, with the address."""
    token: str | None = None
    opted_out: bool = False
    staff: bool = False


@dataclass(frozen=True, slots=True)
class PlannedNotification:
    """A notification ``plan_event`` wrote, as it wrote it: the columns of its row, by the
    same names as ``Notification``'s. Read-only: to change the notification, load it
    (``session.get(Notification, planned.id)``)."""

    id: int
    source_event_id: str
    source_event_type: str
    kind: str
    recipient_key: str
    recipient_name: str
    customer_id: int | None
    channel: str
    address: str | None
    language: str
    fell_back_from: str | None
    urgent: bool
    status: str
    not_before: datetime
    attempts: int
    subject: str | None
    body_text: str | None
    body_html: str | None
    headers: str | None
    reason: str | None
    created_at: datetime


class Draft(NamedTuple):
    """A notification about to be written: its row's columns, and the detail of the first
    entry in its delivery log."""

    columns: dict[str, Any]
    detail: str | None


_NOTIFICATIONS = Base.metadata.tables["notifications"]
_DELIVERY_LOG = Base.metadata.tables["delivery_log"]
_SOURCE_EVENTS = Base.metadata.tables["source_events"]

_REMEMBER_SOURCE = InsertIfNew(_SOURCE_EVENTS, _SOURCE_EVENTS.c.event_id)


def overrides(session: Session) -> Overrides:
    edited = select(
        TemplateOverride.kind,
        TemplateOverride.channel,
        TemplateOverride.language,
        TemplateOverride.subject,
        TemplateOverride.text,
        TemplateOverride.html,
    )
    return {
        (row.kind, row.channel, row.language): TemplateText(row.subject, row.text, row.html)
        for row in session.execute(edited)
    }


def overrides_in_transaction(session: Session) -> Overrides:
    """``overrides``, read once per transaction. No event edits a template (the owner
    does, in a transaction of their own), so what the first event planned in a
    transaction read holds for every other one planned in it."""
    return once_per_transaction(session, "notify.planning.overrides", overrides)


def roster_in_transaction(session: Session) -> Roster:
    """The staff roster, read once per transaction: no event notify plans changes it
    (the directory's subscriber does, in transactions of its own)."""
    return once_per_transaction(session, "notify.planning.roster", Roster.read)


def log(session: Session, notification: Notification, status: str, detail: str | None) -> None:
    session.add(
        DeliveryLogEntry(
            notification_id=notification.id, at=clock.now(), status=status, detail=detail
        )
    )


@dataclass(frozen=True, slots=True)
class HeardEvent:
    """An event to plan notifications for."""

    event_type: str
    event_id: str
    payload: Mapping[str, Any]
    """The event's JSON form, kept for rendering again."""
    moment: datetime
    """When it happened: what decides whether its messages go now or wait."""
    data: Mapping[str, Any] | None = None
    """The payload loaded through the event's schema, when the caller has it."""


def plan_event(
    session: Session,
    config: NotifyConfig,
    event_type: str,
    event_id: str,
    payload: Mapping[str, Any],
    now: datetime,
    *,
    data: Mapping[str, Any] | None = None,
) -> list[PlannedNotification]:
    """``plan_events`` for one event."""
    return plan_events(session, config, [HeardEvent(event_type, event_id, payload, now, data)])


def plan_events(
    session: Session, config: NotifyConfig, events: Sequence[HeardEvent]
) -> list[PlannedNotification]:
    """Write the notifications the events cause (none twice), and return them in the
    events' order.

    The events are planned together, each table read and written once for all of them:
    the sources go in with one statement, billing's descriptions of customers refresh
    their contacts in one read and one write, the other contacts the events name are
    read at once, and every notification and log entry goes in with one more each."""
    datas = [
        load_payload(event.event_type, event.payload) if event.data is None else event.data
        for event in events
    ]
    firsts = remember_sources(session, events)
    described = _remember_described(session, datas)
    # Kept while planning: the session holds what it read only while it is referenced.
    named = _read_contacts(session, datas)
    edits = overrides_in_transaction(session)
    # A source heard for the first time has no notifications yet: only one heard again
    # (the bus re-delivered it) needs looking up. An event given twice shares its set.
    done: dict[str, set[NotificationKey]] = {}
    drafts: list[Draft] = []
    for event, data, first, contact in zip(events, datas, firsts, described, strict=True):
        if event.event_id not in done:
            done[event.event_id] = set() if first else written_for(session, event.event_id)
        drafts += _drafts_for_event(
            session, config, event, data, contact, edits, done[event.event_id]
        )
    written = _insert(session, drafts)
    del named  # planned: the contacts may go
    for event, data in zip(events, datas, strict=True):
        if event.event_type == "tickets.maintenance_scheduled.v1":
            session.merge(
                Maintenance(
                    maintenance_id=data["maintenance_id"],
                    event_id=event.event_id,
                    title=data["title"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    cancelled=False,
                )
            )
    return written


def _drafts_for_event(
    session: Session,
    config: NotifyConfig,
    event: HeardEvent,
    data: Mapping[str, Any],
    contact: Customer | None,
    edits: Overrides,
    done: set[NotificationKey],
) -> list[Draft]:
    """The drafts of the notifications one event causes, rendered."""
    now = event.moment
    drafts: list[Draft] = []
    for kind in load_catalogue().for_event(event.event_type):
        if not applies(kind.kind, data):
            continue
        if kind.kind == "maintenance_reminder" and (
            data["starts_at"] - config.maintenance_reminder <= now
        ):
            continue  # too close to remind: the announcement goes at once instead
        for addressee, moment in _addressees(session, config, kind, data, contact, now):
            drafts += _drafts(
                session,
                config,
                kind,
                addressee,
                data,
                event.event_id,
                event.event_type,
                moment,
                now,
                edits,
                done=done,
            )
    return drafts


def _describes_customer(data: Mapping[str, Any]) -> bool:
    """Billing's events describe the customer they are about (see ``_customers_for``)."""
    return "customer_name" in data and "customer_ids" not in data


def _remember_described(
    session: Session, datas: Sequence[Mapping[str, Any]]
) -> list[Customer | None]:
    """For each event, the contact of the customer it describes, refreshed from it."""
    describing = [data for data in datas if _describes_customer(data)]
    remembered = iter(remember_customers(session, describing))
    return [next(remembered) if _describes_customer(data) else None for data in datas]


def _read_contacts(session: Session, datas: Sequence[Mapping[str, Any]]) -> list[CustomerContact]:
    """Read the contacts of the customers the events name (and do not describe) in one
    statement, into the session, where looking one up by id finds it."""
    named: set[int] = set()
    for data in datas:
        if "customer_ids" in data:
            named.update(data["customer_ids"])
        elif data.get("customer_id") and not _describes_customer(data):
            named.add(data["customer_id"])
    if not named:
        return []
    query = select(CustomerContact).where(CustomerContact.customer_id.in_(sorted(named)))
    return list(session.execute(query).scalars())


def load_payload(event_type: str, payload: Mapping[str, Any]) -> dict[str, Any]:
    loaded: dict[str, Any] = _lenient_schema(event_type).load(payload)
    return loaded


@lru_cache(maxsize=128)
def _lenient_schema(event_type: str) -> Schema:
    # A schema instance holds no state between loads; building one costs more than a load.
    return REGISTRY.schema_for(event_type)(unknown=EXCLUDE)


def applies(kind: str, data: Mapping[str, Any]) -> bool:
    """Kinds written from the same event that exclude each other."""
    if kind == "alert_emergency":
        return bool(data.get("emergency"))
    if kind == "alert_new_ticket":
        return not data.get("emergency")
    if kind == "ticket_closed":
        return data.get("reason") == "inactive"
    return True


def urgent(kind: str, data: Mapping[str, Any]) -> bool:
    return kind in URGENT_KINDS or (
        kind in ("ticket_acknowledged", "staff_reply") and bool(data.get("emergency"))
    )


# -- who ----------------------------------------------------------------------------


def _addressees(
    session: Session,
    config: NotifyConfig,
    kind: MessageKind,
    data: Mapping[str, Any],
    contact: Customer | None,
    now: datetime,
) -> Iterable[tuple[Addressee, datetime]]:
    """Each addressee with the moment their message is due."""
    is_urgent = urgent(kind.kind, data)
    if kind.kind == "staff_password_link":
        # The event names its one recipient: the directory may not have heard of them yet.
        yield _address_only(config, data["email"], data["name"], data), now
        return
    if kind.audience == "staff":
        for member, moment in _staff_for(session, config, kind.kind, data, now, is_urgent):
            yield staff_addressee(config, member, kind, is_urgent), moment
        return
    for addressee in _customers_for(session, config, kind, data, contact):
        yield addressee, _customer_moment(config, kind.kind, data, addressee, now, is_urgent)


def _customers_for(
    session: Session,
    config: NotifyConfig,
    kind: MessageKind,
    data: Mapping[str, Any],
    described: Customer | None,
) -> Iterable[Addressee]:
    """The customers a message goes to; ``described``, the contact the event describes
    (``_remember_described``)."""
    if "customer_ids" in data:
        for customer_id in data["customer_ids"]:
            contact = session.get(CustomerContact, customer_id)
            yield (
                customer_addressee(contact, kind)
                if contact
                else _unknown_customer(config, customer_id)
            )
        return
    if _describes_customer(data):
        # Billing's events describe the customer: the freshest contact there is.
        yield customer_addressee(described or remember_customer(session, data), kind)
        return
    if data.get("email") and "requester_email" not in data:
        # A sign-in link goes to the address that asked for it, whoever billing has on
        # file: following it is what proves the address.
        yield _address_only(config, data["email"], data.get("name"), data)
        return
    contact = session.get(CustomerContact, data["customer_id"]) if data.get("customer_id") else None
    if contact is not None:
        yield customer_addressee(contact, kind)
    elif data.get("requester_email"):
        yield _address_only(config, data["requester_email"], data.get("requester_name"), data)
    else:
        yield _unknown_customer(config, data.get("customer_id"))


def _address_only(
    config: NotifyConfig, address: str, name: str | None, data: Mapping[str, Any]
) -> Addressee:
    """Someone known to notify by the address in the event alone, in its language."""
    return Addressee(
        key=f"email:{address.lower()}",
        name=name or "",
        customer_id=data.get("customer_id"),
        languages=_languages(data.get("language") or "pt-BR", None),
        timezone=config.calendar.timezone,
        addresses={"email": address},
    )


def _unknown_customer(config: NotifyConfig, customer_id: int | None) -> Addressee:
    return Addressee(
        key=f"customer:{customer_id}",
        name="",
        customer_id=customer_id,
        languages=("pt-BR",),
        timezone=config.calendar.timezone,
        addresses={},
    )


def _languages(first: str, second: str | None) -> tuple[str, ...]:
    return tuple(dict.fromkeys(language for language in (first, second, "en") if language))


def customer_addressee(contact: Customer, kind: MessageKind) -> Addressee:
    addresses: dict[str, str] = {}
    if contact.email:
        addresses["email"] = contact.email
    if contact.chose("sms") and contact.phone and "sms" in kind.channels:
        addresses["sms"] = contact.phone
    if contact.chose("chat") and contact.chat_handle and "chat" in kind.channels:
        addresses["chat"] = contact.chat_handle
    return Addressee(
        key=f"customer:{contact.customer_id}",
        name=contact.name,
        customer_id=contact.customer_id,
        languages=_languages(contact.language, contact.second_language),
        timezone=contact.timezone,
        addresses=addresses,
        token=contact.token,
        opted_out=contact.opted_out,
    )


def staff_addressee(
    config: NotifyConfig, member: StaffContact, kind: MessageKind, is_urgent: bool
) -> Addressee:
    addresses = {"email": member.email}
    if is_urgent and member.phone and "sms" in kind.channels:
        addresses["sms"] = member.phone
    if is_urgent and member.chat_handle and "chat" in kind.channels:
        addresses["chat"] = member.chat_handle
    return Addressee(
        key=f"staff:{member.staff_id}",
        name=member.name,
        customer_id=None,
        languages=_languages(member.language, None),
        timezone=config.calendar.timezone,
        addresses=addresses,
        staff=True,
    )


def _staff_for(
    session: Session,
    config: NotifyConfig,
    kind: str,
    data: Mapping[str, Any],
    now: datetime,
    is_urgent: bool,
) -> Iterable[tuple[StaffContact, datetime]]:
    calendar = config.calendar
    roster = roster_in_transaction(session)
    if kind == "alert_reply_awaiting_review":
        named = roster.with_roles(("owner",))
    elif kind in ("alert_invoice_undelivered",):
        named = roster.with_roles(("owner", "billing"))
    elif kind == "alert_delivery_failed":
        named = roster.with_roles(("owner",))
    elif kind in ("alert_sla_warning", "alert_sla_breached", "alert_escalation"):
        assignee = roster.member(data["assignee_id"]) if data.get("assignee_id") else None
        owners = roster.with_roles(("owner",)) if kind != "alert_sla_warning" else []
        named = [m for m in ([assignee] if assignee else []) + owners]
        if not named:
            named = roster.on_duty(now, calendar) or roster.with_roles(("owner",))
    else:
        # A new ticket, an emergency: whoever is on duty; at night, the emergency goes
        # to the owners at once, a routine ticket waits for the next opening.
        named = roster.on_duty(now, calendar)
        if not named and is_urgent:
            named = roster.with_roles(("owner",))
        elif not named:
            opening = calendar.next_opening(now)
            for member in roster.on_duty(opening, calendar):
                yield member, opening
            return
    moment = now if is_urgent or calendar.is_open(now) else calendar.next_opening(now)
    seen: set[int] = set()
    for member in named:
        if member.staff_id not in seen:
            seen.add(member.staff_id)
            yield member, moment


def _customer_moment(
    config: NotifyConfig,
    kind: str,
    data: Mapping[str, Any],
    addressee: Addressee,
    now: datetime,
    is_urgent: bool,
) -> datetime:
    if kind == "maintenance_reminder":
        return max(now, data["starts_at"] - config.maintenance_reminder)
    if is_urgent or kind in IMMEDIATE_KINDS:
        return now
    window = config.calendar_in(addressee.timezone).next_opening(now)
    if (
        kind == "maintenance_announcement"
        and window > data["starts_at"] - config.maintenance_notice
    ):
        # Waiting for office hours would cut the notice short: the notice wins.
        return now
    return window


# -- what ---------------------------------------------------------------------------


def context_for(
    config: NotifyConfig, addressee: Addressee, data: Mapping[str, Any], **extra: Any
) -> dict[str, Any]:
    portal = f"{config.public_url}/tickets"
    ticket_id = data.get("ticket_id")
    ticket_link = None
    if ticket_id is not None:
        ticket_link = (
            f"{portal}/desk/tickets/{ticket_id}"
            if addressee.staff
            else f"{portal}/portal/tickets/{ticket_id}"
        )
    token = addressee.token
    return {
        "recipient": {
            "name": addressee.name or None,
            "email": addressee.addresses.get("email"),
            "language": addressee.languages[0],
            "timezone": addressee.timezone,
        },
        "company": config.company,
        "data": data,
        "links": {
            "ticket": ticket_link,
            "survey": data.get("survey_url"),
            "preferences": f"{config.public_url}/notify/preferences/{token}" if token else None,
            "unsubscribe": f"{config.public_url}/notify/unsubscribe/{token}" if token else None,
        },
        **extra,
    }


def write(
    session: Session,
    config: NotifyConfig,
    kind: MessageKind,
    addressee: Addressee,
    data: Mapping[str, Any],
    source_event_id: str,
    source_event_type: str,
    moment: datetime,
    now: datetime,
    edits: Overrides,
    *,
    channels: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> list[Notification]:
    """One notification per channel the addressee is reachable on (or one parked email
    when they are reachable on none), none the source already has, as ORM objects in the
    session, each with its first log entry."""
    written: list[Notification] = []
    for draft in _drafts(
        session,
        config,
        kind,
        addressee,
        data,
        source_event_id,
        source_event_type,
        moment,
        now,
        edits,
        channels=channels,
        extra=extra,
        headers=headers,
    ):
        notification = Notification(**draft.columns)
        session.add(notification)
        session.flush()  # for its id, which the log entry needs
        log(session, notification, notification.status, draft.detail)
        written.append(notification)
    return written


def _drafts(
    session: Session,
    config: NotifyConfig,
    kind: MessageKind,
    addressee: Addressee,
    data: Mapping[str, Any],
    source_event_id: str,
    source_event_type: str,
    moment: datetime,
    now: datetime,
    edits: Overrides,
    *,
    channels: Sequence[str] | None = None,
    extra: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    done: set[NotificationKey] | None = None,
) -> list[Draft]:
    """The notifications ``write`` describes, rendered, not yet written. ``done`` holds
    what the source already has, for a caller drafting many (``written_for``): the new
    ones are added to it. Without it each one is looked up."""
    is_urgent = urgent(kind.kind, data) or kind.kind in TIMED_KINDS
    if channels is not None:
        wanted = [c for c in channels if c in addressee.addresses]
    elif is_urgent:
        # The fastest way to reach them; the next one if it fails (see the dispatcher).
        wanted = [c for c in URGENT_ORDER if c in addressee.addresses][:1]
    else:
        wanted = [c for c in CHANNELS if c in addressee.addresses]
    if not wanted:
        wanted = ["email"]
    drafts: list[Draft] = []
    context = context_for(config, addressee, data, **(extra or {}))
    for channel in wanted:
        key = (kind.kind, addressee.key, channel)
        if done is None:
            exists = session.execute(
                select(Notification.id).where(
                    Notification.source_event_id == source_event_id,
                    Notification.kind == kind.kind,
                    Notification.recipient_key == addressee.key,
                    Notification.channel == channel,
                )
            ).first()
            if exists is not None:
                continue
        elif key in done:
            continue
        else:
            done.add(key)
        # Every column a new row is written with; ``_fill`` settles the words and status.
        columns: dict[str, Any] = {
            "source_event_id": source_event_id,
            "source_event_type": source_event_type,
            "kind": kind.kind,
            "recipient_key": addressee.key,
            "recipient_name": addressee.name,
            "customer_id": addressee.customer_id,
            "channel": channel,
            "address": addressee.addresses.get(channel),
            "language": addressee.languages[0],
            "fell_back_from": None,
            "urgent": is_urgent,
            "status": "queued",
            "not_before": moment.astimezone(UTC),
            "attempts": 0,
            "subject": None,
            "body_text": None,
            "body_html": None,
            "headers": None,
            "reason": None,
            "created_at": now,
        }
        detail = _fill(config, columns, kind, addressee, context, edits, now, headers)
        drafts.append(Draft(columns, detail))
    return drafts


def _insert(session: Session, drafts: Sequence[Draft]) -> list[PlannedNotification]:
    """Write ``drafts`` and their first log entries, each table in one statement however
    many there are (COPY for many rows on PostgreSQL, see ``insert_rows``): the
    notifications' ids are reserved first, for the log entries to point at."""
    if not drafts:
        return []
    session.flush()  # a notification the session still holds takes its id before these
    ids = reserve_ids(session, _NOTIFICATIONS.name, len(drafts))
    insert_rows(
        session,
        _NOTIFICATIONS,
        [
            {"id": notification_id, **draft.columns}
            for notification_id, draft in zip(ids, drafts, strict=True)
        ],
    )
    logged_at = clock.now()
    insert_rows(
        session,
        _DELIVERY_LOG,
        [
            {
                "notification_id": notification_id,
                "at": logged_at,
                "status": draft.columns["status"],
                "detail": draft.detail,
            }
            for notification_id, draft in zip(ids, drafts, strict=True)
        ],
    )
    return [
        PlannedNotification(id=notification_id, **draft.columns)
        for notification_id, draft in zip(ids, drafts, strict=True)
    ]


def _fill(
    config: NotifyConfig,
    columns: dict[str, Any],
    kind: MessageKind,
    addressee: Addressee,
    context: Mapping[str, Any],
    edits: Overrides,
    now: datetime,
    extra_headers: Mapping[str, str] | None = None,
) -> str | None:
    """Render the words into a notification's ``columns`` and settle its status; returns
    the delivery log's detail."""
    channel = columns["channel"]
    if columns["address"] is None:
        reason = f"{addressee.name or addressee.key} has no address for {channel}"
        columns.update(status="parked", reason=reason)
        return reason
    if not kind.transactional and addressee.opted_out:
        reason = "the customer opted out of this kind of message"
        columns.update(status="skipped", reason=reason)
        return reason
    try:
        rendered = render(kind, channel, addressee.languages, context, edits)
    except RenderFailure as failure:
        columns.update(status="parked", reason=failure.reason)
        return failure.reason
    columns["language"] = rendered.language
    columns["fell_back_from"] = rendered.fell_back_from
    columns["subject"] = rendered.subject
    columns["body_text"] = rendered.text
    columns["body_html"] = rendered.html
    headers: dict[str, str] = dict(extra_headers or {})
    links = context["links"]
    if not kind.transactional and links.get("unsubscribe"):
        headers["List-Unsubscribe"] = f"<{links['unsubscribe']}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    columns["headers"] = json.dumps(headers) if headers else None
    details = []
    if rendered.fell_back_from:
        details.append(
            f"no {rendered.fell_back_from} text for {kind.kind} {channel}: "
            f"written in {rendered.language}"
        )
    not_before: datetime = columns["not_before"]
    if not_before > now + timedelta(seconds=1):
        columns["status"] = "held"
        local = not_before.astimezone(config.calendar_in(addressee.timezone).zone)
        details.append(f"held until {local.isoformat(timespec='minutes')} ({addressee.timezone})")
    else:
        columns["status"] = "queued"
    return "; ".join(details) or None


# -- written again ---------------------------------------------------------------------


def addressee_of(
    session: Session, config: NotifyConfig, notification: Notification
) -> Addressee | None:
    """The notification's recipient as they are now (None for a requester billing does
    not know, or someone no longer in the directory)."""
    kind = load_catalogue().kind(notification.kind)
    prefix, _, identifier = notification.recipient_key.partition(":")
    if prefix == "customer" and identifier.isdigit():
        contact = session.get(CustomerContact, int(identifier))
        return customer_addressee(contact, kind) if contact else None
    if prefix == "staff" and identifier.isdigit():
        member = session.get(StaffContact, int(identifier))
        return staff_addressee(config, member, kind, notification.urgent) if member else None
    return None


def remember_source(
    session: Session, event_id: str, event_type: str, payload: Mapping[str, Any]
) -> bool:
    """Keep what a notification was written from: an event's payload, or for notify's own
    messages (``event_type`` not on the bus) their context. True when it is new.

    Every notification's source is remembered before the notification is written, in the
    same transaction: a source that is new has no notifications yet. A source already
    kept stays as it was."""
    return _REMEMBER_SOURCE(session, _source(event_id, event_type, payload))


def remember_sources(session: Session, events: Sequence[HeardEvent]) -> list[bool]:
    """``remember_source`` for several events in one statement: for each, whether it is
    new (an event given twice is new the first time only)."""
    sources = [_source(event.event_id, event.event_type, event.payload) for event in events]
    return _REMEMBER_SOURCE.each(session, sources)


def _source(event_id: str, event_type: str, payload: Mapping[str, Any]) -> dict[str, str]:
    return {"event_id": event_id, "event_type": event_type, "payload": json.dumps(payload)}


def written_for(session: Session, source_event_id: str) -> set[NotificationKey]:
    """The notifications already written from a source, as ``(kind, recipient, channel)``."""
    rows = session.execute(
        select(Notification.kind, Notification.recipient_key, Notification.channel).where(
            Notification.source_event_id == source_event_id
        )
    )
    return {(row.kind, row.recipient_key, row.channel) for row in rows}


def source_of(
    session: Session, notification: Notification
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    """``(data, extra context)`` the notification was written from, or None if unknown."""
    source = session.get(SourceEvent, notification.source_event_id)
    if source is None:
        return None
    payload = json.loads(source.payload)
    if source.event_type in REGISTRY:
        return load_payload(source.event_type, payload), {}
    return {}, payload
