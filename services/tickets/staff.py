"""Staff accounts: creation, the first owner, and password checks (argon2id)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.tickets.models import StaffMember
from shared.bus.outbox import record_event
from shared.web.auth import ROLES, StaffIdentity

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
    if "@" not in email:
        raise StaffError("A valid email address is required.")
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
