"""``cortesia run --demo``: the embedded platform with a believable hosting company.

On first start, into an empty data directory, the company is seeded through each
service's own service layer, its events carried by the embedded bus, so every replica
(the desk's view of billing, notify's directory, training's enrolment) is filled the way
it is in production:

1. the team (``company.STAFF``) joins at the start of the year; the trainee three weeks
   ago;
2. a year of billing, day by day (``billing_year``), told on the story's clock
   (``story``) so that notify's messages and billing's delivery records carry their
   days;
3. the desk's recent tickets and care tasks (``desk``) and the trainee's course so far
   (``training``), now.

The data directory then holds a marker with the demo's one password, so a later start
with ``--demo`` just runs it; a directory holding a platform that is not the demo is
refused. Everything is deterministic but the password, which is generated (no default
secret) and printed on every start.
"""

from __future__ import annotations

import json
import logging
import os
import random
import secrets
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select

from cortesia.demo import company, desk, training
from cortesia.demo.billing_year import BillingYear
from cortesia.demo.story import COMPANY_CALENDAR, Story
from cortesia.embedded import EmbeddedPlatform
from services.billing.models import Customer
from services.tickets.models import StaffMember
from services.tickets.staff import add_staff
from shared.config import Settings

MARKER = "demo.json"
SEED = 20240611
TRAINEE_JOINED_DAYS_AGO = 21
REAL_DELIVERY_VARIABLES = ("CORTESIA_SMTP_HOST", "CORTESIA_SMS_URL", "CORTESIA_CHAT_URL")
"""Settings that would make notify deliver beyond the data directory's local mailbox."""


class DemoRefused(RuntimeError):
    """The demo cannot run here; the message says why and what to do."""


@dataclass(frozen=True)
class DemoWelcome:
    password: str
    staff: tuple[company.StaffMember, ...]
    seeded: bool
    """True when this start created the company."""


def prepare_demo(platform: EmbeddedPlatform, settings: Mapping[str, Settings]) -> DemoWelcome:
    """Seed the demo into an empty platform, or find the demo already there."""
    refuse_real_delivery()
    data_dir = settings["tickets"].data_dir
    marker = data_dir / MARKER
    if marker.exists():
        password = json.loads(marker.read_text(encoding="utf-8"))["password"]
        return DemoWelcome(password, company.STAFF, seeded=False)
    if _holds_a_platform(platform):
        raise DemoRefused(
            f"{data_dir} already holds a Cortesia platform that is not the demo; "
            "the demo never writes into real data. Start it with another --data directory."
        )
    password = secrets.token_urlsafe(12)
    with _quiet_logs():
        seed(platform, settings, password)
    _write_marker(marker, password)
    return DemoWelcome(password, company.STAFF, seeded=True)


def refuse_real_delivery(env: Mapping[str, str] | None = None) -> None:
    env = os.environ if env is None else env
    configured = [name for name in REAL_DELIVERY_VARIABLES if env.get(name)]
    if configured:
        raise DemoRefused(
            f"the demo keeps every message in the local mailbox; unset {', '.join(configured)}."
        )


def seed(platform: EmbeddedPlatform, settings: Mapping[str, Settings], password: str) -> None:
    story = Story(platform, settings["notify"])
    today = datetime.now(UTC).astimezone(COMPANY_CALENDAR.zone).date()
    year = BillingYear(story, today, random.Random(SEED))

    def team_joins() -> None:
        _add_staff(story, [m for m in company.STAFF if m is not company.TRAINEE], password)

    def trainee_joins() -> None:
        _add_staff(story, [company.TRAINEE], password)

    with story.told():
        accounts = year.tell(
            {
                year.first_day(): team_joins,
                today - timedelta(days=TRAINEE_JOINED_DAYS_AGO): trainee_joins,
            }
        )
        story.move_to(None)
        desk.Desk(story, accounts, settings["tickets"].public_url).tell()
        training.tell(story, today - timedelta(days=TRAINEE_JOINED_DAYS_AGO))


def _add_staff(story: Story, members: list[company.StaffMember], password: str) -> None:
    with story.database("tickets").transaction() as session:
        for member in members:
            add_staff(session, member.name, member.email, member.role, password)


def _holds_a_platform(platform: EmbeddedPlatform) -> bool:
    """Anyone at the desk or any customer in billing: someone's data, not an empty start."""
    with platform.databases["tickets"].transaction() as session:
        staff = session.execute(select(func.count()).select_from(StaffMember)).scalar_one()
    with platform.databases["billing"].transaction() as session:
        customers = session.execute(select(func.count()).select_from(Customer)).scalar_one()
    return bool(staff or customers)


def _write_marker(marker: Path, password: str) -> None:
    # Readable by the owner of the data directory only: it holds the demo's password.
    descriptor = os.open(marker, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        json.dump({"demo": True, "password": password}, file)


@contextmanager
def _quiet_logs() -> Iterator[None]:
    """A year of events would print a line each: only warnings while the demo is seeded."""
    root = logging.getLogger()
    previous = root.level
    root.setLevel(logging.WARNING)
    try:
        yield
    finally:
        root.setLevel(previous)
