"""The company's business calendar: opening hours, breaks and holidays, in its timezone.

Billing suspends only inside business hours, the desk counts SLAs in them and
notify holds routine messages until they open. The default is the founder's:
Monday to Friday, 10:00-19:00 with a 12:00-14:00 break, America/Sao_Paulo,
Brazilian national holidays.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

Interval = tuple[time, time]


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "America/Sao_Paulo"
    open_days: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    """Weekdays the company opens, Monday = 0."""
    hours: tuple[Interval, ...] = ((time(10), time(12)), (time(14), time(19)))
    """Opening intervals of an open day; the gaps between them are breaks."""
    holiday_country: str | None = "BR"
    extra_holidays: frozenset[date] = field(default_factory=frozenset)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if self.holiday_country is None:
            return None
        return holidays.country_holidays(self.holiday_country)

    def holiday_name(self, day: date) -> str | None:
        if day in self.extra_holidays:
            return "company holiday"
        if self._holidays is not None and day in self._holidays:
            return str(self._holidays.get(day))
        return None

    def is_business_day(self, day: date) -> bool:
        return day.weekday() in self.open_days and self.holiday_name(day) is None

    def is_open(self, moment: datetime) -> bool:
        """Is ``moment`` (timezone-aware) inside business hours?"""
        local = moment.astimezone(self.zone)
        if not self.is_business_day(local.date()):
            return False
        clock = local.time()
        return any(start <= clock < end for start, end in self.hours)

    def next_business_day(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        candidate = day + timedelta(days=1)
        while not self.is_business_day(candidate):
            candidate += timedelta(days=1)
        return candidate

    def business_days_before(self, day: date, count: int) -> date:
        """The business day ``count`` business days before ``day``."""
        candidate = day
        for _ in range(count):
            candidate -= timedelta(days=1)
            while not self.is_business_day(candidate):
                candidate -= timedelta(days=1)
        return candidate

    def next_opening(self, moment: datetime) -> datetime:
        """``moment`` itself if open, else the start of the next business interval."""
        if self.is_open(moment):
            return moment
        local = moment.astimezone(self.zone)
        day = local.date()
        for _ in range(400):
            if self.is_business_day(day):
                for start, _end in self.hours:
                    opening = datetime.combine(day, start, self.zone)
                    if opening > local:
                        return opening
            day += timedelta(days=1)
        raise ValueError("the calendar never opens")  # pragma: no cover - configuration error
