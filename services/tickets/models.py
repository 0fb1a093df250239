"""The desk's own tables: staff and their audit trail, tickets with their messages and
history, and replicas of what the other services announce (customers and their billing
state, training's review policies and suggested scripts, notify's deliveries)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import clock

STATUSES = ("new", "open", "waiting", "on_hold", "resolved", "closed")
"""``waiting``: on the customer (the SLA clock stops); ``on_hold``: on something else."""
OPEN_STATUSES = ("new", "open", "waiting", "on_hold")


def _now() -> datetime:
    return clock.now()


class Base(DeclarativeBase):
    pass


class StaffMember(Base):
    __tablename__ = "staff"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class PasswordLink(Base):
    """A single-use link to set a password (a new member's first, or a forgotten one); only
    its hash is kept."""

    __tablename__ = "password_links"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SignInAttempt(Base):
    """Each failed sign-in, for the rate limit."""

    __tablename__ = "sign_in_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    address: Mapped[str] = mapped_column(String(64), index=True)
    """The client's IP address."""
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)


class AuditEntry(Base):
    """Who did what at the desk, for the owner to look back on."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    actor: Mapped[str] = mapped_column(String(254))
    """The staff member's email, or ``customer:<email>`` / ``system``."""
    action: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(120))
    """e.g. ``ticket:42``, ``staff:3``."""
    detail: Mapped[str | None] = mapped_column(Text)


class DeskSetting(Base):
    """The owner's settings of the desk (the SLA targets), as JSON by key."""

    __tablename__ = "desk_settings"

    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class CustomerReplica(Base):
    """A customer as billing announces them, with their billing state (P-ONE-GRACE shown
    before the click)."""

    __tablename__ = "customers"

    customer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64))
    managed: Mapped[bool] = mapped_column(Boolean, default=False)
    billing_status: Mapped[str] = mapped_column(String(20), default="active")
    """``active``, ``overdue``, ``suspended`` or ``cancelled``."""
    suspended_subscription_id: Mapped[int | None] = mapped_column(Integer)
    subscription_id: Mapped[int | None] = mapped_column(Integer)
    """The subscription billing last spoke of (what a cancellation request names)."""
    grace_used_on: Mapped[date | None] = mapped_column(Date)
    billing_note: Mapped[str | None] = mapped_column(Text)
    """The last thing billing said, e.g. why a grace was refused."""


class Ticket(Base):
    __tablename__ = "tickets"
    __table_args__ = (
        Index("ix_tickets_queue", "status", "priority", "created_at"),
        Index("ix_tickets_due", "status", "emergency", "next_due_at"),
        Index("ix_tickets_customer", "customer_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    """``T-<id>-<secret>``: threads replies, and lets a customer open it from a message."""
    subject: Mapped[str] = mapped_column(String(300))
    customer_id: Mapped[int | None] = mapped_column(Integer)
    requester_name: Mapped[str] = mapped_column(String(200))
    requester_email: Mapped[str] = mapped_column(String(254), index=True)
    language: Mapped[str] = mapped_column(String(5))
    channel: Mapped[str] = mapped_column(String(10))
    """``portal``, ``email``, ``api`` or ``phone``."""
    department: Mapped[str] = mapped_column(String(10))
    priority: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(10), default="new")
    emergency: Mapped[bool] = mapped_column(Boolean, default=False)
    emergency_kind: Mapped[str | None] = mapped_column(String(20))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    tags: Mapped[str] = mapped_column(String(500), default="")
    """Comma-separated, lower case."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    first_response_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_customer_message_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    customer_turn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The customer's first message since the last staff reply: the next response's clock
    runs from it."""
    last_staff_reply_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    closed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cause: Mapped[str | None] = mapped_column(Text)
    fix: Mapped[str | None] = mapped_column(Text)
    prevention: Mapped[str | None] = mapped_column(Text)
    resolved_by: Mapped[int | None] = mapped_column(Integer)
    next_due_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """The earliest deadline of its running SLA clocks: the queue's order."""
    warn_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the first of its running SLA clocks shows a warning: with ``next_due_at``, what
    the queue shows without working out the clocks (``clocks.standings``)."""
    resolved_standing: Mapped[str | None] = mapped_column(String(20))
    """A resolved ticket's SLA standing as its clocks stopped (met or missed, which the
    moments above do not say), kept by ``clocks.refresh`` for the queue."""
    sla_alerted: Mapped[str] = mapped_column(String(120), default="")
    """Which SLA warnings and breaches were already announced, so each goes once."""
    follow_up_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the P-EASE follow-up after the resolution was asked for."""
    closing_notice_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the customer was told an inactive ticket will close."""


class Message(Base):
    """A message on a ticket: the customer's, a staff reply (maybe held for review), or an
    internal note."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    author: Mapped[str] = mapped_column(String(10))
    """``customer``, ``staff`` or ``system``."""
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    body: Mapped[str] = mapped_column(Text)
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    state: Mapped[str] = mapped_column(String(10), default="sent")
    """``sent``, ``held`` (for review), ``returned`` (to its author with a comment)."""
    findings: Mapped[str | None] = mapped_column(Text)
    """JSON of the checker's findings when it was written."""
    override_note: Mapped[str | None] = mapped_column(Text)
    review_comment: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Pause(Base):
    """A span the ticket waited on the customer: its SLA clock stopped."""

    __tablename__ = "pauses"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class HistoryEntry(Base):
    """Every change on a ticket, in order."""

    __tablename__ = "ticket_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    actor: Mapped[str] = mapped_column(String(254))
    change: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str | None] = mapped_column(Text)


class Rating(Base):
    __tablename__ = "ratings"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReviewPolicy(Base):
    """Training's word on a staff member: the share of their replies to hold for review."""

    __tablename__ = "review_policies"

    staff_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    share_held: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class SuggestedScript(Base):
    """The script training suggests for a ticket's situation."""

    __tablename__ = "suggested_scripts"

    ticket_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    playbook_id: Mapped[str] = mapped_column(String(80))
    situation: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)


class Presence(Base):
    """Who has a ticket open right now, and whether they are writing: the collision warning."""

    __tablename__ = "presence"

    ticket_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    staff_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seen_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    writing: Mapped[bool] = mapped_column(Boolean, default=False)


class EscalationRule(Base):
    """P-ESCALATE: when a ticket matching the conditions has gone this long (business
    time) without being resolved, the actions happen, once per ticket."""

    __tablename__ = "escalation_rules"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    department: Mapped[str | None] = mapped_column(String(10))
    priority: Mapped[str | None] = mapped_column(String(10))
    status: Mapped[str | None] = mapped_column(String(10))
    after_minutes: Mapped[int] = mapped_column(Integer)
    """Business minutes since the ticket was opened (its pauses not counted)."""
    actions: Mapped[str] = mapped_column(String(300))
    """Comma-separated: ``reassign:<staff id>``, ``raise_priority``, ``alert_owner``,
    ``attach_script``."""
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Escalation(Base):
    """A rule that fired on a ticket."""

    __tablename__ = "escalations"

    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("escalation_rules.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CannedReply(Base):
    """A reply staff start from, with placeholders (``{customer_name}``, ``{agent_name}``,
    ``{ticket_reference}``, ``{ticket_subject}``) filled in for the ticket."""

    __tablename__ = "canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    language: Mapped[str] = mapped_column(String(5))
    body: Mapped[str] = mapped_column(Text)


class CareTask(Base):
    """A touchpoint owed to a customer: P-CADENCE's emails and calls, P-REFERRAL's
    follow-up, P-LATE's apology and priority for the next customer."""

    __tablename__ = "care_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(Integer, index=True)
    kind: Mapped[str] = mapped_column(String(12))
    """``email``, ``call``, ``referral`` or ``late``."""
    title: Mapped[str] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("staff.id"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    done_by: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Attachment(Base):
    """A file that came with a message (by email or the portal), kept in the database so a
    backup of it is a backup of everything."""

    __tablename__ = "attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("messages.id"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(120))
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class CheckerTuning(Base):
    """The owner's tuning of one reply check, as training announces it: the desk applies
    the same checks before a reply is sent."""

    __tablename__ = "checker_tuning"

    check_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    overrides: Mapped[str] = mapped_column(Text)


class DeliveryReplica(Base):
    """A message notify sent (or could not send) to a customer, for their timeline."""

    __tablename__ = "deliveries"

    notification_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    source_event_type: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(5))
    status: Mapped[str] = mapped_column(String(10))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class CustomerNote(Base):
    """Something the desk keeps about a customer (a reply to their report, a call)."""

    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    author: Mapped[str] = mapped_column(String(254))
    body: Mapped[str] = mapped_column(Text)


class PortalToken(Base):
    """A sign-in link emailed to a customer: single use, short-lived, kept only as its
    SHA-256 so a copy of the table signs nobody in."""

    __tablename__ = "portal_tokens"
    __table_args__ = (Index("ix_portal_tokens_email_created", "email", "created_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class MaintenanceWindow(Base):
    """P-EMPATHY: maintenance the desk schedules with the customers it affects; notify
    announces it to each of them ahead and reminds them shortly before."""

    __tablename__ = "maintenance_windows"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    details: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    customer_ids: Mapped[str] = mapped_column(Text)
    """JSON list of the affected customers' ids."""
    scheduled_by: Mapped[str] = mapped_column(String(254))
    scheduled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    cancelled_by: Mapped[str | None] = mapped_column(String(254))
