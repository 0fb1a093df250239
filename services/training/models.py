"""Training's own tables: replicas of the staff and customer directories, the playbooks'
versions, and the owner's tuning of the reply checker."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import clock


def _now() -> datetime:
    return clock.now()


class Base(DeclarativeBase):
    pass


class StaffMemberReplica(Base):
    """Who works at the company, as the desk announces it (training enrols trainees from it)."""

    __tablename__ = "staff_directory"

    staff_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CustomerReplica(Base):
    """The customers billing announces: the reply checker keeps one customer's name,
    address and domain out of replies to another (P-NO-GOSSIP, P-CONFIDENTIAL)."""

    __tablename__ = "customer_directory"

    customer_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5), default="pt-BR")
    suspended: Mapped[bool] = mapped_column(Boolean, default=False)
    """An account of the customer's is suspended, as billing last announced."""
    grace_used_on: Mapped[date | None] = mapped_column(Date)
    """When the customer's one grace (P-ONE-GRACE) was granted; None while it is unused."""


class PlaybookVersion(Base):
    """One version of a lesson or script as YAML text: imported from the files, or edited."""

    __tablename__ = "playbook_versions"
    __table_args__ = (UniqueConstraint("playbook_id", "version", name="uq_playbook_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    playbook_id: Mapped[str] = mapped_column(String(80), index=True)
    version: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(Text)
    source_hash: Mapped[str] = mapped_column(String(64))
    from_file: Mapped[bool] = mapped_column(Boolean, default=False)
    """Imported from the repository's file rather than edited in the UI."""
    author: Mapped[str] = mapped_column(String(254))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CheckerSetting(Base):
    """The owner's tuning of one check of the reply checker, laid over ``lexicon.yaml``."""

    __tablename__ = "checker_settings"

    check_key: Mapped[str] = mapped_column(String(80), primary_key=True)
    overrides: Mapped[str] = mapped_column(Text)
    """JSON: any of ``severity``, ``phrases`` (lists by language or role), ``numbers``."""
    updated_by: Mapped[str] = mapped_column(String(254))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Enrolment(Base):
    """A trainee on the onboarding path, from supervised to certified."""

    __tablename__ = "enrolments"

    staff_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    status: Mapped[str] = mapped_column(String(12), default="supervised")
    """``supervised`` (replies held for review, in the share below) or ``certified``."""
    share_held: Mapped[int] = mapped_column(Integer, default=100)
    """Percent of the trainee's replies the desk holds for review."""
    enrolled_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    certified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LessonProgress(Base):
    """What one trainee has done with one lesson: read it, the best quiz score, the scenario."""

    __tablename__ = "lesson_progress"

    staff_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    lesson_id: Mapped[str] = mapped_column(String(80), primary_key=True)
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    quiz_attempts: Mapped[int] = mapped_column(Integer, default=0)
    best_score: Mapped[int] = mapped_column(Integer, default=0)
    """Percent of the quiz answered right, the best attempt."""
    scenario_reply: Mapped[str | None] = mapped_column(Text)
    scenario_findings: Mapped[str | None] = mapped_column(Text)
    """JSON list of the checker's findings on the reply."""
    scenario_status: Mapped[str | None] = mapped_column(String(12))
    """``submitted`` (waiting for the owner), ``approved`` or ``returned``."""
    review_comment: Mapped[str | None] = mapped_column(Text)


class ReplyCheckRecord(Base):
    """One reply of a staff member through the desk's reply checker, as the desk announced
    it: the findings coach the person and count toward supervision and revocation."""

    __tablename__ = "reply_checks"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(Integer, index=True)
    staff_id: Mapped[int] = mapped_column(Integer, index=True)
    customer_id: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(12))
    """``sent``, ``held`` (for review), ``stopped`` (by a blocking finding) or ``overridden``."""
    findings: Mapped[str] = mapped_column(Text)
    """JSON list of ``{check, rule, severity}``."""
    blocking: Mapped[int] = mapped_column(Integer)
    """How many of the findings block a send."""
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)


class TicketResolutionRecord(Base):
    """Who resolved a ticket and whether its SLA targets were met."""

    __tablename__ = "ticket_resolutions"

    ticket_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    staff_id: Mapped[int] = mapped_column(Integer, index=True)
    first_response_met: Mapped[bool | None] = mapped_column(Boolean)
    resolution_met: Mapped[bool | None] = mapped_column(Boolean)
    resolved_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class TicketRatingRecord(Base):
    """The customer's 1-5 rating of a resolved ticket (a second rating replaces the first)."""

    __tablename__ = "ticket_ratings"

    ticket_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    staff_id: Mapped[int | None] = mapped_column(Integer, index=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    rated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RevocationProposal(Base):
    """Repeated blocking findings from someone replying unsupervised: the owner decides
    whether they go back under supervision."""

    __tablename__ = "revocation_proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(Integer, index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10), default="open")
    """``open``, ``confirmed`` or ``dismissed``."""
    proposed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    decided_by: Mapped[str | None] = mapped_column(String(254))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    note: Mapped[str | None] = mapped_column(Text)
