"""A migrated desk database with its staff, and ways to feed it the other services' events
and read what it announced."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select

import services.tickets as tickets
from services.tickets.models import StaffMember
from services.tickets.staff import add_staff
from shared.bus.subscriber import Outcome, Subscriber, process_message
from shared.bus.tables import outbox
from shared.config import load_settings
from shared.db import Database
from shared.events import REGISTRY, Envelope
from shared.migrations import upgrade

PASSWORD = "a long passphrase"


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'tickets.sqlite3'}"
    upgrade(tickets.MIGRATIONS, url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def staff(database: Database) -> dict[str, StaffMember]:
    """The owner, an agent and a trainee."""
    people = {}
    with database.transaction() as session:
        for role, name in (("owner", "Ana"), ("agent", "Bia"), ("trainee", "Duda")):
            member = add_staff(session, name, f"{name.lower()}@cortesia.example", role, PASSWORD)
            session.flush()
            session.expunge(member)
            people[role] = member
    return people


def feed(
    database: Database,
    subscriber: Subscriber,
    event_type: str,
    payload: dict[str, Any],
    occurred_at: datetime | None = None,
) -> None:
    envelope = Envelope(event_type, event_type.split(".")[0], REGISTRY.dump(event_type, payload))
    if occurred_at is not None:
        envelope = replace(envelope, occurred_at=occurred_at)
    result = process_message(database, subscriber, envelope.to_json())
    assert result.outcome is Outcome.HANDLED, result.reason


def announced(database: Database, event_type: str) -> list[dict[str, Any]]:
    with database.transaction() as session:
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        ).scalars()
        return [json.loads(body)["payload"] for body in bodies]


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Flask:
    env = {"CORTESIA_PUBLIC_URL": "https://cortesia.example"}
    return tickets.create_app(load_settings("tickets", env=env, data_dir=tmp_path), database)
