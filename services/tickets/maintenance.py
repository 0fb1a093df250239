"""P-EMPATHY: maintenance is announced in advance, never sprung on customers.

The desk schedules a window with the customers it affects; notify announces it to each
of them in their language and business hours (at least 48 hours ahead when the window
leaves that long, at once otherwise) and reminds them an hour before. Calling a window
off withdraws what was not sent yet.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets.clocks import aware
from services.tickets.lifecycle import PRODUCER, NotFound, TicketError, now
from services.tickets.models import CustomerReplica, MaintenanceWindow, StaffMember
from services.tickets.staff import audit
from shared.bus.outbox import record_event

MAX_TITLE = 200
MAX_DETAILS = 5000
NOTICE_HOURS = "CORTESIA_MAINTENANCE_NOTICE_HOURS"
"""The notice notify promises the customers, read from the platform's own setting."""
REMINDER = timedelta(hours=1)
"""How long before a window notify reminds the customers of it."""


def notice_period(env: Mapping[str, str] | None = None) -> timedelta:
    """How far ahead notify announces a window at the least (48 hours unless the platform
    says otherwise): a window closer than that is announced at once, with less notice."""
    hours = (os.environ if env is None else env).get(NOTICE_HOURS, "48")
    return (
        timedelta(hours=int(hours)) if hours.isdigit() and int(hours) >= 1 else timedelta(hours=48)
    )


def short_notice(starts_at: datetime, at: datetime | None = None) -> bool:
    """Does a window starting at ``starts_at``, scheduled ``at`` (now by default), leave
    the customers less notice than notify promises them?"""
    start, moment = aware(starts_at), aware(at) or now()
    assert start is not None
    return start - moment < notice_period()


def customers_of(window: MaintenanceWindow) -> list[int]:
    return [int(customer_id) for customer_id in json.loads(window.customer_ids)]


def schedule(
    session: Session,
    staff: StaffMember,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    customer_ids: Sequence[int],
    details: str = "",
) -> MaintenanceWindow:
    title, details = (title or "").strip(), (details or "").strip()
    if not title:
        raise TicketError("Say what the maintenance is: customers read the title first.")
    if len(title) > MAX_TITLE:
        raise TicketError(f"A title is at most {MAX_TITLE} characters.")
    if starts_at.tzinfo is None or ends_at.tzinfo is None:
        raise TicketError("Give the window's start and end with their time zone.")
    # Kept in UTC: SQLite stores the clock reading without its offset.
    starts_at, ends_at = starts_at.astimezone(UTC), ends_at.astimezone(UTC)
    if starts_at <= now():
        raise TicketError("A maintenance window is scheduled ahead, not in the past.")
    if ends_at <= starts_at:
        raise TicketError("The window ends after it starts.")
    affected = list(dict.fromkeys(customer_ids))
    if not affected:
        raise TicketError("Name the customers the maintenance affects.")
    known = set(
        session.execute(
            select(CustomerReplica.customer_id).where(CustomerReplica.customer_id.in_(affected))
        ).scalars()
    )
    unknown = [customer_id for customer_id in affected if customer_id not in known]
    if unknown:
        raise TicketError(
            f"Billing has not told the desk about customer(s) {', '.join(map(str, unknown))}."
        )
    window = MaintenanceWindow(
        title=title,
        details=details,
        starts_at=starts_at,
        ends_at=ends_at,
        customer_ids=json.dumps(affected),
        scheduled_by=staff.email,
    )
    session.add(window)
    session.flush()
    audit(
        session,
        staff.email,
        "maintenance_scheduled",
        f"maintenance:{window.id}",
        f"{title}, {starts_at.isoformat()} to {ends_at.isoformat()}, {len(affected)} customer(s)",
    )
    record_event(
        session,
        PRODUCER,
        "tickets.maintenance_scheduled.v1",
        {
            "maintenance_id": window.id,
            "title": title,
            "details": details,
            "starts_at": starts_at,
            "ends_at": ends_at,
            "customer_ids": affected,
        },
    )
    return window


def cancel(session: Session, staff: StaffMember, maintenance_id: int) -> MaintenanceWindow:
    window = get_window(session, maintenance_id)
    if window.cancelled_at is not None:
        raise TicketError(f"Maintenance {maintenance_id} was already called off.")
    window.cancelled_at = now()
    window.cancelled_by = staff.email
    audit(session, staff.email, "maintenance_cancelled", f"maintenance:{window.id}", window.title)
    record_event(
        session, PRODUCER, "tickets.maintenance_cancelled.v1", {"maintenance_id": window.id}
    )
    return window


def get_window(session: Session, maintenance_id: int) -> MaintenanceWindow:
    window = session.get(MaintenanceWindow, maintenance_id)
    if window is None:
        raise NotFound(f"No maintenance window {maintenance_id}.")
    return window


def upcoming(session: Session) -> list[MaintenanceWindow]:
    """Windows not over yet, soonest first (called-off ones included, marked so)."""
    return list(
        session.execute(
            select(MaintenanceWindow)
            .where(MaintenanceWindow.ends_at > now())
            .order_by(MaintenanceWindow.starts_at)
        ).scalars()
    )


def ended_since(session: Session, since: datetime) -> list[MaintenanceWindow]:
    """Windows over between ``since`` and now, the latest first."""
    return list(
        session.execute(
            select(MaintenanceWindow)
            .where(MaintenanceWindow.ends_at <= now(), MaintenanceWindow.ends_at > since)
            .order_by(MaintenanceWindow.starts_at.desc())
        ).scalars()
    )
