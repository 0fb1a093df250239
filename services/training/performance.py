"""How a staff member's recent work at the desk went: replies through the checker without a
blocking finding, and the customers' ratings. Supervision and coaching both read it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.training.models import ReplyCheckRecord, TicketRatingRecord

RECENT_REPLIES = 20
RECENT_RATINGS = 10


@dataclass(frozen=True)
class RecentWork:
    replies: int
    clean_replies: int
    """Replies the checker found nothing blocking in."""
    ratings: tuple[int, ...]

    @property
    def clean_rate(self) -> float | None:
        return self.clean_replies / self.replies if self.replies else None

    @property
    def average_rating(self) -> float | None:
        return sum(self.ratings) / len(self.ratings) if self.ratings else None


def recent_work(session: Session, staff_id: int) -> RecentWork:
    blocking = (
        session.execute(
            select(ReplyCheckRecord.blocking)
            .where(ReplyCheckRecord.staff_id == staff_id)
            .order_by(ReplyCheckRecord.checked_at.desc(), ReplyCheckRecord.id.desc())
            .limit(RECENT_REPLIES)
        )
        .scalars()
        .all()
    )
    ratings = (
        session.execute(
            select(TicketRatingRecord.rating)
            .where(TicketRatingRecord.staff_id == staff_id)
            .order_by(TicketRatingRecord.rated_at.desc())
            .limit(RECENT_RATINGS)
        )
        .scalars()
        .all()
    )
    return RecentWork(
        replies=len(blocking),
        clean_replies=sum(1 for count in blocking if count == 0),
        ratings=tuple(ratings),
    )
