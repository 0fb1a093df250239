"""P-REPORT: each managed customer's monthly report, and their replies to it.

Notify follows what happens on each account (tickets, maintenance windows, invoices, from
the desk's and billing's events). Early each month a report of the month before goes to
every managed customer, with room after each section for their own comments and ideas;
it is written once per customer and month, and waits for their business hours like any
routine message. The report's Reply-To carries the customer's secret, so their answer,
handed to ``receive_reply`` by the inbound mail intake, comes back as
``notify.report_reply_received.v1`` (the desk keeps it as a note on the customer).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, time, timedelta
from email.message import EmailMessage
from email.utils import getaddresses
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.notify.catalogue import load_catalogue
from services.notify.config import NotifyConfig
from services.notify.directory import customer_by_token
from services.notify.models import CustomerActivity, CustomerContact, Notification, SourceEvent
from services.notify.planning import customer_addressee, overrides, remember_source, write
from shared import clock
from shared.background import PeriodicJob
from shared.bus.outbox import record_event
from shared.bus.subscriber import ReceivedEvent, Subscriber
from shared.db import Database
from shared.logging import get_logger

activity = Subscriber("notify.activity")
log = get_logger(__name__)

REPORT_SOURCE = "notify:periodic_report"
REPLY_TOKEN = re.compile(r"\+report-([A-Za-z0-9_-]{20,64})@")
MESSAGE_ID = re.compile(r"<n(\d+)\.")


class ReplyError(ValueError):
    """An inbound message that is not a reply to a report; the message says why."""


# -- following each account ---------------------------------------------------------------


def _moment(event: ReceivedEvent) -> datetime:
    occurred = event.envelope.occurred_at
    return (occurred if occurred.tzinfo else occurred.replace(tzinfo=UTC)).astimezone(UTC)


def _track(
    session: Session, customer_id: int | None, kind: str, subject_id: int, **values: Any
) -> None:
    if customer_id is None:
        return
    row = session.execute(
        select(CustomerActivity).where(
            CustomerActivity.customer_id == customer_id,
            CustomerActivity.subject_kind == kind,
            CustomerActivity.subject_id == subject_id,
        )
    ).scalar_one_or_none()
    if row is None:
        row = CustomerActivity(customer_id=customer_id, subject_kind=kind, subject_id=subject_id)
        session.add(row)
        row.title, row.starts_at = values.pop("title", ""), values.pop("starts_at")
    else:
        values.pop("starts_at", None)
        values.pop("title", None)
    for name, value in values.items():
        setattr(row, name, value)


TICKET_STATUS = {
    "tickets.ticket_opened.v1": "open",
    "tickets.ticket_resolved.v1": "resolved",
    "tickets.ticket_closed.v1": "closed",
}


def ticket_moved(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    _track(
        session,
        data["customer_id"],
        "ticket",
        data["ticket_id"],
        title=data["subject"],
        reference=data["reference"],
        status=TICKET_STATUS[event.event_type],
        starts_at=_moment(event),
    )


for _event_type in TICKET_STATUS:
    activity.handles(_event_type)(ticket_moved)


@activity.handles("tickets.maintenance_scheduled.v1")
def maintenance_scheduled(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    for customer_id in data["customer_ids"]:
        _track(
            session,
            customer_id,
            "incident",
            data["maintenance_id"],
            title=data["title"],
            status="scheduled",
            starts_at=data["starts_at"].astimezone(UTC),
            ends_at=data["ends_at"].astimezone(UTC),
        )


@activity.handles("tickets.maintenance_cancelled.v1")
def maintenance_cancelled(session: Session, event: ReceivedEvent) -> None:
    for row in session.execute(
        select(CustomerActivity).where(
            CustomerActivity.subject_kind == "incident",
            CustomerActivity.subject_id == event.data["maintenance_id"],
        )
    ).scalars():
        session.delete(row)


def _invoice(session: Session, event: ReceivedEvent, status: str) -> None:
    data = event.data
    _track(
        session,
        data["customer_id"],
        "invoice",
        data["invoice_id"],
        title=str(data["invoice_number"] or ""),
        reference=None,
        status=status,
        total_minor=data["total_minor"],
        currency=data["currency"],
        starts_at=_moment(event),
    )


@activity.handles("billing.invoice_issued.v1")
def invoice_issued(session: Session, event: ReceivedEvent) -> None:
    _invoice(session, event, "issued")


@activity.handles("billing.invoice_paid.v1")
def invoice_paid(session: Session, event: ReceivedEvent) -> None:
    _invoice(session, event, "paid")


@activity.handles("billing.invoice_overdue.v1")
def invoice_overdue(session: Session, event: ReceivedEvent) -> None:
    _invoice(session, event, "overdue")


# -- writing the reports ---------------------------------------------------------------------


def previous_month(today: date) -> tuple[date, date]:
    first_of_this = today.replace(day=1)
    last = first_of_this - timedelta(days=1)
    return last.replace(day=1), last


def report_context(session: Session, customer_id: int, start: date, end: date) -> dict[str, Any]:
    """The period's tickets (and those still open from before), incidents and invoices."""
    since = datetime.combine(start, time(), UTC)
    until = datetime.combine(end + timedelta(days=1), time(), UTC)
    rows = list(
        session.execute(
            select(CustomerActivity)
            .where(
                CustomerActivity.customer_id == customer_id,
                CustomerActivity.starts_at < until,
                or_(
                    CustomerActivity.starts_at >= since,
                    CustomerActivity.status.in_(("open", "overdue")),
                ),
            )
            .order_by(CustomerActivity.starts_at, CustomerActivity.id)
        ).scalars()
    )
    return {
        "period_start": start.isoformat(),
        "period_end": end.isoformat(),
        "tickets": [
            {"reference": row.reference, "subject": row.title, "status": row.status}
            for row in rows
            if row.subject_kind == "ticket"
        ],
        "incidents": [
            {
                "title": row.title,
                "starts_at": _aware(row.starts_at).isoformat(),
                "ends_at": _aware(row.ends_at).isoformat() if row.ends_at else None,
            }
            for row in rows
            if row.subject_kind == "incident"
        ],
        "invoices": [
            {
                "number": int(row.title) if row.title.isdigit() else None,
                "total_minor": row.total_minor or 0,
                "currency": row.currency or "BRL",
                "status": row.status,
            }
            for row in rows
            if row.subject_kind == "invoice"
        ],
    }


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def reply_address(config: NotifyConfig, token: str) -> str:
    local, _, domain = config.support_email.partition("@")
    return f"{local}+report-{token}@{domain}"


def write_reports(session: Session, config: NotifyConfig, now: datetime) -> list[Notification]:
    """Last month's report for every managed customer who has not had it yet."""
    from services.notify.catalogue import CONTEXT_SCHEMAS

    start, end = previous_month(now.astimezone(config.calendar.zone).date())
    kind = load_catalogue().kind("periodic_report")
    edits = overrides(session)
    written: list[Notification] = []
    for contact in session.execute(
        select(CustomerContact).where(CustomerContact.managed.is_(True))
    ).scalars():
        source_id = f"notify:report:{contact.customer_id}:{start.isoformat()}"
        if session.get(SourceEvent, source_id) is not None:
            continue
        raw = report_context(session, contact.customer_id, start, end)
        remember_source(session, source_id, REPORT_SOURCE, {"report": raw})
        addressee = customer_addressee(contact, kind)
        moment = config.calendar_in(addressee.timezone).next_opening(now)
        written += write(
            session,
            config,
            kind,
            addressee,
            {},
            source_id,
            REPORT_SOURCE,
            moment,
            now,
            edits,
            channels=["email"],
            extra={"report": CONTEXT_SCHEMAS["report"]().load(raw)},
            headers={"Reply-To": reply_address(config, contact.token)},
        )
    return written


class ReportJob(PeriodicJob):
    """Checks every hour whether a month has turned and its reports are due."""

    name = "notify-reports"
    every_seconds = 3600.0

    def __init__(self, database: Database, config: NotifyConfig) -> None:
        super().__init__()
        self.database = database
        self.config = config

    def tick(self) -> bool:
        with self.database.transaction() as session:
            write_reports(session, self.config, clock.now())
        return False


# -- the replies -----------------------------------------------------------------------------


@activity.handles("tickets.report_reply_arrived.v1")
def report_reply_arrived(session: Session, event: ReceivedEvent) -> None:
    """The desk's inbound listener handed over a reply to a report."""
    data = event.data
    message = EmailMessage()
    message["To"] = data["recipient"]
    message["From"] = data["sender"]
    message["Subject"] = data["subject"]
    for header in ("in_reply_to", "references"):
        if data[header]:
            message[header.replace("_", "-").title()] = data[header]
    message.set_content(data["text"])
    try:
        receive_reply(session, message, _moment(event))
    except ReplyError as refused:
        # Nothing to retry: the message is kept in the log with why it was not a reply.
        log.info("notify.report_reply_refused", reason=str(refused))


ATTRIBUTION = re.compile(r"^(On .+ wrote:|Em .+ escreveu:|El .+ escribió:)$")
QUOTED_SECTION = re.compile(r"^>+\s*==\s*(.+?)\s*==\s*$")


def _comments(message: EmailMessage) -> str:
    """The customer's own words: what they wrote above the quoted report, and what they
    wrote inline after its sections, each under the section's name."""
    part = message.get_body(("plain",))
    text = str(part.get_content()) if part is not None else ""
    sections: dict[str | None, list[str]] = {None: []}
    current: str | None = None
    for line in text.splitlines():
        stripped = line.strip()
        heading = QUOTED_SECTION.match(stripped)
        if heading:
            current = heading.group(1)
            sections.setdefault(current, [])
        elif stripped and not stripped.startswith(">") and not ATTRIBUTION.match(stripped):
            sections[current].append(stripped)
    parts = [" ".join(sections[None])] if sections[None] else []
    parts += [f"{name}: {' '.join(lines)}" for name, lines in sections.items() if name and lines]
    return "\n".join(parts)


def _recipients(message: EmailMessage) -> Iterable[str]:
    for header in ("To", "Cc", "Delivered-To"):
        for _, address in getaddresses(message.get_all(header, [])):
            yield address


def receive_reply(session: Session, message: EmailMessage, now: datetime) -> int:
    """A reply to a periodic report, announced for the desk; returns the customer's id."""
    token = next(
        (match.group(1) for match in map(REPLY_TOKEN.search, _recipients(message)) if match),
        None,
    )
    contact = customer_by_token(session, token or "")
    if contact is None:
        raise ReplyError("This message is not addressed to a report's reply address.")
    report = _report_replied_to(session, message, contact.customer_id)
    if report is None:
        raise ReplyError(f"No report was sent to {contact.name} to reply to.")
    comments = _comments(message)
    if not comments:
        raise ReplyError("The reply has no comments of the customer's own.")
    period_start = date.fromisoformat(report.source_event_id.rsplit(":", 1)[1])
    record_event(
        session,
        "notify",
        "notify.report_reply_received.v1",
        {
            "customer_id": contact.customer_id,
            "period_start": period_start,
            "period_end": previous_month(period_start + timedelta(days=40))[1],
            "comments": comments,
            "received_at": now,
        },
    )
    return contact.customer_id


def _report_replied_to(
    session: Session, message: EmailMessage, customer_id: int
) -> Notification | None:
    cited = " ".join(str(message.get(header, "")) for header in ("In-Reply-To", "References"))
    for match in MESSAGE_ID.finditer(cited):
        notification = session.get(Notification, int(match.group(1)))
        if (
            notification is not None
            and notification.kind == "periodic_report"
            and notification.customer_id == customer_id
        ):
            return notification
    return session.execute(
        select(Notification)
        .where(Notification.kind == "periodic_report", Notification.customer_id == customer_id)
        .order_by(Notification.id.desc())
        .limit(1)
    ).scalar_one_or_none()
