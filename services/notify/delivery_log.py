"""The delivery log: finding notifications (by address, name, subject, status, kind and
date), the steps of one, and sending again what failed or was parked once its cause is
fixed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from services.notify.catalogue import load_catalogue
from services.notify.config import NotifyConfig
from services.notify.models import DeliveryLogEntry, Notification
from services.notify.planning import addressee_of, context_for, log, overrides, source_of
from services.notify.rendering import RenderFailure, render

PAGE_SIZE = 100
RETRYABLE = ("failed", "parked")


class LogError(ValueError):
    """A request on the delivery log that cannot be carried out; the message says why."""


class NotFound(LookupError):
    pass


@dataclass(frozen=True)
class Search:
    text: str = ""
    status: str | None = None
    kind: str | None = None
    customer_id: int | None = None
    since: date | None = None
    until: date | None = None
    timezone: tzinfo = UTC
    """The clock ``since`` and ``until`` are days on: the company's, for its staff."""
    page: int = 1


def search(session: Session, query: Search) -> tuple[list[Notification], int]:
    """The newest matching notifications first, a page at a time, and how many match."""
    conditions = []
    if query.text.strip():
        pattern = f"%{query.text.strip().lower()}%"
        conditions.append(
            or_(
                func.lower(Notification.address).like(pattern),
                func.lower(Notification.recipient_name).like(pattern),
                func.lower(Notification.subject).like(pattern),
                Notification.source_event_id == query.text.strip(),
            )
        )
    if query.status:
        conditions.append(Notification.status == query.status)
    if query.kind:
        conditions.append(Notification.kind == query.kind)
    if query.customer_id is not None:
        conditions.append(Notification.customer_id == query.customer_id)
    if query.since:
        conditions.append(Notification.created_at >= _midnight(query.since, query.timezone))
    if query.until:
        end = _midnight(query.until + timedelta(days=1), query.timezone)
        conditions.append(Notification.created_at < end)
    total = session.execute(
        select(func.count()).select_from(Notification).where(*conditions)
    ).scalar_one()
    rows = session.execute(
        select(Notification)
        .where(*conditions)
        .order_by(Notification.id.desc())
        .limit(PAGE_SIZE)
        .offset((max(1, query.page) - 1) * PAGE_SIZE)
    ).scalars()
    return list(rows), total


def _midnight(day: date, timezone: tzinfo) -> datetime:
    # In UTC, as moments are stored: SQLite compares them as written.
    return datetime.combine(day, time(), timezone).astimezone(UTC)


def get(session: Session, notification_id: int) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None:
        raise NotFound(f"No notification {notification_id}.")
    return notification


def steps(session: Session, notification_id: int) -> list[DeliveryLogEntry]:
    return list(
        session.execute(
            select(DeliveryLogEntry)
            .where(DeliveryLogEntry.notification_id == notification_id)
            .order_by(DeliveryLogEntry.id)
        ).scalars()
    )


def retry(
    session: Session, config: NotifyConfig, notification_id: int, by: str, now: datetime
) -> Notification:
    """Queue a failed or parked notification again, written afresh: the owner may have
    fixed its template, the customer their address."""
    notification = get(session, notification_id)
    if notification.status not in RETRYABLE:
        raise LogError(
            f"Notification {notification_id} is {notification.status}: only failed or parked "
            "ones are sent again."
        )
    addressee = addressee_of(session, config, notification)
    source = source_of(session, notification)
    if addressee is not None:
        notification.address = addressee.addresses.get(notification.channel)
    if not notification.address:
        raise LogError(
            f"{notification.recipient_name or 'The recipient'} has no address for "
            f"{notification.channel}."
        )
    if addressee is not None and source is not None:
        data, extra = source
        context = context_for(config, addressee, data, **extra)
        try:
            rendered = render(
                load_catalogue().kind(notification.kind),
                notification.channel,
                addressee.languages,
                context,
                overrides(session),
            )
        except RenderFailure as failure:
            raise LogError(f"It still cannot be written: {failure.reason}") from None
        notification.language = rendered.language
        notification.fell_back_from = rendered.fell_back_from
        notification.subject = rendered.subject
        notification.body_text = rendered.text
        notification.body_html = rendered.html
    elif notification.body_text is None:
        raise LogError("What it was written from is no longer known: it cannot be written again.")
    notification.status = "queued"
    notification.not_before = now
    notification.attempts = 0
    notification.reason = None
    log(session, notification, "queued", f"sent again by {by}")
    return notification
