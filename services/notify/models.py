"""Notify's own tables: whom it writes to (replicas of billing's customers and the desk's
staff, with their channel choices), the owner's template edits, maintenance windows, and
every notification with its delivery log."""

from __future__ import annotations

from datetime import datetime, time

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    Time,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import clock

CHANNELS = ("email", "sms", "chat")
STATUSES = ("held", "queued", "sending", "sent", "failed", "parked", "skipped", "cancelled")
"""``held``: waits for the recipient's business window (``not_before``); ``queued``: due
(maybe after a failed attempt, at ``next_attempt_at``); ``parked``: could not be written
(template failure, no address), with the reason; ``skipped``: not sent on purpose (the
customer opted out); ``cancelled``: no longer wanted (a maintenance called off)."""
PENDING = ("held", "queued")


def _now() -> datetime:
    return clock.now()


class Base(DeclarativeBase):
    pass


class CustomerContact(Base):
    """A customer as billing announces them, with the channels they chose."""

    __tablename__ = "customers"

    customer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5))
    second_language: Mapped[str | None] = mapped_column(String(5))
    """Where a missing translation falls back before English."""
    timezone: Mapped[str] = mapped_column(String(64))
    managed: Mapped[bool] = mapped_column(Boolean, default=False)
    phone: Mapped[str | None] = mapped_column(String(32))
    chat_handle: Mapped[str | None] = mapped_column(String(120))
    channels: Mapped[str] = mapped_column(String(20), default="email")
    """Comma-separated channels the customer chose; email always carries what must arrive."""
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    """No non-transactional messages (reports, follow-ups, announcements)."""
    token: Mapped[str] = mapped_column(String(64), unique=True)
    """The secret in the customer's preferences and unsubscribe links."""

    def chose(self, channel: str) -> bool:
        return channel in self.channels.split(",")


class StaffContact(Base):
    """A staff member as the desk announces them; alerts follow their duty hours."""

    __tablename__ = "staff"

    staff_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(5), default="pt-BR")
    phone: Mapped[str | None] = mapped_column(String(32))
    chat_handle: Mapped[str | None] = mapped_column(String(120))


class DutySlot(Base):
    """A weekly interval a staff member is on duty, in the company's timezone. Someone with
    no slots is on duty during business hours."""

    __tablename__ = "duty_slots"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.staff_id"), index=True)
    weekday: Mapped[int] = mapped_column(Integer)
    """Monday = 0."""
    starts: Mapped[time] = mapped_column(Time)
    ends: Mapped[time] = mapped_column(Time)


class TemplateOverride(Base):
    """The owner's edit of one message (kind, channel, language), over the catalogue's file."""

    __tablename__ = "template_overrides"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    channel: Mapped[str] = mapped_column(String(5), primary_key=True)
    language: Mapped[str] = mapped_column(String(5), primary_key=True)
    subject: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    html: Mapped[str | None] = mapped_column(Text)
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Maintenance(Base):
    """P-EMPATHY: a maintenance window the desk agreed with the affected customers."""

    __tablename__ = "maintenances"

    maintenance_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    event_id: Mapped[str] = mapped_column(String(36))
    """The announcement event: its notifications are the window's."""
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cancelled: Mapped[bool] = mapped_column(Boolean, default=False)


class SourceEvent(Base):
    """The payload of an event notify wrote from: what a fallback channel, or a retry after
    the owner fixed a template, renders again."""

    __tablename__ = "source_events"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)
    """JSON, as it travelled (or, for notify's own messages, the context)."""


class Notification(Base):
    """One message to one recipient on one channel, written from one event (or from notify
    itself: a failure alert, a report). Unique per (event, kind, recipient, channel):
    a re-delivered event finds it already there."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint(
            "source_event_id", "kind", "recipient_key", "channel", name="uq_notification_once"
        ),
        Index("ix_notifications_due", "status", "not_before"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_event_id: Mapped[str] = mapped_column(String(64), index=True)
    source_event_type: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(40), index=True)
    recipient_key: Mapped[str] = mapped_column(String(270))
    """``customer:7``, ``staff:3`` or ``email:<address>`` (a requester billing does not know)."""
    recipient_name: Mapped[str] = mapped_column(String(200))
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    """The customer the message is for (None for staff alerts)."""
    channel: Mapped[str] = mapped_column(String(5))
    address: Mapped[str | None] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(5))
    fell_back_from: Mapped[str | None] = mapped_column(String(5))
    """The language the recipient wanted, when the template had no text in it."""
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10))
    not_before: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    subject: Mapped[str | None] = mapped_column(Text)
    body_text: Mapped[str | None] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    headers: Mapped[str | None] = mapped_column(Text)
    """JSON of extra headers (List-Unsubscribe, threading)."""
    reason: Mapped[str | None] = mapped_column(Text)
    """Why it is held, parked, skipped or failed; the last attempt's error."""
    provider_ref: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryLogEntry(Base):
    """What happened to a notification, step by step, for the searchable delivery log."""

    __tablename__ = "delivery_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(ForeignKey("notifications.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    status: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str | None] = mapped_column(Text)


class CustomerActivity(Base):
    """What happened on a customer's account, as the desk and billing announced it: the
    material of their periodic report (P-REPORT). One row per ticket, incident or invoice,
    updated as its status moves."""

    __tablename__ = "customer_activity"
    __table_args__ = (UniqueConstraint("customer_id", "subject_kind", "subject_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    subject_kind: Mapped[str] = mapped_column(String(10))
    """``ticket``, ``incident`` or ``invoice``."""
    subject_id: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(300))
    reference: Mapped[str | None] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))
    total_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
