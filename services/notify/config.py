"""Notify's settings: the company as its messages present it, its business calendar, the
notice a maintenance window gets, and how long a failing delivery is retried."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.business_hours import BusinessCalendar

RETRY_MINUTES = (1, 5, 15, 30, 60, 120, 240, 480)
"""Waits after each failed attempt: the last try comes some 16 hours after the first."""


@dataclass(frozen=True)
class NotifyConfig:
    public_url: str = "http://localhost:8000"
    company_name: str = "Cortesia Hosting"
    support_email: str = "suporte@cortesia.example"
    calendar: BusinessCalendar = field(default_factory=BusinessCalendar)
    maintenance_notice: timedelta = timedelta(hours=48)
    """P-EMPATHY: how far ahead a maintenance window is announced at the least."""
    maintenance_reminder: timedelta = timedelta(hours=1)
    retry_minutes: tuple[int, ...] = RETRY_MINUTES

    @classmethod
    def from_env(cls, public_url: str, env: Mapping[str, str] | None = None) -> NotifyConfig:
        env = os.environ if env is None else env
        notice = env.get("CORTESIA_MAINTENANCE_NOTICE_HOURS", "48")
        if not notice.isdigit() or int(notice) < 1:
            raise ValueError(
                f"CORTESIA_MAINTENANCE_NOTICE_HOURS must be a whole number of hours, got {notice!r}"
            )
        return cls(
            public_url=public_url.rstrip("/"),
            company_name=env.get("CORTESIA_COMPANY_NAME", cls.company_name),
            support_email=env.get("CORTESIA_SUPPORT_EMAIL")
            or env.get("CORTESIA_SMTP_FROM")
            or cls.support_email,
            maintenance_notice=timedelta(hours=int(notice)),
        )

    @property
    def company(self) -> dict[str, str]:
        return {
            "name": self.company_name,
            "support_email": self.support_email,
            "portal_url": f"{self.public_url}/tickets/portal",
        }

    def calendar_in(self, timezone: str) -> BusinessCalendar:
        """The company's hours and holidays, read on the recipient's clock (P-HOURS); the
        company's own clock for a timezone nobody knows."""
        return _calendar_in(self.calendar, timezone)


@lru_cache(maxsize=256)
def _calendar_in(calendar: BusinessCalendar, timezone: str) -> BusinessCalendar:
    if timezone == calendar.timezone:
        return calendar
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return calendar
    return replace(calendar, timezone=timezone)
