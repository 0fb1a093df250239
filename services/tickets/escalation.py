"""P-ESCALATE: the owner's rules for tickets that have gone too long. A rule names
conditions (department, priority, status) and how much business time since the ticket
opened (its waits on the customer not counted); when a ticket meets them, the rule's
actions happen once: reassign it, raise its priority, alert the owner
(``tickets.ticket_escalated.v1``, which notify turns into the alert), attach the
escalation script as an internal note."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets import clocks
from services.tickets.lifecycle import PRODUCER, TicketError, assign, history, set_priority
from services.tickets.models import (
    OPEN_STATUSES,
    Escalation,
    EscalationRule,
    Message,
    StaffMember,
    Ticket,
)
from shared.bus.outbox import record_event
from shared.events.contracts import DEPARTMENTS, TICKET_PRIORITIES

ACTIONS = ("reassign", "raise_priority", "alert_owner", "attach_script")
ESCALATION_SCRIPT = "cannot-solve"
"""The playbook that says how to hand a ticket on without leaving the customer at a dead end."""
HIGHER = {"low": "normal", "normal": "high", "high": "urgent", "urgent": "urgent"}


@dataclass(frozen=True)
class RuleDraft:
    name: str
    after_minutes: int
    actions: list[str]
    department: str | None = None
    priority: str | None = None
    status: str | None = None


def save_rule(session: Session, draft: RuleDraft, rule_id: int | None = None) -> EscalationRule:
    name = draft.name.strip()
    if not name:
        raise TicketError("Name the rule.")
    if draft.after_minutes < 1:
        raise TicketError("A rule waits at least one business minute.")
    if draft.department and draft.department not in DEPARTMENTS:
        raise TicketError(f"Department must be one of: {', '.join(DEPARTMENTS)}.")
    if draft.priority and draft.priority not in TICKET_PRIORITIES:
        raise TicketError(f"Priority must be one of: {', '.join(TICKET_PRIORITIES)}.")
    if draft.status and draft.status not in OPEN_STATUSES:
        raise TicketError(f"A rule watches open tickets: {', '.join(OPEN_STATUSES)}.")
    if not draft.actions:
        raise TicketError("Choose what the rule does.")
    for action in draft.actions:
        verb, _, argument = action.partition(":")
        if verb not in ACTIONS:
            raise TicketError(f"Unknown action {action!r}; actions are {', '.join(ACTIONS)}.")
        if verb == "reassign":
            member = session.get(StaffMember, int(argument)) if argument.isdigit() else None
            if member is None or not member.active:
                raise TicketError("Reassign to an active staff member.")
    rule = session.get(EscalationRule, rule_id) if rule_id else EscalationRule(active=True)
    if rule is None:
        raise TicketError(f"No rule {rule_id}.")
    rule.name, rule.after_minutes = name, draft.after_minutes
    rule.department, rule.priority, rule.status = (
        draft.department or None,
        draft.priority or None,
        draft.status or None,
    )
    rule.actions = ",".join(draft.actions)
    session.add(rule)
    session.flush()
    return rule


def _matches(rule: EscalationRule, ticket: Ticket) -> bool:
    return (
        (rule.department is None or rule.department == ticket.department)
        and (rule.priority is None or rule.priority == ticket.priority)
        and (rule.status is None or rule.status == ticket.status)
    )


def escalation_rounds(session: Session, now: datetime) -> int:
    rules = list(
        session.execute(select(EscalationRule).where(EscalationRule.active.is_(True))).scalars()
    )
    if not rules:
        return 0
    fired = {(row.ticket_id, row.rule_id) for row in session.execute(select(Escalation)).scalars()}
    tickets = list(
        session.execute(select(Ticket).where(Ticket.status.in_(OPEN_STATUSES))).scalars()
    )
    count = 0
    for ticket_id, state in clocks.states(session, tickets, now).items():
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        elapsed = state.resolution.elapsed
        for rule in rules:
            if (ticket.id, rule.id) in fired or not _matches(rule, ticket):
                continue
            if elapsed.total_seconds() < rule.after_minutes * 60:
                continue
            _fire(session, rule, ticket, now)
            count += 1
    return count


def _fire(session: Session, rule: EscalationRule, ticket: Ticket, now: datetime) -> None:
    session.add(Escalation(ticket_id=ticket.id, rule_id=rule.id, at=now))
    actor = f"rule:{rule.name}"
    done: list[str] = []
    for action in rule.actions.split(","):
        verb, _, argument = action.partition(":")
        if verb == "reassign" and argument.isdigit():
            try:
                assign(session, ticket, int(argument), actor)
                done.append(action)
            except TicketError:
                history(session, ticket, actor, "escalation_skipped", f"{action}: not active")
        elif verb == "raise_priority" and HIGHER[ticket.priority] != ticket.priority:
            set_priority(session, ticket, HIGHER[ticket.priority], actor)
            done.append(action)
        elif verb == "attach_script":
            session.add(
                Message(
                    ticket_id=ticket.id,
                    author="system",
                    body=(
                        f"Escalated by “{rule.name}”: follow the script "
                        f"/training/playbooks/{ESCALATION_SCRIPT} (say what is known, give a "
                        "next step and a time, never leave the customer at a dead end)."
                    ),
                    internal=True,
                    created_at=now,
                )
            )
            done.append(action)
        elif verb == "alert_owner":
            done.append(action)
    history(session, ticket, actor, "escalated", ", ".join(done) or "nothing to do")
    record_event(
        session,
        PRODUCER,
        "tickets.ticket_escalated.v1",
        {
            "ticket_id": ticket.id,
            "subject": ticket.subject,
            "priority": ticket.priority,
            "assignee_id": ticket.assignee_id,
            "rule": rule.name,
            "actions": done,
        },
    )
