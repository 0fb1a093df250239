"""Who a customer is at the portal, and what they may see.

A customer signs in by a link emailed to them: following it proves the address is
theirs, which is also how the address of a customer the desk has never heard of is
verified. Each link works once, for 30 minutes; only the SHA-256 of its token is kept,
so the table alone signs nobody in. An address gets at most five links an hour, so the
portal cannot be used to flood someone's inbox.

P-CONFIDENTIAL: a signed-in customer sees a ticket only if they wrote it (its requester
address is theirs) or it belongs to the customer billing knows by their address. Every
page goes through ``visible_tickets`` / ``visible_ticket``, and a ticket they may not see
is the same ``NotFound`` as one that does not exist. Internal notes and staff replies
that were not sent (held for review, returned to their author) are never shown.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from marshmallow import ValidationError, validate
from sqlalchemy import ColumnElement, delete, func, or_, select, update
from sqlalchemy.orm import Session

from services.tickets.lifecycle import PRODUCER, NotFound, now
from services.tickets.models import (
    CustomerReplica,
    Message,
    PortalToken,
    Rating,
    StaffMember,
    Ticket,
)
from shared.bus.outbox import record_event
from shared.events.contracts import LANGUAGES

LINK_LIFETIME = timedelta(minutes=30)
LINKS_PER_HOUR = 5
KEPT_FOR = timedelta(days=1)
"""Spent links are deleted once this old: well past the rate limit's hour."""
_valid_address = validate.Email()
"""The same check the event's schema makes, so an address accepted here is one the
event accepts."""


class PortalAccessError(ValueError):
    """A sign-in the portal refuses; ``reason`` names the case for the page's words."""

    reason = "refused"


class InvalidEmail(PortalAccessError):
    reason = "invalid_email"


class TooManyLinks(PortalAccessError):
    reason = "too_many"


class UnknownLink(PortalAccessError):
    reason = "unknown"


class UsedLink(PortalAccessError):
    reason = "used"


class ExpiredLink(PortalAccessError):
    reason = "expired"


def normalise_email(email: str) -> str:
    """The address as the desk keeps it (tickets store requester addresses lower case)."""
    address = (email or "").strip().lower()
    try:
        _valid_address(address)
    except ValidationError:
        raise InvalidEmail("Enter a valid email address.") from None
    if len(address) > 254:
        raise InvalidEmail("Enter a valid email address.")
    return address


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def customer_with_email(session: Session, email: str) -> CustomerReplica | None:
    """The customer billing knows by this address (the lowest id if several share it)."""
    return session.execute(
        select(CustomerReplica)
        .where(func.lower(CustomerReplica.email) == email.lower())
        .order_by(CustomerReplica.customer_id)
        .limit(1)
    ).scalar_one_or_none()


def request_link(
    session: Session,
    email: str,
    language: str,
    public_url: str,
    *,
    next_path: str | None = None,
) -> str:
    """Make a sign-in link for ``email`` and have notify email it; returns the token.

    ``public_url`` is where the tickets service's pages are reached (its settings'
    ``public_url``, e.g. ``https://example.com/tickets``). ``next_path`` (already checked
    by the caller as a portal path) rides along on the link, so the customer lands where
    they were going even when they open the email on another device.
    """
    address = normalise_email(email)
    if language not in LANGUAGES:
        language = LANGUAGES[0]
    moment = now()
    session.execute(
        delete(PortalToken).where(
            PortalToken.email == address, PortalToken.created_at < moment - KEPT_FOR
        )
    )
    recent = session.execute(
        select(func.count())
        .select_from(PortalToken)
        .where(PortalToken.email == address, PortalToken.created_at > moment - timedelta(hours=1))
    ).scalar_one()
    if recent >= LINKS_PER_HOUR:
        raise TooManyLinks(
            f"{LINKS_PER_HOUR} sign-in links were sent to this address in the last hour. "
            "Use the latest one, or ask again later."
        )
    token = secrets.token_urlsafe(32)
    expires_at = moment + LINK_LIFETIME
    session.add(
        PortalToken(
            token_hash=hash_token(token),
            email=address,
            created_at=moment,
            expires_at=expires_at,
            used_at=None,
        )
    )
    link = f"{public_url.rstrip('/')}/portal/sign-in/{token}"
    if next_path:
        link += f"?next={quote(next_path, safe='/')}"
    customer = customer_with_email(session, address)
    record_event(
        session,
        PRODUCER,
        "tickets.portal_link_requested.v1",
        {
            "email": address,
            "customer_id": customer.customer_id if customer else None,
            "name": customer.name if customer else None,
            "language": language,
            "link": link,
            "expires_at": expires_at,
        },
    )
    return token


def redeem(session: Session, token: str) -> str:
    """Spend a sign-in link; returns the address it proves."""
    row = session.get(PortalToken, hash_token(token or ""))
    if row is None:
        raise UnknownLink("This sign-in link is not valid. Ask for a new one.")
    if row.used_at is not None:
        raise UsedLink("This sign-in link was already used. Ask for a new one.")
    moment = now()
    if _utc(row.expires_at) <= moment:
        raise ExpiredLink("This sign-in link has expired. Ask for a new one.")
    # Spent only if still unspent at this instant: two clicks at once sign in one.
    spent = session.connection().execute(
        update(PortalToken)
        .where(PortalToken.token_hash == row.token_hash, PortalToken.used_at.is_(None))
        .values(used_at=moment)
    )
    if spent.rowcount != 1:
        raise UsedLink("This sign-in link was already used. Ask for a new one.")
    return row.email


def _utc(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive; they are stored in UTC.
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# -- P-CONFIDENTIAL -----------------------------------------------------------------


def _visible_to(email: str) -> ColumnElement[bool]:
    address = email.strip().lower()
    theirs = select(CustomerReplica.customer_id).where(func.lower(CustomerReplica.email) == address)
    return or_(
        Ticket.requester_email == address,
        Ticket.customer_id.is_not(None) & Ticket.customer_id.in_(theirs),
    )


def visible_tickets(session: Session, email: str) -> list[Ticket]:
    """The tickets this customer may see, the most recently changed first."""
    return list(
        session.execute(
            select(Ticket)
            .where(_visible_to(email))
            .order_by(Ticket.updated_at.desc(), Ticket.id.desc())
        ).scalars()
    )


def visible_ticket(session: Session, email: str, ticket_id: int) -> Ticket:
    """The ticket if this customer may see it; ``NotFound`` alike if it is not theirs or
    does not exist, so the answer says nothing about other customers' tickets."""
    ticket = session.execute(
        select(Ticket).where(Ticket.id == ticket_id, _visible_to(email))
    ).scalar_one_or_none()
    if ticket is None:
        raise NotFound(f"No ticket {ticket_id}.")
    return ticket


def conversation(session: Session, ticket: Ticket) -> Sequence[Message]:
    """What the customer reads on a ticket: their messages and the staff replies that
    were sent, oldest first."""
    return list(
        session.execute(
            select(Message)
            .where(
                Message.ticket_id == ticket.id,
                Message.author.in_(("customer", "staff")),
                Message.internal.is_(False),
                Message.state == "sent",
            )
            .order_by(Message.created_at, Message.id)
        ).scalars()
    )


def staff_names(session: Session, messages: Sequence[Message]) -> dict[int, str]:
    """The names of the staff who wrote these replies, by id."""
    ids = {message.staff_id for message in messages if message.staff_id is not None}
    if not ids:
        return {}
    rows = session.execute(select(StaffMember.id, StaffMember.name).where(StaffMember.id.in_(ids)))
    return {staff_id: name for staff_id, name in rows}


def rating_of(session: Session, ticket: Ticket) -> Rating | None:
    return session.get(Rating, ticket.id)
