"""Replying the founder's way: every reply goes through the reply checker before it leaves.

- A blocking finding stops the send; the desk shows each finding, why, and the lesson
  that teaches it. The owner may send over it with a note (``overridden``).
- A trainee's replies (and those of anyone training put back under supervision) are held
  for review in the share training's policy sets; the owner approves (maybe after an
  edit) or returns them with a comment.
- What was sent is announced for notify (``tickets.reply_posted.v1``), every attempt for
  training's coaching (``tickets.reply_checked.v1``), a held reply for the reviewers
  (``tickets.reply_awaiting_review.v1``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from services.tickets.checking import checker
from services.tickets.clocks import refresh, waited_past_sla
from services.tickets.lifecycle import (
    MAX_BODY,
    PRODUCER,
    TicketError,
    history,
    move_status,
    now,
    ticket_ref,
)
from services.tickets.models import Message, ReviewPolicy, StaffMember, Ticket
from services.training.checker import ReplyContext
from shared.bus.outbox import record_event

TRAINEE_DEFAULT_SHARE = 100
"""Until training's policy arrives, a trainee's every reply is held."""


@dataclass(frozen=True)
class ReplyOutcome:
    outcome: str
    """``sent``, ``held``, ``stopped`` or ``overridden``."""
    findings: list[dict[str, Any]] = field(default_factory=list)
    message: Message | None = None

    @property
    def blocking(self) -> bool:
        return any(finding["severity"] == "block" for finding in self.findings)


def check(
    session: Session, ticket: Ticket, text: str, *, beyond_hosting: bool = False
) -> list[dict[str, Any]]:
    """The checker's findings on a draft, in the ticket's language; the ticket's own SLA
    clock says whether the customer waited too long."""
    context = ReplyContext(
        kind="reply",
        waited_past_sla=waited_past_sla(session, ticket),
        emergency=ticket.emergency,
        beyond_hosting=beyond_hosting,
        customer_id=ticket.customer_id,
    )
    result = checker(session).check(text, context, ticket.language)
    return [
        {
            "check": f.check,
            "rule": f.rule,
            "severity": f.severity,
            "message": f.message,
            "why": f.why,
            "lesson": f.lesson,
            "evidence": f.evidence,
            "start": f.start,
            "end": f.end,
        }
        for f in result.findings
    ]


def share_held(session: Session, staff: StaffMember) -> int:
    policy = session.get(ReviewPolicy, staff.id)
    if policy is not None:
        return policy.share_held
    return TRAINEE_DEFAULT_SHARE if staff.role == "trainee" else 0


def _sampled(staff_id: int, message_id: int, share: int) -> bool:
    # Deterministic, so a retried request decides the same way, and spread evenly.
    digest = hashlib.sha256(f"{staff_id}:{message_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < share


def reply(
    session: Session,
    ticket: Ticket,
    staff: StaffMember,
    body: str,
    *,
    override_note: str | None = None,
    beyond_hosting: bool = False,
    then_status: str = "waiting",
) -> ReplyOutcome:
    if ticket.status == "closed":
        raise TicketError("This ticket is closed.")
    body = (body or "").strip()
    if not body:
        raise TicketError("Write the reply.")
    if len(body) > MAX_BODY:
        raise TicketError(f"A reply is at most {MAX_BODY} characters.")
    if then_status not in ("open", "waiting", "on_hold"):
        raise TicketError("After a reply the ticket is open, waiting on the customer or on hold.")
    findings = check(session, ticket, body, beyond_hosting=beyond_hosting)
    blocking = any(f["severity"] == "block" for f in findings)
    override_note = (override_note or "").strip() or None
    if blocking and not (override_note and staff.role == "owner"):
        _announce_check(session, ticket, staff, "stopped", findings)
        return ReplyOutcome("stopped", findings)
    message = Message(
        ticket_id=ticket.id,
        author="staff",
        staff_id=staff.id,
        body=body,
        findings=json.dumps(findings),
        override_note=override_note if blocking else None,
        created_at=now(),
        state="sent",
    )
    session.add(message)
    session.flush()
    if _sampled(staff.id, message.id, share_held(session, staff)):
        message.state = "held"
        _announce_check(session, ticket, staff, "held", findings)
        history(session, ticket, staff.email, "reply_held", f"message {message.id}")
        record_event(
            session,
            PRODUCER,
            "tickets.reply_awaiting_review.v1",
            {
                "ticket_id": ticket.id,
                "reply_id": message.id,
                "staff_id": staff.id,
                "staff_name": staff.name,
                "subject": ticket.subject,
            },
        )
        return ReplyOutcome("held", findings, message)
    outcome = "overridden" if blocking else "sent"
    _announce_check(session, ticket, staff, outcome, findings)
    post(session, ticket, message, staff, then_status)
    return ReplyOutcome(outcome, findings, message)


def post(
    session: Session, ticket: Ticket, message: Message, author: StaffMember, then_status: str
) -> None:
    """The reply goes to the customer."""
    moment = now()
    message.state = "sent"
    ticket.first_response_at = ticket.first_response_at or moment
    ticket.last_staff_reply_at = moment
    ticket.updated_at = moment
    if ticket.assignee_id is None:
        ticket.assignee_id = author.id
    history(session, ticket, author.email, "replied", f"message {message.id}")
    move_status(session, ticket, then_status, author.email)
    refresh(session, ticket)
    record_event(
        session,
        PRODUCER,
        "tickets.reply_posted.v1",
        {
            **ticket_ref(ticket),
            "reply_id": message.id,
            "staff_id": author.id,
            "staff_name": author.name,
            "body": message.body,
        },
    )


def _announce_check(
    session: Session,
    ticket: Ticket,
    staff: StaffMember,
    outcome: str,
    findings: list[dict[str, Any]],
) -> None:
    record_event(
        session,
        PRODUCER,
        "tickets.reply_checked.v1",
        {
            "ticket_id": ticket.id,
            "customer_id": ticket.customer_id,
            "staff_id": staff.id,
            "outcome": outcome,
            "findings": [
                {"check": f["check"], "rule": f["rule"], "severity": f["severity"]}
                for f in findings
            ],
            "checked_at": now(),
        },
    )
