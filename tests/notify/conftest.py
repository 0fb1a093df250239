"""A migrated notify database, a real SMTP sink, and a dispatcher on a movable clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import services.notify as notify
from services.notify.channels import SmtpChannel, SmtpSettings
from services.notify.config import NotifyConfig
from services.notify.directory import directory
from services.notify.dispatcher import Dispatcher
from services.notify.models import TemplateOverride
from services.notify.subscribers import messages
from shared.bus.subscriber import Outcome, process_message
from shared.db import Database
from shared.events import REGISTRY, Envelope
from shared.migrations import upgrade
from shared.testing.smtp import MailSink

CONFIG = NotifyConfig(public_url="https://cortesia.example", support_email="oi@cortesia.example")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'notify.sqlite3'}"
    upgrade(notify.MIGRATIONS, url)
    database = Database(url)
    yield database
    database.dispose()


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as running:
        yield running


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 12, 2, 17, tzinfo=UTC))  # a Wednesday, 14:00 in São Paulo


@pytest.fixture
def dispatcher(database: Database, sink: MailSink, clock: Clock) -> Iterator[Dispatcher]:
    smtp = SmtpSettings(
        host="127.0.0.1",
        port=sink.port,
        security="none",
        from_address="oi@cortesia.example",
        timeout=5,
    )
    dispatcher = Dispatcher(database, {"email": SmtpChannel(smtp)}, CONFIG, clock=clock)
    yield dispatcher
    for channel in dispatcher.channels.values():
        channel.close()


@pytest.fixture(autouse=True)
def _config(monkeypatch: pytest.MonkeyPatch) -> None:
    import services.notify.subscribers as subscribers

    monkeypatch.setattr(subscribers, "current_config", lambda: CONFIG)


def deliver(
    database: Database, event_type: str, payload: dict[str, Any], at: datetime, **envelope: Any
) -> Envelope:
    """An event reaching notify's subscribers, as it happened at ``at``."""
    sent = Envelope(
        event_type,
        event_type.split(".")[0],
        REGISTRY.dump(event_type, payload),
        occurred_at=at,
        **envelope,
    )
    for subscriber in (directory, messages):
        if event_type in subscriber.handlers:
            result = process_message(database, subscriber, sent.to_json())
            assert result.outcome in (Outcome.HANDLED, Outcome.DUPLICATE), result.reason
    return sent


def edit_template_unchecked(database: Database, kind: str, language: str, text: str) -> None:
    """An owner's edit that bypassed the editor's checks (an older release, a hand-edited
    database): what notify must survive without sending half a message."""
    with database.transaction() as session:
        session.merge(
            TemplateOverride(
                kind=kind,
                channel="email",
                language=language,
                subject="Fatura {{ data.invoice_number }}",
                text=text,
                html=None,
                updated_by="ana@cortesia.example",
            )
        )
