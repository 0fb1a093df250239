"""Whom notify writes to: the customers billing announces and the staff the desk announces,
with the channels each chose and the hours staff are on duty.

Every billing event carries the customer's name, address, language and timezone,
so any of them refreshes the contact: a message never waits for (or misses) a
``customer_created`` that travels on another queue. Since every such event passes
here, ``remember_customer`` reads and writes the row with plain statements instead of
building, tracking and flushing an ORM object for it.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from services.notify.models import CHANNELS, Base, CustomerContact, DutySlot, StaffContact
from shared.bus.subscriber import ReceivedEvent, Subscriber
from shared.business_hours import BusinessCalendar
from shared.events.contracts import LANGUAGES

directory = Subscriber("notify.directory")

ALERTED_ROLES = ("owner", "agent")
"""Who the desk's alerts are for when the alert names nobody."""


class PreferenceError(ValueError):
    """A channel choice notify cannot accept; the message says why."""


@dataclass(frozen=True, slots=True)
class RememberedCustomer:
    """A customer's contact as ``remember_customer`` left it in the database: the same
    fields as ``CustomerContact``, without an ORM object behind them."""

    customer_id: int
    name: str
    email: str | None
    language: str
    second_language: str | None
    timezone: str
    managed: bool
    phone: str | None
    chat_handle: str | None
    channels: str
    opted_out: bool
    token: str

    def chose(self, channel: str) -> bool:
        return channel in self.channels.split(",")


Customer = CustomerContact | RememberedCustomer
"""A customer's contact, from the ORM or from ``remember_customer``: either reads the same."""

_CUSTOMERS = Base.metadata.tables["customers"]


def remember_customer(session: Session, data: Mapping[str, Any]) -> Customer:
    """Create or refresh a customer's contact from any event that describes them.

    The event's description (name, email, language, timezone, and ``managed`` when it
    says) replaces the stored one; what the customer chose themselves (channels, phone,
    chat, second language, opting out) and their token stay. Like the ORM, nothing is
    written when nothing changed."""
    (contact,) = remember_customers(session, [data])
    return contact


def remember_customers(
    session: Session, descriptions: Sequence[Mapping[str, Any]]
) -> list[Customer]:
    """``remember_customer`` for several descriptions, in order, with one read for all
    and one write for the new ones: for each, the contact as it stands after it (a
    customer described twice is refreshed twice)."""
    held: dict[int, CustomerContact] = {}
    for data in descriptions:
        customer_id = data["customer_id"]
        in_session = session.identity_map.get(identity_key(CustomerContact, customer_id))
        if isinstance(in_session, CustomerContact):
            # Read earlier in this transaction: change that object (the ORM writes it),
            # so the session's copy does not go stale behind a statement of our own.
            held[customer_id] = in_session
    wanted = sorted({data["customer_id"] for data in descriptions} - set(held))
    stored: dict[int, dict[str, Any]] = {}
    if wanted:
        rows = session.execute(select(_CUSTOMERS).where(_CUSTOMERS.c.customer_id.in_(wanted)))
        stored = {row["customer_id"]: dict(row) for row in rows.mappings()}
    current = dict(stored)
    contacts: list[Customer] = []
    for data in descriptions:
        customer_id, described = data["customer_id"], _description(data)
        if customer_id in held:
            for column, value in described.items():
                setattr(held[customer_id], column, value)
            contacts.append(held[customer_id])
            continue
        current[customer_id] = {**current.get(customer_id, _new_contact(customer_id)), **described}
        contacts.append(RememberedCustomer(**current[customer_id]))
    # Rows written in the order of their ids: two batches writing the same customers
    # then wait for each other rather than deadlock.
    new = [current[customer_id] for customer_id in sorted(current) if customer_id not in stored]
    if new:
        session.execute(insert(_CUSTOMERS), new)
    for customer_id, before in sorted(stored.items()):
        after = current[customer_id]
        changed = {column: value for column, value in after.items() if before[column] != value}
        if changed:
            session.execute(
                update(_CUSTOMERS).where(_CUSTOMERS.c.customer_id == customer_id).values(changed)
            )
    return contacts


def _description(data: Mapping[str, Any]) -> dict[str, Any]:
    """What an event says of its customer."""
    described: dict[str, Any] = {
        "name": data["customer_name"],
        "email": data["email"],
        "language": data["language"],
        "timezone": data["timezone"],
    }
    if "managed" in data:
        described["managed"] = data["managed"]
    return described


def _new_contact(customer_id: int) -> dict[str, Any]:
    """A contact's columns before any description: the customer has chosen nothing yet."""
    return {
        "customer_id": customer_id,
        "second_language": None,
        "managed": False,
        "phone": None,
        "chat_handle": None,
        "channels": "email",
        "opted_out": False,
        "token": secrets.token_urlsafe(32),
    }


@directory.handles("billing.customer_created.v1")
@directory.handles("billing.customer_updated.v1")
def customer_announced(session: Session, event: ReceivedEvent) -> None:
    remember_customer(session, event.data)


@directory.handles("tickets.staff_added.v1")
def staff_added(session: Session, event: ReceivedEvent) -> None:
    data = event.data
    member = session.get(StaffContact, data["staff_id"])
    if member is None:
        member = StaffContact(staff_id=data["staff_id"], language="pt-BR")
        session.add(member)
    member.name, member.email, member.role, member.active = (
        data["name"],
        data["email"],
        data["role"],
        True,
    )


@directory.handles("tickets.staff_role_changed.v1")
def staff_role_changed(session: Session, event: ReceivedEvent) -> None:
    member = session.get(StaffContact, event.data["staff_id"])
    if member is not None:
        member.role = event.data["new_role"]


@directory.handles("tickets.staff_removed.v1")
def staff_removed(session: Session, event: ReceivedEvent) -> None:
    member = session.get(StaffContact, event.data["staff_id"])
    if member is not None:
        member.active = False


# -- preferences -----------------------------------------------------------------------


def set_preferences(
    contact: CustomerContact,
    *,
    channels: Sequence[str],
    phone: str | None,
    chat_handle: str | None,
    opted_out: bool,
    second_language: str | None,
) -> None:
    """The customer's (or staff's, on their behalf) choice of channels; email always stays,
    since invoices and replies must reach them."""
    unknown = sorted(set(channels) - set(CHANNELS))
    if unknown:
        raise PreferenceError(f"Unknown channels: {', '.join(unknown)}.")
    phone = (phone or "").strip() or None
    chat_handle = (chat_handle or "").strip() or None
    if "sms" in channels and phone is None:
        raise PreferenceError("Give a phone number to receive text messages.")
    if phone is not None and not (phone.startswith("+") and phone[1:].isdigit()):
        raise PreferenceError("Write the phone number in international form, e.g. +5511912345678.")
    if "chat" in channels and chat_handle is None:
        raise PreferenceError("Give the chat number or handle to receive chat messages.")
    if second_language is not None and second_language not in LANGUAGES:
        raise PreferenceError(f"Languages are {', '.join(LANGUAGES)}.")
    chosen = ["email", *(channel for channel in CHANNELS[1:] if channel in channels)]
    contact.channels = ",".join(chosen)
    contact.phone, contact.chat_handle = phone, chat_handle
    contact.opted_out = opted_out
    contact.second_language = second_language


def customer_by_token(session: Session, token: str) -> CustomerContact | None:
    if not token:
        return None
    return session.execute(
        select(CustomerContact).where(CustomerContact.token == token)
    ).scalar_one_or_none()


# -- duty ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Roster:
    """The active staff (in the order of their ids) and their duty slots: whom an alert
    can go to."""

    members: Sequence[StaffContact]
    slots: Mapping[int, Sequence[DutySlot]]

    @classmethod
    def read(cls, session: Session) -> Roster:
        members = session.execute(
            select(StaffContact)
            .where(StaffContact.active.is_(True))
            .order_by(StaffContact.staff_id)
        ).scalars()
        slots: dict[int, list[DutySlot]] = {}
        for slot in session.execute(select(DutySlot)).scalars():
            slots.setdefault(slot.staff_id, []).append(slot)
        return cls(list(members), slots)

    def member(self, staff_id: int) -> StaffContact | None:
        return next((member for member in self.members if member.staff_id == staff_id), None)

    def with_roles(self, roles: Sequence[str]) -> list[StaffContact]:
        return [member for member in self.members if member.role in roles]

    def on_duty(
        self, moment: datetime, calendar: BusinessCalendar, roles: Sequence[str] = ALERTED_ROLES
    ) -> list[StaffContact]:
        """Those of ``roles`` on duty at ``moment``: by their own slots, or, for those
        without slots, by the company's business hours."""
        local = moment.astimezone(calendar.zone)
        open_now = calendar.is_open(moment)
        return [
            member
            for member in self.with_roles(roles)
            if (
                _within(self.slots[member.staff_id], local.weekday(), local.time())
                if member.staff_id in self.slots
                else open_now
            )
        ]


def on_duty(
    session: Session,
    moment: datetime,
    calendar: BusinessCalendar,
    roles: Sequence[str] = ALERTED_ROLES,
) -> list[StaffContact]:
    """Active staff of ``roles`` on duty at ``moment`` (``Roster.on_duty``)."""
    return Roster.read(session).on_duty(moment, calendar, roles)


def _within(slots: Sequence[DutySlot], weekday: int, clock: time) -> bool:
    return any(slot.weekday == weekday and slot.starts <= clock < slot.ends for slot in slots)


def staff_with_roles(session: Session, roles: Sequence[str]) -> list[StaffContact]:
    return Roster.read(session).with_roles(roles)
