"""Sending what is due: notifications whose moment has come, each on its channel, with
retries over hours and an honest record of every attempt.

A pass claims a batch of due notifications (``sending``, committed: on PostgreSQL
two dispatchers skip each other's rows) and delivers them one by one outside any
transaction. Outcomes are recorded in groups of ``most_unrecorded``, each group
in one transaction with the events it causes:

- delivered: ``sent``, and ``notify.notification_sent.v1`` (billing proves an
  invoice went out with it; the desk shows it on the customer's timeline);
- a transient failure (server down, greylisting): queued again after the next
  wait of ``NotifyConfig.retry_minutes``; when those are spent, failed;
- failed (permanent, or out of retries): ``failed`` with the reason,
  ``notify.notification_failed.v1``, an alert to the owner, and for an urgent
  message the same message on the recipient's next channel.

A notification is marked ``sent`` only after the server accepted it. A process
that dies between a delivery and its record leaves the notification ``sending``;
after ``stale_after`` it is sent again with the same Message-ID (and the same
idempotency key for the HTTP provider), so the receiving side can recognise the
copy. That window is the only way a message can arrive twice, and it is narrow:
no more than ``most_unrecorded`` deliveries are ever done and not yet committed,
so a crash sends again at most that many. Nothing accepted is lost: what is not
yet recorded is sent again.

The group is recorded by the thread that sends, between two deliveries. A
recorder thread committing while the next messages go out looks cheaper, but
both threads are mostly Python and take turns on the interpreter lock: each SMTP
reply then waits for the recorder's turn, which cost more than the commits it
hid (a commit for eight messages is a fraction of a millisecond each).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Row, or_, select, update
from sqlalchemy.orm import Session

from services.notify.catalogue import load_catalogue
from services.notify.channels import Channel, DeliveryError, Outgoing
from services.notify.config import NotifyConfig
from services.notify.directory import staff_with_roles
from services.notify.models import DeliveryLogEntry, Notification
from services.notify.planning import (
    URGENT_ORDER,
    addressee_of,
    log,
    overrides,
    remember_source,
    source_of,
    staff_addressee,
    write,
)
from shared import clock as platform_clock
from shared.background import PeriodicJob
from shared.bus.outbox import new_event, record_event, write_events
from shared.db import Database, insert_rows
from shared.logging import get_logger

log_ = get_logger(__name__)

PRODUCER = "notify"
Columns = Row[*tuple[Any, ...]]
"""A row of some of a notification's columns, read without building the ORM object."""
SENT = "notify.notification_sent.v1"


@dataclass(frozen=True)
class Outcome:
    notification_id: int
    reference: str | None = None
    error: DeliveryError | None = None


class Identified(Protocol):
    """What a Message-ID is made of: a notification, or a row of its columns."""

    @property
    def id(self) -> int: ...

    @property
    def source_event_id(self) -> str: ...


def message_id(notification: Identified, domain: str) -> str:
    return f"<n{notification.id}.{notification.source_event_id[:8]}@{domain}>"


_OUTGOING_COLUMNS = (
    Notification.id,
    Notification.source_event_id,
    Notification.channel,
    Notification.address,
    Notification.recipient_name,
    Notification.subject,
    Notification.body_text,
    Notification.body_html,
    Notification.headers,
)
"""What a delivery needs of a notification: the claim reads these and no more."""

_RECORD_COLUMNS = (
    Notification.id,
    Notification.status,
    Notification.attempts,
    Notification.source_event_id,
    Notification.source_event_type,
    Notification.channel,
    Notification.customer_id,
)
"""What recording a delivery needs: the notification_sent event is made of these."""


class Dispatcher(PeriodicJob):
    name = "notify-dispatcher"

    def __init__(
        self,
        database: Database,
        channels: Mapping[str, Channel],
        config: NotifyConfig,
        *,
        clock: Callable[[], datetime] = platform_clock.now,
        batch_size: int = 100,
        most_unrecorded: int = 8,
        every_seconds: float = 1.0,
        stale_after: timedelta = timedelta(minutes=5),
    ) -> None:
        super().__init__()
        self.database = database
        self.channels = channels
        self.config = config
        self.clock = clock
        self.batch_size = batch_size
        self.most_unrecorded = most_unrecorded
        """How many deliveries may be done but not yet committed: what a crash sends twice."""
        self.every_seconds = every_seconds
        self.stale_after = stale_after
        self.domain = config.support_email.rpartition("@")[2] or "cortesia.local"

    # -- one pass -----------------------------------------------------------------

    def run_once(self) -> int:
        """Deliver one batch of what is due; returns how many were attempted."""
        claimed = self._claim(self.clock())
        if not claimed:
            return 0
        unrecorded: list[Outcome] = []
        for message in claimed:
            unrecorded.append(self._deliver(message))
            if len(unrecorded) >= self.most_unrecorded:
                self._record(unrecorded)
                unrecorded = []
        if unrecorded:
            self._record(unrecorded)
        return len(claimed)

    def drain(self, limit: int = 1_000_000) -> int:
        """Passes until nothing is due (tests and the held-message release)."""
        total = 0
        while total < limit:
            done = self.run_once()
            if done == 0:
                return total
            total += done
        return total

    def _claim(self, now: datetime) -> list[Outgoing]:
        with self.database.transaction() as session:
            self._reclaim_stale(session, now)
            query = (
                select(*_OUTGOING_COLUMNS)
                .where(
                    Notification.status.in_(("held", "queued")),
                    Notification.not_before <= now,
                )
                .order_by(Notification.urgent.desc(), Notification.not_before, Notification.id)
                .limit(self.batch_size)
            )
            if self.database.is_postgres:
                query = query.with_for_update(skip_locked=True)
            rows = session.execute(query).all()
            if rows:
                session.execute(
                    update(Notification)
                    .where(Notification.id.in_([row.id for row in rows]))
                    .values(status="sending", claimed_at=now)
                    .execution_options(synchronize_session=False)
                )
            return [self._outgoing(row) for row in rows]

    def _reclaim_stale(self, session: Session, now: datetime) -> None:
        stale = session.execute(
            select(Notification).where(
                Notification.status == "sending",
                or_(
                    Notification.claimed_at.is_(None),
                    Notification.claimed_at < now - self.stale_after,
                ),
            )
        ).scalars()
        for notification in stale:
            notification.status = "queued"
            log(
                session,
                notification,
                "queued",
                "a delivery was interrupted: sending again with the same Message-ID",
            )

    def _outgoing(self, row: Columns) -> Outgoing:
        return Outgoing(
            notification_id=row.id,
            channel=row.channel,
            to=row.address or "",
            to_name=row.recipient_name or None,
            subject=row.subject,
            text=row.body_text or "",
            html=row.body_html,
            message_id=message_id(row, self.domain),
            headers=json.loads(row.headers) if row.headers else {},
        )

    def _deliver(self, message: Outgoing) -> Outcome:
        channel = self.channels.get(message.channel)
        if channel is None:
            return Outcome(
                message.notification_id,
                error=DeliveryError(f"no {message.channel} provider is configured", permanent=True),
            )
        try:
            return Outcome(message.notification_id, reference=channel.send(message))
        except DeliveryError as error:
            return Outcome(message.notification_id, error=error)
        except Exception as error:  # a channel's bug must not lose the batch's record
            log_.exception("notify.channel_crashed", channel=message.channel)
            return Outcome(
                message.notification_id, error=DeliveryError(repr(error), permanent=False)
            )

    # -- recording --------------------------------------------------------------------

    def _record(self, outcomes: Sequence[Outcome]) -> None:
        """Record ``outcomes`` in one transaction: the deliveries in a few statements for
        all of them, each failure through the notification's own rules."""
        now = self.clock()
        with self.database.transaction() as session:
            rows = self._still_sending(session, [outcome.notification_id for outcome in outcomes])
            self._sent(
                session,
                [(rows[o.notification_id], o.reference) for o in outcomes if o.error is None],
                now,
            )
            for outcome in outcomes:
                if outcome.error is not None and outcome.notification_id in rows:
                    notification = session.get(Notification, outcome.notification_id)
                    assert notification is not None
                    self._failed(session, notification, outcome.error, now)

    def _still_sending(self, session: Session, ids: Sequence[int]) -> dict[int, Columns]:
        """The notifications among ``ids`` still ``sending``: one claimed again after going
        stale, or called off meanwhile, is no longer this pass's to record."""
        query = select(*_RECORD_COLUMNS).where(Notification.id.in_(ids))
        if self.database.is_postgres:
            query = query.with_for_update()
        return {row.id: row for row in session.execute(query) if row.status == "sending"}

    def _sent(
        self, session: Session, delivered: Sequence[tuple[Columns, str | None]], now: datetime
    ) -> None:
        if not delivered:
            return
        session.execute(
            update(Notification),
            [
                {
                    "id": row.id,
                    "status": "sent",
                    "sent_at": now,
                    "provider_ref": reference,
                    "reason": None,
                    "attempts": row.attempts + 1,
                }
                for row, reference in delivered
            ],
        )
        logged_at = platform_clock.now()
        insert_rows(
            session,
            DeliveryLogEntry.__table__,  # type: ignore[arg-type]
            [
                {"notification_id": row.id, "at": logged_at, "status": "sent", "detail": reference}
                for row, reference in delivered
            ],
        )
        write_events(
            session,
            [
                new_event(
                    PRODUCER,
                    SENT,
                    {
                        "notification_id": row.id,
                        "source_event_id": row.source_event_id,
                        "source_event_type": row.source_event_type,
                        "channel": row.channel,
                        "customer_id": row.customer_id,
                        "sent_at": now,
                    },
                )
                for row, _ in delivered
            ],
        )

    def _failed(
        self, session: Session, notification: Notification, error: DeliveryError, now: datetime
    ) -> None:
        notification.attempts += 1
        if error.permanent or notification.attempts > len(self.config.retry_minutes):
            self.fail(session, notification, error.reason, now)
            return
        wait = timedelta(minutes=self.config.retry_minutes[notification.attempts - 1])
        notification.status = "queued"
        notification.not_before = now + wait
        notification.reason = error.reason
        log(
            session,
            notification,
            "queued",
            f"attempt {notification.attempts} failed: {error.reason}; "
            f"next at {notification.not_before.isoformat(timespec='minutes')}",
        )

    def fail(
        self, session: Session, notification: Notification, reason: str, now: datetime
    ) -> None:
        notification.status = "failed"
        notification.reason = reason
        log(session, notification, "failed", reason)
        record_event(
            session,
            PRODUCER,
            "notify.notification_failed.v1",
            {
                "notification_id": notification.id,
                "source_event_id": notification.source_event_id,
                "source_event_type": notification.source_event_type,
                "channel": notification.channel,
                "customer_id": notification.customer_id,
                "reason": reason,
            },
        )
        if notification.urgent:
            fall_back(session, self.config, notification, now)
        if not notification.kind.startswith("alert_"):
            alert_owners(session, self.config, notification, now)

    # -- the background loop ------------------------------------------------------------

    def tick(self) -> bool:
        # A full batch means more is due: go again at once.
        return self.run_once() == self.batch_size

    def stop(self, timeout: float = 30.0) -> None:
        super().stop(timeout)
        for channel in self.channels.values():
            channel.close()


def fall_back(
    session: Session, config: NotifyConfig, notification: Notification, now: datetime
) -> None:
    """An urgent message that failed goes out on the recipient's next channel."""
    addressee = addressee_of(session, config, notification)
    source = source_of(session, notification)
    if addressee is None or source is None:
        return
    tried = set(
        session.execute(
            select(Notification.channel).where(
                Notification.source_event_id == notification.source_event_id,
                Notification.kind == notification.kind,
                Notification.recipient_key == notification.recipient_key,
            )
        ).scalars()
    )
    untried = [c for c in URGENT_ORDER if c in addressee.addresses and c not in tried]
    if not untried:
        return
    kind = load_catalogue().kind(notification.kind)
    data, extra = source
    for written in write(
        session,
        config,
        kind,
        addressee,
        data,
        notification.source_event_id,
        notification.source_event_type,
        now,
        now,
        overrides(session),
        channels=untried[:1],
        extra=extra,
    ):
        log(session, written, written.status, f"instead of {notification.channel}, which failed")


def alert_owners(
    session: Session, config: NotifyConfig, notification: Notification, now: datetime
) -> None:
    """Tell the owner a message could not be delivered, and why."""
    kind = load_catalogue().kind("alert_delivery_failed")
    failure = {
        "notification_id": notification.id,
        "recipient": notification.recipient_name
        or notification.address
        or notification.recipient_key,
        "channel": notification.channel,
        "kind": notification.kind,
        "reason": notification.reason or "",
    }
    moment = now if config.calendar.is_open(now) else config.calendar.next_opening(now)
    source_id = f"notify:failed:{notification.id}"
    remember_source(session, source_id, "notify:alert_delivery_failed", {"failure": failure})
    for owner in staff_with_roles(session, ("owner",)):
        write(
            session,
            config,
            kind,
            staff_addressee(config, owner, kind, False),
            {},
            source_id,
            "notify.notification_failed.v1",
            moment,
            now,
            overrides(session),
            extra={"failure": failure},
        )
