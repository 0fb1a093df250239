"""Inbound email: the desk's own SMTP listener turns customers' emails into tickets.

A message whose address or subject carries a ticket's reference (``T-<id>-<secret>``, as
the desk's messages do: ``suporte+T-42-a1b2c3@...`` or ``[T-42-a1b2c3]`` in the subject)
joins that ticket's conversation; a reply to a managed customer's periodic report (sent
to the ``+report-`` alias) goes to notify, which wrote it; any other opens a new ticket.
Attachments are kept up to ``MAX_ATTACHMENT`` bytes each; a larger one is left out and the
ticket says so.

The listener accepts mail for the configured domain only, answers 552 for a message over
``MAX_MESSAGE``, and records each message in one transaction (nothing half-kept).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses, parseaddr
from typing import Any

from aiosmtpd.controller import Controller
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.tickets import attachments
from services.tickets.attachments import keep
from services.tickets.lifecycle import (
    PRODUCER,
    NewTicket,
    TicketError,
    customer_message,
    open_ticket,
)
from services.tickets.models import Message, Ticket
from shared.bus.outbox import record_event
from shared.db import Database
from shared.logging import get_logger

log = get_logger(__name__)

MAX_ATTACHMENT = attachments.MAX_ATTACHMENT
MAX_MESSAGE = 25 * 1024 * 1024
REFERENCE = re.compile(r"T-(\d+)-([0-9a-f]{6})")
REPORT_REPLY = re.compile(r"\+report-[A-Za-z0-9_-]{20,64}@")
QUOTE_START = re.compile(r"^(On .+ wrote:|Em .+ escreveu:|El .+ escribió:)\s*$", re.MULTILINE)


@dataclass(frozen=True)
class Received:
    ticket_id: int
    new_ticket: bool
    attachments: int
    left_out: list[str]


def _text(message: EmailMessage) -> str:
    part = message.get_body(("plain", "html"))
    if part is None:
        return ""
    text = str(part.get_content())
    if part.get_content_type() == "text/html":
        text = re.sub(r"<[^>]+>", " ", text)
    # Keep the customer's words, not the whole quoted conversation below them.
    cut = QUOTE_START.search(text)
    if cut:
        text = text[: cut.start()]
    lines = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    return "\n".join(lines).strip()


def _ticket_for(session: Session, message: EmailMessage) -> Ticket | None:
    places = [str(message.get("Subject", ""))]
    places += [address for _, address in getaddresses(message.get_all("To", []))]
    for place in places:
        for match in REFERENCE.finditer(place):
            ticket = session.get(Ticket, int(match.group(1)))
            if ticket is not None and ticket.reference == match.group(0):
                return ticket
    return None


def _report_address(message: EmailMessage) -> str | None:
    for _, address in getaddresses(message.get_all("To", [])):
        if REPORT_REPLY.search(address):
            return address
    return None


def receive(session: Session, raw: bytes) -> Received | None:
    """Keep one inbound message; None when it was a reply to a periodic report, handed to
    notify (which wrote the report) as ``tickets.report_reply_arrived.v1``."""
    message = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    name, sender = parseaddr(str(message.get("From", "")))
    if "@" not in sender:
        raise TicketError("The message has no sender address.")
    report_address = _report_address(message)
    if report_address is not None:
        part = message.get_body(("plain",))
        record_event(
            session,
            PRODUCER,
            "tickets.report_reply_arrived.v1",
            {
                "recipient": report_address,
                "sender": sender,
                "subject": str(message.get("Subject", "")),
                "text": str(part.get_content()) if part is not None else "",
                "in_reply_to": message.get("In-Reply-To"),
                "references": message.get("References"),
            },
        )
        return None
    body = _text(message) or "(no text; see the attachments)"
    ticket = _ticket_for(session, message)
    actor = f"customer:{sender.lower()}"
    if ticket is not None and ticket.status != "closed":
        kept = customer_message(session, ticket, body, actor)
        new = False
    else:
        subject = (
            REFERENCE.sub("", str(message.get("Subject", "")) or "").strip(" []") or "(no subject)"
        )
        ticket = open_ticket(
            session,
            NewTicket(
                subject=subject[:300],
                body=body,
                requester_email=sender,
                requester_name=name,
                channel="email",
            ),
            actor,
        )
        first = (
            session.execute(
                select(Message).where(Message.ticket_id == ticket.id).order_by(Message.id)
            )
            .scalars()
            .first()
        )
        assert first is not None
        kept, new = first, True
    session.flush()
    count, left_out = 0, []
    for part in message.iter_attachments():
        filename = part.get_filename() or "attachment"
        data = part.get_payload(decode=True) or b""
        if not isinstance(data, bytes):
            continue
        if keep(
            session, ticket.id, kept.id, filename, part.get_content_type(), data, MAX_ATTACHMENT
        ):
            count += 1
        else:
            left_out.append(filename)
    if left_out:
        session.add(
            Message(
                ticket_id=ticket.id,
                author="system",
                internal=True,
                body=(
                    f"Left out, over {MAX_ATTACHMENT // (1024 * 1024)} MiB: "
                    f"{', '.join(left_out)}. Ask the customer for a link."
                ),
            )
        )
    return Received(ticket.id, new, count, left_out)


class _Handler:
    def __init__(self, database: Database, domain: str) -> None:
        self.database = database
        self.domain = domain.lower()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if not address.lower().endswith("@" + self.domain):
            return "550 5.1.1 not a mailbox of this desk"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or envelope.content
        if len(raw) > MAX_MESSAGE:
            return "552 5.3.4 message too big"
        try:
            with self.database.transaction() as db_session:
                received = receive(db_session, raw)
        except TicketError as refused:
            return f"550 5.6.0 {refused}"
        if received is None:
            log.info("inbound.report_reply")
        else:
            log.info("inbound.received", ticket_id=received.ticket_id, new=received.new_ticket)
        return "250 2.0.0 OK: kept"


class InboundMailServer:
    """The listener, run by the tickets worker when ``CORTESIA_TICKETS_INBOUND_PORT`` is set."""

    def __init__(self, database: Database, host: str, port: int, domain: str) -> None:
        self._controller = Controller(
            _Handler(database, domain), hostname=host, port=port, data_size_limit=MAX_MESSAGE
        )

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()
