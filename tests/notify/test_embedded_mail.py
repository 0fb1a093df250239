"""Embedded mode sends real email too: with no SMTP server configured, notify delivers over
SMTP to the platform's own mail server, which keeps the messages in a Maildir under the
data directory, shown on notify's local mailbox page; billing learns the invoice went out
over the embedded bus."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import select, update

from cortesia.embedded import build_embedded
from cortesia.platform import settings_for_all
from services.billing.models import Invoice
from services.notify.local_mail import kept_messages
from services.notify.models import Notification
from tests.billing.timetravel import run, subscribed
from tests.support.probe import wait_until


def test_an_invoice_reaches_the_local_mailbox_and_billing_hears_of_it(tmp_path: Path) -> None:
    platform = build_embedded(settings_for_all(env={}, data_dir=tmp_path))
    # The test runs billing's day itself: the schedule's own run would catch up every day
    # from the subscription's start to today on the same SQLite file, holding it for as
    # long as a loaded machine takes.
    platform.jobs = {**platform.jobs, "billing": []}
    platform.start()
    try:
        billing, notify = platform.databases["billing"], platform.databases["notify"]
        subscribed(billing, date(2026, 3, 16), email="lucia@example.com")
        run(billing, date(2026, 4, 2))

        def planned() -> bool:
            with notify.transaction() as session:
                return session.execute(select(Notification)).first() is not None

        wait_until(planned, 60, "notify to write the invoice's email")
        with notify.transaction() as session:
            # Whatever the hour the suite runs at, the customer's business window opens now.
            session.execute(update(Notification).values(not_before=datetime.now(UTC)))

        maildir = tmp_path / "mail"
        wait_until(lambda: len(kept_messages(maildir)) >= 1, 60, "the local mailbox to keep it")
        assert all("lucia@example.com" in kept.to for kept in kept_messages(maildir))

        def delivered() -> bool:
            with billing.transaction() as session:
                return session.execute(select(Invoice.delivered_at)).scalar_one() is not None

        wait_until(delivered, 60, "billing to hear that the invoice went out")
    finally:
        platform.stop()
