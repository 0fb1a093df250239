"""Coaching: what training learns from the desk about each staff member's work, and what
the owner sees of it.

From the desk's events training records every reply through the reply checker
(``tickets.reply_checked.v1``), each resolution with its SLA outcome
(``tickets.ticket_resolved.v1``) and each customer's rating
(``tickets.ticket_rated.v1``). A trainee's supervision follows that work. Someone
replying unsupervised whose replies are repeatedly stopped (or sent over the
owner's override) by blocking findings is proposed for revocation: only the
owner's confirmation sends them back under supervision
(``training.certification_revoked.v1``).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.training.models import (
    Enrolment,
    ReplyCheckRecord,
    RevocationProposal,
    StaffMemberReplica,
    TicketRatingRecord,
    TicketResolutionRecord,
)
from services.training.onboarding import PRODUCER, review_supervision
from shared import clock
from shared.bus.outbox import record_event
from shared.bus.subscriber import ReceivedEvent, Subscriber

desk_activity = Subscriber("training.desk_activity")

REVOCATION_WINDOW = timedelta(days=14)
REVOCATION_THRESHOLD = 3
"""Replies with a blocking finding within the window that make a revocation proposal."""
SHARE_AFTER_REVOCATION = 50
LOW_RATING = 2
WEEKS_SHOWN = 12


class CoachingError(ValueError):
    """A decision the coaching pages cannot take; the message says why."""


class NotFound(LookupError):
    """No such staff member or proposal."""


# -- what the desk tells -----------------------------------------------------------------


@desk_activity.handles("tickets.reply_checked.v1")
def record_reply_check(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    findings = [dict(finding) for finding in data["findings"]]
    record = ReplyCheckRecord(
        ticket_id=data["ticket_id"],
        staff_id=data["staff_id"],
        customer_id=data["customer_id"],
        outcome=data["outcome"],
        findings=json.dumps(findings),
        blocking=sum(1 for finding in findings if finding["severity"] == "block"),
        checked_at=data["checked_at"].astimezone(UTC),
    )
    session.add(record)
    session.flush()
    review_supervision(session, record.staff_id)
    if record.blocking:
        _consider_revocation(session, record.staff_id, record.checked_at)


@desk_activity.handles("tickets.ticket_resolved.v1")
def record_resolution(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    session.merge(
        TicketResolutionRecord(
            ticket_id=data["ticket_id"],
            staff_id=data["staff_id"],
            first_response_met=data["first_response_met"],
            resolution_met=data["resolution_met"],
            resolved_at=data["resolved_at"].astimezone(UTC),
        )
    )


@desk_activity.handles("tickets.ticket_rated.v1")
def record_rating(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    session.merge(
        TicketRatingRecord(
            ticket_id=data["ticket_id"],
            staff_id=data["staff_id"],
            rating=data["rating"],
            comment=data["comment"],
            rated_at=data["rated_at"].astimezone(UTC),
        )
    )
    session.flush()
    if data["staff_id"] is not None:
        review_supervision(session, data["staff_id"])


# -- revocation ---------------------------------------------------------------------------


def _replies_unsupervised(session: Session, staff_id: int) -> bool:
    member = session.get(StaffMemberReplica, staff_id)
    if member is None or member.role == "owner":
        return False
    enrolment = session.get(Enrolment, staff_id)
    return enrolment is None or enrolment.status == "certified"


def _consider_revocation(session: Session, staff_id: int, moment: datetime) -> None:
    if not _replies_unsupervised(session, staff_id):
        return
    open_proposal = session.execute(
        select(RevocationProposal.id).where(
            RevocationProposal.staff_id == staff_id, RevocationProposal.status == "open"
        )
    ).first()
    if open_proposal is not None:
        return
    since = moment - REVOCATION_WINDOW
    last_decision = session.execute(
        select(func.max(RevocationProposal.decided_at)).where(
            RevocationProposal.staff_id == staff_id
        )
    ).scalar()
    if last_decision is not None:
        # A dismissed proposal is not raised again from the replies it already weighed.
        since = max(since, _aware(last_decision))
    blocked = session.execute(
        select(func.count())
        .select_from(ReplyCheckRecord)
        .where(
            ReplyCheckRecord.staff_id == staff_id,
            ReplyCheckRecord.blocking > 0,
            ReplyCheckRecord.checked_at > since,
        )
    ).scalar_one()
    if blocked < REVOCATION_THRESHOLD:
        return
    session.add(
        RevocationProposal(
            staff_id=staff_id,
            reason=(
                f"{blocked} replies with a blocking finding in the last "
                f"{REVOCATION_WINDOW.days} days"
            ),
            status="open",
            proposed_at=clock.now(),
        )
    )


def open_proposals(session: Session) -> list[RevocationProposal]:
    return list(
        session.execute(
            select(RevocationProposal)
            .where(RevocationProposal.status == "open")
            .order_by(RevocationProposal.proposed_at)
        ).scalars()
    )


def decide(
    session: Session, proposal_id: int, *, confirm: bool, owner_email: str, note: str | None
) -> RevocationProposal:
    """The owner's decision: confirmed, the person's replies are held again; dismissed,
    nothing changes."""
    proposal = session.get(RevocationProposal, proposal_id)
    if proposal is None:
        raise NotFound(f"No revocation proposal {proposal_id}.")
    if proposal.status != "open":
        raise CoachingError(f"Proposal {proposal_id} was already {proposal.status}.")
    note = (note or "").strip() or None
    if confirm and note is None:
        raise CoachingError("Say why, for the person: the note goes with the decision.")
    proposal.status = "confirmed" if confirm else "dismissed"
    proposal.decided_by = owner_email
    proposal.decided_at = clock.now()
    proposal.note = note
    if confirm:
        _put_back_under_supervision(session, proposal, owner_email)
    session.flush()
    return proposal


def _put_back_under_supervision(
    session: Session, proposal: RevocationProposal, owner_email: str
) -> None:
    enrolment = session.get(Enrolment, proposal.staff_id)
    if enrolment is None:
        enrolment = Enrolment(staff_id=proposal.staff_id, enrolled_at=clock.now())
        session.add(enrolment)
    enrolment.status = "supervised"
    enrolment.share_held = SHARE_AFTER_REVOCATION
    enrolment.certified_at = None
    reason = proposal.reason if proposal.note is None else f"{proposal.reason}: {proposal.note}"
    record_event(
        session,
        PRODUCER,
        "training.certification_revoked.v1",
        {
            "staff_id": proposal.staff_id,
            "share_held": SHARE_AFTER_REVOCATION,
            "reason": reason,
            "confirmed_by": owner_email,
        },
    )


# -- what the owner sees ----------------------------------------------------------------


@dataclass(frozen=True)
class Week:
    starts_on: date
    replies: int = 0
    findings: Counter[str] = field(default_factory=Counter)
    """Findings by rule."""
    ratings: tuple[int, ...] = ()
    resolutions: int = 0
    sla_met: int = 0

    @property
    def average_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None

    @property
    def sla_adherence(self) -> float | None:
        return self.sla_met / self.resolutions if self.resolutions else None


@dataclass(frozen=True)
class LowRating:
    ticket_id: int
    rating: int
    comment: str | None
    rated_at: datetime
    broken: list[dict[str, str]]
    """The findings on the person's replies in that ticket (check, rule, severity)."""


@dataclass(frozen=True)
class StaffCoaching:
    member: StaffMemberReplica
    enrolment: Enrolment | None
    weeks: list[Week]
    rules: list[str]
    """Every rule with a finding in the period, most frequent first."""
    low_ratings: list[LowRating]
    proposals: list[RevocationProposal]

    @property
    def replies(self) -> int:
        return sum(week.replies for week in self.weeks)

    @property
    def findings(self) -> int:
        return sum(sum(week.findings.values()) for week in self.weeks)

    @property
    def average_rating(self) -> float | None:
        ratings = [rating for week in self.weeks for rating in week.ratings]
        return sum(ratings) / len(ratings) if ratings else None

    @property
    def sla_adherence(self) -> float | None:
        resolutions = sum(week.resolutions for week in self.weeks)
        return sum(week.sla_met for week in self.weeks) / resolutions if resolutions else None


def _aware(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive (in UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _monday(moment: datetime) -> date:
    day = _aware(moment).astimezone(UTC).date()
    return day - timedelta(days=day.weekday())


def staff_coaching(session: Session, staff_id: int, today: date | None = None) -> StaffCoaching:
    member = session.get(StaffMemberReplica, staff_id)
    if member is None:
        raise NotFound(f"No staff member {staff_id}.")
    today = today or clock.now().date()
    first_week = today - timedelta(days=today.weekday()) - timedelta(weeks=WEEKS_SHOWN - 1)
    since = datetime.combine(first_week, datetime.min.time(), UTC)
    replies: dict[date, int] = defaultdict(int)
    findings: dict[date, Counter[str]] = defaultdict(Counter)
    by_ticket: dict[int, list[dict[str, str]]] = defaultdict(list)
    for check in session.execute(
        select(ReplyCheckRecord).where(
            ReplyCheckRecord.staff_id == staff_id, ReplyCheckRecord.checked_at >= since
        )
    ).scalars():
        monday = _monday(check.checked_at)
        replies[monday] += 1
        for finding in json.loads(check.findings):
            findings[monday][finding["rule"]] += 1
            by_ticket[check.ticket_id].append(finding)
    ratings: dict[date, list[int]] = defaultdict(list)
    low: list[LowRating] = []
    for rating in session.execute(
        select(TicketRatingRecord)
        .where(TicketRatingRecord.staff_id == staff_id, TicketRatingRecord.rated_at >= since)
        .order_by(TicketRatingRecord.rated_at.desc())
    ).scalars():
        ratings[_monday(rating.rated_at)].append(rating.rating)
        if rating.rating <= LOW_RATING:
            low.append(
                LowRating(
                    rating.ticket_id,
                    rating.rating,
                    rating.comment,
                    _aware(rating.rated_at),
                    _unique(by_ticket.get(rating.ticket_id, [])),
                )
            )
    resolutions: dict[date, list[bool]] = defaultdict(list)
    for resolution in session.execute(
        select(TicketResolutionRecord).where(
            TicketResolutionRecord.staff_id == staff_id,
            TicketResolutionRecord.resolved_at >= since,
        )
    ).scalars():
        outcomes = [resolution.first_response_met, resolution.resolution_met]
        known = [met for met in outcomes if met is not None]
        if known:
            resolutions[_monday(resolution.resolved_at)].append(all(known))
    weeks = [
        Week(
            starts_on=start,
            replies=replies[start],
            findings=findings[start],
            ratings=tuple(ratings[start]),
            resolutions=len(resolutions[start]),
            sla_met=sum(resolutions[start]),
        )
        for start in (first_week + timedelta(weeks=n) for n in range(WEEKS_SHOWN))
    ]
    totals: Counter[str] = Counter()
    for week in weeks:
        totals.update(week.findings)
    proposals = list(
        session.execute(
            select(RevocationProposal)
            .where(RevocationProposal.staff_id == staff_id)
            .order_by(RevocationProposal.proposed_at.desc())
        ).scalars()
    )
    return StaffCoaching(
        member=member,
        enrolment=session.get(Enrolment, staff_id),
        weeks=weeks,
        rules=[rule for rule, _ in totals.most_common()],
        low_ratings=low,
        proposals=proposals,
    )


def _unique(findings: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: dict[str, dict[str, str]] = {}
    for finding in findings:
        seen.setdefault(finding["check"], finding)
    return list(seen.values())


def team_coaching(session: Session, today: date | None = None) -> list[StaffCoaching]:
    members = session.execute(
        select(StaffMemberReplica.staff_id)
        .where(StaffMemberReplica.active.is_(True), StaffMemberReplica.role != "owner")
        .order_by(StaffMemberReplica.name)
    ).scalars()
    return [staff_coaching(session, staff_id, today) for staff_id in members]
