"""Staff accounts: creation, the first owner, password checks (argon2id), the owner's
administration of the team with its audit trail, password links and the sign-in rate
limit."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.tickets.models import AuditEntry, PasswordLink, SignInAttempt, StaffMember
from shared import clock
from shared.addresses import UndeliverableAddress, deliverable_address
from shared.bus.outbox import record_event
from shared.web.auth import ROLES, StaffIdentity, current_staff

# argon2-cffi's defaults (argon2id, t=3, m=64 MiB, p=4) are above OWASP ASVS 5.0's floor.
_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 12
# Checked against when the email is unknown, so a miss costs the same time as a hit.
_DUMMY_HASH = _hasher.hash("not-a-real-password-only-for-timing")


class StaffError(ValueError):
    """A staff change that cannot be made; the message is fit to show the user."""


def owner_exists(session: Session) -> bool:
    query = (
        select(func.count())
        .select_from(StaffMember)
        .where(StaffMember.role == "owner", StaffMember.active.is_(True))
    )
    return bool(session.execute(query).scalar_one())


def add_staff(session: Session, name: str, email: str, role: str, password: str) -> StaffMember:
    name, email = name.strip(), email.strip().lower()
    if role not in ROLES:
        raise StaffError(f"Role must be one of: {', '.join(ROLES)}.")
    if not name:
        raise StaffError("Name is required.")
    try:
        email = deliverable_address(email)
    except UndeliverableAddress as refused:
        raise StaffError(str(refused)) from None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    if session.execute(select(StaffMember.id).where(StaffMember.email == email)).first():
        raise StaffError(f"{email} already has an account.")
    member = StaffMember(name=name, email=email, role=role, password_hash=_hasher.hash(password))
    session.add(member)
    session.flush()
    record_event(
        session,
        "tickets",
        "tickets.staff_added.v1",
        {"staff_id": member.id, "name": member.name, "email": member.email, "role": member.role},
    )
    return member


def authenticate(session: Session, email: str, password: str) -> StaffIdentity | None:
    member = session.execute(
        select(StaffMember).where(StaffMember.email == email.strip().lower())
    ).scalar_one_or_none()
    try:
        if member is None or not member.active:
            _hasher.verify(_DUMMY_HASH, password)
            return None
        _hasher.verify(member.password_hash, password)
    except (VerificationError, InvalidHashError):
        return None
    if _hasher.check_needs_rehash(member.password_hash):
        member.password_hash = _hasher.hash(password)
    return StaffIdentity(id=member.id, name=member.name, email=member.email, role=member.role)


# -- the owner's administration of the team -------------------------------------------------

PASSWORD_LINK_HOURS = 24
SIGN_IN_WINDOW = timedelta(minutes=15)
FAILURES_PER_EMAIL = 5
FAILURES_PER_ADDRESS = 20


class TooManyAttempts(StaffError):
    """Sign-in refused for a while after repeated failures."""


def audit(
    session: Session, actor: str, action: str, subject: str, detail: str | None = None
) -> None:
    session.add(
        AuditEntry(at=clock.now(), actor=actor, action=action, subject=subject, detail=detail)
    )


def invite_staff(
    session: Session, name: str, email: str, role: str, by: str, public_url: str
) -> StaffMember:
    """The owner adds someone: their account waits for the password they set from the
    emailed link."""
    member = add_staff(session, name, email, role, secrets.token_urlsafe(32))
    audit(session, by, "staff_added", f"staff:{member.id}", f"{member.email} as {role}")
    send_password_link(session, member, public_url, new_account=True)
    return member


def change_role(session: Session, staff_id: int, role: str, by: str) -> StaffMember:
    member = _active_member(session, staff_id)
    if role not in ROLES:
        raise StaffError(f"Role must be one of: {', '.join(ROLES)}.")
    if member.role == role:
        return member
    if member.role == "owner" and _owners(session) == 1:
        raise StaffError("The desk needs an owner: make someone else owner first.")
    old = member.role
    member.role = role
    audit(session, by, "role_changed", f"staff:{member.id}", f"{old} → {role}")
    record_event(
        session,
        "tickets",
        "tickets.staff_role_changed.v1",
        {"staff_id": member.id, "old_role": old, "new_role": role},
    )
    return member


def remove_staff(session: Session, staff_id: int, by: str) -> StaffMember:
    member = _active_member(session, staff_id)
    if member.role == "owner" and _owners(session) == 1:
        raise StaffError("The last owner cannot be removed.")
    member.active = False
    audit(session, by, "staff_removed", f"staff:{member.id}", member.email)
    record_event(session, "tickets", "tickets.staff_removed.v1", {"staff_id": member.id})
    return member


def _active_member(session: Session, staff_id: int) -> StaffMember:
    member = session.get(StaffMember, staff_id)
    if member is None or not member.active:
        raise StaffError(f"No active staff member {staff_id}.")
    return member


def _owners(session: Session) -> int:
    return int(
        session.execute(
            select(func.count())
            .select_from(StaffMember)
            .where(StaffMember.role == "owner", StaffMember.active.is_(True))
        ).scalar_one()
    )


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def send_password_link(
    session: Session, member: StaffMember, public_url: str, *, new_account: bool = False
) -> None:
    token = secrets.token_urlsafe(32)
    expires_at = clock.now() + timedelta(hours=PASSWORD_LINK_HOURS)
    session.add(PasswordLink(token_hash=_hash(token), staff_id=member.id, expires_at=expires_at))
    record_event(
        session,
        "tickets",
        "tickets.password_link_requested.v1",
        {
            "staff_id": member.id,
            "name": member.name,
            "email": member.email,
            "link": f"{public_url}/password/{token}",
            "expires_at": expires_at,
            "new_account": new_account,
        },
    )


def request_password_link(session: Session, email: str, public_url: str) -> None:
    """Forgotten password: a link goes to the address if it is an active account's; the
    caller answers the same either way, so this reveals nothing."""
    member = session.execute(
        select(StaffMember).where(
            StaffMember.email == email.strip().lower(), StaffMember.active.is_(True)
        )
    ).scalar_one_or_none()
    if member is None:
        return
    recent = session.execute(
        select(func.count())
        .select_from(PasswordLink)
        .where(
            PasswordLink.staff_id == member.id,
            PasswordLink.created_at > clock.now() - timedelta(hours=1),
        )
    ).scalar_one()
    if recent >= 3:
        return
    audit(session, member.email, "password_link_requested", f"staff:{member.id}")
    send_password_link(session, member, public_url)


def set_password_from_link(session: Session, token: str, password: str) -> StaffMember:
    link = session.get(PasswordLink, _hash(token))
    now = clock.now()
    if link is None or link.used_at is not None:
        raise StaffError("This link is not valid (any more): ask for a new one.")
    expires_at = link.expires_at if link.expires_at.tzinfo else link.expires_at.replace(tzinfo=UTC)
    if expires_at < now:
        raise StaffError("This link has expired: ask for a new one.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise StaffError(f"Passwords need at least {MIN_PASSWORD_LENGTH} characters.")
    member = _active_member(session, link.staff_id)
    member.password_hash = _hasher.hash(password)
    link.used_at = now
    audit(session, member.email, "password_set", f"staff:{member.id}")
    return member


def check_sign_in_allowed(session: Session, email: str, address: str) -> None:
    since = clock.now() - SIGN_IN_WINDOW
    by_email, by_address = (
        session.execute(
            select(func.count())
            .select_from(SignInAttempt)
            .where(column == value, SignInAttempt.at > since)
        ).scalar_one()
        for column, value in (
            (SignInAttempt.email, email.strip().lower()),
            (SignInAttempt.address, address),
        )
    )
    if by_email >= FAILURES_PER_EMAIL or by_address >= FAILURES_PER_ADDRESS:
        raise TooManyAttempts(
            "Too many failed sign-ins: wait 15 minutes, or set a new password from the "
            "link we can email you."
        )


def record_failed_sign_in(session: Session, email: str, address: str) -> None:
    session.add(
        SignInAttempt(email=email.strip().lower()[:254], address=address[:64], at=clock.now())
    )


def acting_member(
    session: Session, refusal: str = "Your staff account is not active at the desk."
) -> StaffMember:
    """The signed-in staff member's row, with their role as it is now (the session's copy
    may be older): 403 with ``refusal`` for someone removed since they signed in."""
    identity = current_staff()
    assert identity is not None, "the views' guard lets only signed-in staff through"
    member = session.get(StaffMember, identity.id)
    if member is None or not member.active:
        abort(403, description=refusal)
    return member
