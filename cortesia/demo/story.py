"""The demo's clock: a year of the company's life told moment by moment, its events
delivered by the embedded bus as they happen.

Every service reads the business moment from the platform's clock (``shared.clock``).
The story moves this process's clock to each step's moment (``clock.travel``) before
the step runs and while the bus carries what it wrote: events occur then, notify holds
a message for the customer's office hours and sends it when the story reaches them,
billing learns an invoice was delivered the day it was issued, the desk dates a ticket's
replies and its resolution, training a lesson. Once told, the clock comes back to the
real present.

The bus is driven here, in the seeding thread, through the same relay and dispatch
steps its threads run (``EmbeddedBus.relay_once`` and ``dispatch_once``): seeding
finishes before the platform's own threads start, and nothing races the story.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from datetime import time as clock_time

from sqlalchemy import select

from cortesia.embedded import EmbeddedPlatform
from services.notify import local_maildir
from services.notify.channels import SmtpChannel, SmtpSettings
from services.notify.dispatcher import Dispatcher
from services.notify.local_mail import LocalMailServer
from services.notify.subscribers import current_config
from shared import clock
from shared.bus.embedded import PENDING, deliveries
from shared.business_hours import BusinessCalendar
from shared.config import Settings
from shared.db import Database

COMPANY_CALENDAR = BusinessCalendar()


class Story:
    """Runs the demo's steps at their moments and lets the bus deliver what each wrote."""

    def __init__(self, platform: EmbeddedPlatform, notify_settings: Settings) -> None:
        self.platform = platform
        self.databases = platform.databases
        self._mail = LocalMailServer(local_maildir(notify_settings))
        config = current_config()
        email = SmtpChannel(
            SmtpSettings(
                host="127.0.0.1",
                port=self._mail.port,
                security="none",
                from_address=config.support_email,
                from_name=config.company_name,
            )
        )
        self._dispatcher = Dispatcher(self.databases["notify"], {"email": email}, config)

    @contextmanager
    def told(self) -> Iterator[Story]:
        """The story's mail server for the time it is told: notify's messages land in the
        data directory's local mailbox, as in embedded mode, never on the internet."""
        self._mail.start()
        try:
            yield self
        finally:
            clock.travel(None)
            self._dispatcher.stop()
            self._mail.stop()

    def now(self) -> datetime:
        return clock.now()

    def at(self, day: date, hour: int, minute: int = 0) -> datetime:
        """A moment on the company's calendar (São Paulo), in UTC."""
        local = datetime.combine(day, clock_time(hour, minute), COMPANY_CALENDAR.zone)
        return local.astimezone(UTC)

    def move_to(self, moment: datetime | None) -> None:
        """Make ``moment`` the story's present (``None``: the real present); its time
        moves on from there as the steps run."""
        clock.travel(moment)

    def database(self, service: str) -> Database:
        return self.databases[service]

    # -- the bus -----------------------------------------------------------------------

    def deliver(self, *writers: str) -> None:
        """Carry the events the services named (all of them by default) have written to
        their subscribers, and what the handlers write in turn, then send what notify
        planned for now; until nothing moves.

        Only a service that may have written is looked at: the one the step used, the
        ones whose handlers ran, notify after its dispatcher sent. An idle moment of the
        story then costs a few queries, and a year of them stays within seconds.
        """
        dirty = set(writers or self.databases)
        planned = True
        """Notify may have something due: at a new moment, or after it planned more."""
        while True:
            relayed = sum(self._relay(service) for service in sorted(dirty))
            dirty.clear()
            waiting = self._subscribers_with_due_deliveries()
            if relayed or waiting:
                dirty |= self._dispatch(waiting)
                planned = planned or "notify" in dirty
                continue
            if planned and self._dispatcher.drain():
                dirty.add("notify")
                planned = False
                continue
            return

    def _relay(self, service: str) -> int:
        moved = 0
        while count := self.platform.bus.relay_once(service):
            moved += count
        return moved

    def _dispatch(self, names: set[str]) -> set[str]:
        """Hand the named subscribers their deliveries; return the services that handled."""
        services = set()
        for subscriber in self.platform.bus.subscribers:
            if subscriber.name in names:
                self.platform.bus.dispatch_once(subscriber, limit=1000)
                services.add(subscriber.service)
        return services

    def _subscribers_with_due_deliveries(self) -> set[str]:
        # Asked once per round, so that an idle moment of the story costs a query, not a
        # visit to every subscriber.
        with self.platform.bus.bus.transaction() as session:
            return set(
                session.execute(
                    select(deliveries.c.subscriber)
                    .where(deliveries.c.status == PENDING, deliveries.c.due_at <= time.time())
                    .distinct()
                ).scalars()
            )
