"""The desk's own rounds, every minute: SLA warnings and breaches announced once each (notify
alerts staff), the owner's escalation rules, the P-EASE follow-up some days after a
resolution, tickets left waiting on the customer closed after a notice ("closing in N
days"), and the managed customers' touchpoints kept due (P-CADENCE)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets import clocks
from services.tickets.care import cadence_rounds
from services.tickets.escalation import escalation_rounds
from services.tickets.lifecycle import PRODUCER, aware, close, history, ticket_ref
from services.tickets.models import OPEN_STATUSES, Ticket
from services.tickets.sla import SlaStatus
from shared import clock
from shared.background import PeriodicJob
from shared.bus.outbox import record_event
from shared.db import Database

ANNOUNCED = {
    SlaStatus.WARNING: "tickets.sla_warning.v1",
    SlaStatus.BREACHED: "tickets.sla_breached.v1",
}


@dataclass(frozen=True)
class UpkeepPolicy:
    follow_up_days: int = 3
    """P-EASE: how long after a resolution the customer is asked whether all is still well."""
    close_waiting_after_days: int = 7
    closing_notice_days: int = 2
    """The notice comes this many days before an inactive ticket closes."""
    close_resolved_after_days: int = 7

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> UpkeepPolicy:
        env = os.environ if env is None else env
        values = {}
        for name in (
            "follow_up_days",
            "close_waiting_after_days",
            "closing_notice_days",
            "close_resolved_after_days",
        ):
            raw = env.get(f"CORTESIA_TICKETS_{name.upper()}")
            if raw is None:
                continue
            if not raw.isdigit() or int(raw) < 1:
                raise ValueError(f"CORTESIA_TICKETS_{name.upper()} must be a whole number of days")
            values[name] = int(raw)
        policy = cls(**values)
        if policy.closing_notice_days >= policy.close_waiting_after_days:
            raise ValueError("the closing notice must come before the ticket closes")
        return policy


def _token(target: str, status: SlaStatus, started_at: datetime | None) -> str:
    # Short, so that a ticket's every announcement fits its column: first response and
    # resolution are announced once per status; the next response once per customer turn.
    token = f"{target[0]}{status.value[0]}"
    if target == "next_response" and started_at is not None:
        token += str(int(started_at.timestamp()))
    return token


def sla_rounds(session: Session, now: datetime) -> int:
    announced = 0
    open_tickets = list(
        session.execute(select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))).scalars()
    )
    for ticket_id, state in clocks.states(session, open_tickets, now).items():
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        done = set(filter(None, ticket.sla_alerted.split(",")))
        for name, target in (
            ("first_response", state.first_response),
            ("next_response", state.next_response),
            ("resolution", state.resolution),
        ):
            event_type = ANNOUNCED.get(target.status)
            token = _token(name, target.status, target.started_at)
            if event_type is None or token in done or target.due_at is None:
                continue
            if name == "next_response":
                done = {t for t in done if not t.startswith("n")} | {
                    t for t in done if t.startswith("n") and t[2:] == token[2:]
                }
            record_event(
                session,
                PRODUCER,
                event_type,
                {
                    "ticket_id": ticket.id,
                    "subject": ticket.subject,
                    "priority": ticket.priority,
                    "assignee_id": ticket.assignee_id,
                    "target": name,
                    "due_at": target.due_at,
                },
            )
            history(session, ticket, "system", f"sla_{target.status}", name)
            done.add(token)
            announced += 1
        ticket.sla_alerted = ",".join(sorted(done))
    return announced


def ease_rounds(session: Session, policy: UpkeepPolicy, now: datetime) -> int:
    changed = 0
    for ticket in session.execute(select(Ticket).where(Ticket.status == "resolved")).scalars():
        resolved_at = aware(ticket.resolved_at)
        if resolved_at is None:
            continue
        if ticket.follow_up_at is None and resolved_at <= now - timedelta(
            days=policy.follow_up_days
        ):
            ticket.follow_up_at = now
            record_event(
                session,
                PRODUCER,
                "tickets.follow_up_due.v1",
                {**ticket_ref(ticket), "resolved_on": resolved_at.date()},
            )
            changed += 1
        elif resolved_at <= now - timedelta(days=policy.close_resolved_after_days):
            close(session, ticket, "system", "resolved")
            changed += 1
    for ticket in session.execute(select(Ticket).where(Ticket.status == "waiting")).scalars():
        quiet_since = aware(ticket.last_staff_reply_at) or aware(ticket.updated_at)
        assert quiet_since is not None
        closes_on = quiet_since + timedelta(days=policy.close_waiting_after_days)
        notice_due = closes_on - timedelta(days=policy.closing_notice_days)
        notice = aware(ticket.closing_notice_at)
        if notice is not None and notice < quiet_since:
            notice = None  # the conversation moved on since the last notice
        if notice is None and now >= notice_due:
            ticket.closing_notice_at = now
            record_event(
                session,
                PRODUCER,
                "tickets.closing_soon.v1",
                {**ticket_ref(ticket), "closes_on": closes_on.date()},
            )
            history(session, ticket, "system", "closing_notice", closes_on.date().isoformat())
            changed += 1
        elif notice is not None and now >= max(
            closes_on, notice + timedelta(days=policy.closing_notice_days)
        ):
            close(session, ticket, "system", "inactive")
            history(session, ticket, "system", "closed", "no answer from the customer")
            changed += 1
    return changed


class UpkeepJob(PeriodicJob):
    name = "tickets-upkeep"
    every_seconds = 60.0

    def __init__(self, database: Database, policy: UpkeepPolicy | None = None) -> None:
        super().__init__()
        self.database = database
        self.policy = policy or UpkeepPolicy.from_env()

    def tick(self) -> bool:
        now = clock.now()
        with self.database.transaction() as session:
            sla_rounds(session, now)
            escalation_rounds(session, now)
            ease_rounds(session, self.policy, now)
            cadence_rounds(session, clocks.company_date(now))
        return False
