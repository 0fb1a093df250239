"""Sending what is due: notifications whose moment has come, each on its channel, with
retries over hours and an honest record of every attempt.

A pass claims a batch of due notifications (``sending``, committed: on PostgreSQL
two dispatchers skip each other's rows), delivers them outside any transaction,
then records every outcome of the batch in one transaction together with the
events it causes:

- delivered: ``sent``, and ``notify.notification_sent.v1`` (billing proves an
  invoice went out with it; the desk shows it on the customer's timeline);
- a transient failure (server down, greylisting): queued again after the next
  wait of ``NotifyConfig.retry_minutes``; when those are spent, failed;
- failed (permanent, or out of retries): ``failed`` with the reason,
  ``notify.notification_failed.v1``, an alert to the owner, and for an urgent
  message the same message on the recipient's next channel.

A process that dies between a delivery and its record leaves the notification
``sending``; after ``stale_after`` it is sent again with the same Message-ID
(and the same idempotency key for the HTTP provider), so the receiving side
can recognise the copy. That window is the only way a message can arrive twice.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from services.notify.catalogue import load_catalogue
from services.notify.channels import Channel, DeliveryError, Outgoing
from services.notify.config import NotifyConfig
from services.notify.directory import staff_with_roles
from services.notify.models import Notification
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
from shared.background import PeriodicJob
from shared.bus.outbox import record_event
from shared.db import Database
from shared.logging import get_logger

log_ = get_logger(__name__)

PRODUCER = "notify"


@dataclass(frozen=True)
class Outcome:
    notification_id: int
    reference: str | None = None
    error: DeliveryError | None = None


def message_id(notification: Notification, domain: str) -> str:
    return f"<n{notification.id}.{notification.source_event_id[:8]}@{domain}>"


class Dispatcher(PeriodicJob):
    name = "notify-dispatcher"

    def __init__(
        self,
        database: Database,
        channels: Mapping[str, Channel],
        config: NotifyConfig,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        batch_size: int = 100,
        every_seconds: float = 1.0,
        stale_after: timedelta = timedelta(minutes=5),
    ) -> None:
        super().__init__()
        self.database = database
        self.channels = channels
        self.config = config
        self.clock = clock
        self.batch_size = batch_size
        self.every_seconds = every_seconds
        self.stale_after = stale_after
        self.domain = config.support_email.rpartition("@")[2] or "cortesia.local"

    # -- one pass -----------------------------------------------------------------

    def run_once(self) -> int:
        """Deliver one batch of what is due; returns how many were attempted."""
        now = self.clock()
        claimed = self._claim(now)
        outcomes = [self._deliver(message) for message in claimed]
        if outcomes:
            self._record(outcomes, self.clock())
        return len(outcomes)

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
                select(Notification)
                .where(
                    Notification.status.in_(("held", "queued")),
                    Notification.not_before <= now,
                )
                .order_by(Notification.urgent.desc(), Notification.not_before, Notification.id)
                .limit(self.batch_size)
            )
            if self.database.is_postgres:
                query = query.with_for_update(skip_locked=True)
            claimed: list[Outgoing] = []
            for notification in session.execute(query).scalars():
                notification.status = "sending"
                notification.claimed_at = now
                claimed.append(self._outgoing(notification))
            return claimed

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

    def _outgoing(self, notification: Notification) -> Outgoing:
        return Outgoing(
            notification_id=notification.id,
            channel=notification.channel,
            to=notification.address or "",
            to_name=notification.recipient_name or None,
            subject=notification.subject,
            text=notification.body_text or "",
            html=notification.body_html,
            message_id=message_id(notification, self.domain),
            headers=json.loads(notification.headers) if notification.headers else {},
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

    def _record(self, outcomes: list[Outcome], now: datetime) -> None:
        with self.database.transaction() as session:
            for outcome in outcomes:
                notification = session.get(Notification, outcome.notification_id)
                if notification is None or notification.status != "sending":
                    continue
                notification.attempts += 1
                if outcome.error is None:
                    self._sent(session, notification, outcome.reference, now)
                elif outcome.error.permanent or notification.attempts > len(
                    self.config.retry_minutes
                ):
                    self.fail(session, notification, outcome.error.reason, now)
                else:
                    wait = timedelta(minutes=self.config.retry_minutes[notification.attempts - 1])
                    notification.status = "queued"
                    notification.not_before = now + wait
                    notification.reason = outcome.error.reason
                    log(
                        session,
                        notification,
                        "queued",
                        f"attempt {notification.attempts} failed: {outcome.error.reason}; "
                        f"next at {notification.not_before.isoformat(timespec='minutes')}",
                    )

    def _sent(
        self, session: Session, notification: Notification, reference: str | None, now: datetime
    ) -> None:
        notification.status = "sent"
        notification.sent_at = now
        notification.provider_ref = reference
        notification.reason = None
        log(session, notification, "sent", reference)
        record_event(
            session,
            PRODUCER,
            "notify.notification_sent.v1",
            {
                "notification_id": notification.id,
                "source_event_id": notification.source_event_id,
                "source_event_type": notification.source_event_type,
                "channel": notification.channel,
                "customer_id": notification.customer_id,
                "sent_at": now,
            },
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
