"""Notify hears every event that has a message in the catalogue, plans its notifications
in the same transaction as the inbox record (a re-delivered event plans nothing; the
events of a batch are planned together), and follows the desk's maintenance windows."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC
from functools import lru_cache

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.notify.catalogue import load_catalogue
from services.notify.config import NotifyConfig
from services.notify.models import PENDING, Maintenance, Notification
from services.notify.planning import HeardEvent, log, plan_events
from shared.bus.subscriber import ReceivedEvent, Subscriber

messages = Subscriber("notify.messages")


@lru_cache(maxsize=1)
def current_config() -> NotifyConfig:
    # The platform's own address (not notify's): messages link to every service's pages.
    return NotifyConfig.from_env(os.environ.get("CORTESIA_PUBLIC_URL") or "http://localhost:8000")


def plan(session: Session, events: Sequence[ReceivedEvent]) -> None:
    plan_events(session, current_config(), [_heard(event) for event in events])


def _heard(event: ReceivedEvent) -> HeardEvent:
    # The event's own moment decides the business window: an event delivered late
    # (the broker was down) is as due as it would have been.
    occurred_at = event.envelope.occurred_at
    moment = occurred_at if occurred_at.tzinfo else occurred_at.replace(tzinfo=UTC)
    return HeardEvent(
        event.event_type,
        event.event_id,
        event.envelope.payload,
        moment,
        data=event.data,  # loaded through its schema already
    )


messages.handles_together(
    *sorted({kind.event for kind in load_catalogue().kinds() if kind.event is not None})
)(plan)


@messages.handles("tickets.maintenance_cancelled.v1")
def maintenance_cancelled(session: Session, event: ReceivedEvent) -> None:
    maintenance = session.get(Maintenance, event.data["maintenance_id"])
    if maintenance is None or maintenance.cancelled:
        return
    maintenance.cancelled = True
    for notification in session.execute(
        select(Notification).where(
            Notification.source_event_id == maintenance.event_id,
            Notification.status.in_(PENDING),
        )
    ).scalars():
        notification.status = "cancelled"
        notification.reason = "the maintenance window was called off"
        log(session, notification, "cancelled", notification.reason)
