"""The billing policy (P-INVOICE: have one and keep it): every number the daily run obeys.

Each number has a default, the founder's, and may be changed through the
environment:

``CORTESIA_BILLING_`` + name, default, meaning:

- ``RENEWAL_LEAD_DAYS`` (14): renewal invoices are made this many days before due;
- ``REMINDER_DAYS`` (7): days before due a reminder goes out, a comma list;
- ``OVERDUE_NOTICE_DAYS`` (1,5): days after due an overdue notice goes out;
- ``SUSPEND_AFTER_DAYS`` (5): days overdue before suspension;
- ``WARNING_BUSINESS_DAYS`` (1): business days of warning before suspension;
- ``LATE_FEE_PERCENT`` (off): a late fee as a share of the overdue invoice;
- ``LATE_FEE_MINOR`` (off): a fixed late fee, in minor units;
- ``LATE_FEE_AFTER_DAYS`` (1): days overdue before the late fee is charged;
- ``TERMINATE_AFTER_DAYS`` (off): days suspended for non-payment before termination;
- ``RESERVE_PERCENT`` (10): the P-RESERVE share of every payment;
- ``GRACE_MAX_DAYS`` (15): P-ONE-GRACE, the furthest pay-by date, in days;
- ``DELIVERY_ALERT_HOURS`` (24): an issued invoice not delivered by then alerts staff;
- ``RUN_EVERY_MINUTES`` (30): how often the worker repeats the day's run (it also
  runs when the day turns, the office opens or the clock is moved: ``schedule.py``).

An empty value or ``off`` switches an optional rule off.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from shared.config import ConfigurationError

PREFIX = "CORTESIA_BILLING_"
OFF = ("", "off", "none", "0")


class BillingPolicyError(ConfigurationError, ValueError):
    """A billing policy value is invalid; the message names the variable and says why."""


@dataclass(frozen=True)
class BillingPolicy:
    renewal_lead_days: int = 14
    reminder_days: tuple[int, ...] = (7,)
    """Days before the due date on which a reminder goes out, once each."""
    overdue_notice_days: tuple[int, ...] = (1, 5)
    """Days after the due date on which an overdue notice goes out, once each."""
    suspend_after_days: int = 5
    warning_business_days: int = 1
    """The suspension warning goes out this many business days before the suspension."""
    late_fee_percent: int | None = None
    late_fee_minor: int | None = None
    late_fee_after_days: int = 1
    terminate_after_days: int | None = None
    reserve_percent: int = 10
    grace_max_days: int = 15
    delivery_alert_hours: int = 24
    run_every_minutes: int = 30

    def __post_init__(self) -> None:
        _at_least("RENEWAL_LEAD_DAYS", self.renewal_lead_days, 0)
        for day in self.reminder_days:
            _at_least("REMINDER_DAYS", day, 0)
        for day in self.overdue_notice_days:
            _at_least("OVERDUE_NOTICE_DAYS", day, 1)
        _at_least("SUSPEND_AFTER_DAYS", self.suspend_after_days, 1)
        _at_least("WARNING_BUSINESS_DAYS", self.warning_business_days, 0)
        _at_least("LATE_FEE_AFTER_DAYS", self.late_fee_after_days, 1)
        _at_least("RESERVE_PERCENT", self.reserve_percent, 0)
        _at_most("RESERVE_PERCENT", self.reserve_percent, 100)
        _at_least("GRACE_MAX_DAYS", self.grace_max_days, 1)
        _at_least("DELIVERY_ALERT_HOURS", self.delivery_alert_hours, 1)
        _at_least("RUN_EVERY_MINUTES", self.run_every_minutes, 1)
        if self.late_fee_percent is not None:
            _at_least("LATE_FEE_PERCENT", self.late_fee_percent, 1)
            _at_most("LATE_FEE_PERCENT", self.late_fee_percent, 100)
        if self.late_fee_minor is not None:
            _at_least("LATE_FEE_MINOR", self.late_fee_minor, 1)
        if self.late_fee_percent is not None and self.late_fee_minor is not None:
            raise BillingPolicyError(
                f"set {PREFIX}LATE_FEE_PERCENT or {PREFIX}LATE_FEE_MINOR, not both"
            )
        if self.terminate_after_days is not None:
            _at_least("TERMINATE_AFTER_DAYS", self.terminate_after_days, 1)

    @property
    def late_fee_enabled(self) -> bool:
        return self.late_fee_percent is not None or self.late_fee_minor is not None

    def late_fee_for(self, total_minor: int) -> int:
        """The fee on an overdue invoice of ``total_minor``: a fixed amount or a share, half up."""
        if self.late_fee_minor is not None:
            return self.late_fee_minor
        if self.late_fee_percent is not None:
            return (total_minor * self.late_fee_percent + 50) // 100
        return 0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BillingPolicy:
        env = os.environ if env is None else env
        defaults = cls()
        return cls(
            renewal_lead_days=_int(env, "RENEWAL_LEAD_DAYS", defaults.renewal_lead_days),
            reminder_days=_days(env, "REMINDER_DAYS", defaults.reminder_days),
            overdue_notice_days=_days(env, "OVERDUE_NOTICE_DAYS", defaults.overdue_notice_days),
            suspend_after_days=_int(env, "SUSPEND_AFTER_DAYS", defaults.suspend_after_days),
            warning_business_days=_int(
                env, "WARNING_BUSINESS_DAYS", defaults.warning_business_days
            ),
            late_fee_percent=_optional_int(env, "LATE_FEE_PERCENT"),
            late_fee_minor=_optional_int(env, "LATE_FEE_MINOR"),
            late_fee_after_days=_int(env, "LATE_FEE_AFTER_DAYS", defaults.late_fee_after_days),
            terminate_after_days=_optional_int(env, "TERMINATE_AFTER_DAYS"),
            reserve_percent=_int(env, "RESERVE_PERCENT", defaults.reserve_percent),
            grace_max_days=_int(env, "GRACE_MAX_DAYS", defaults.grace_max_days),
            delivery_alert_hours=_int(env, "DELIVERY_ALERT_HOURS", defaults.delivery_alert_hours),
            run_every_minutes=_int(env, "RUN_EVERY_MINUTES", defaults.run_every_minutes),
        )


def _at_least(name: str, value: int, minimum: int) -> None:
    if value < minimum:
        raise BillingPolicyError(f"{PREFIX}{name} must be at least {minimum}, got {value}")


def _at_most(name: str, value: int, maximum: int) -> None:
    if value > maximum:
        raise BillingPolicyError(f"{PREFIX}{name} must be at most {maximum}, got {value}")


def _whole_number(name: str, raw: str) -> int:
    try:
        return int(raw.strip())
    except ValueError:
        raise BillingPolicyError(
            f"{PREFIX}{name} must be a whole number, got {raw.strip()!r}"
        ) from None


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(PREFIX + name, "").strip()
    return default if not raw else _whole_number(name, raw)


def _optional_int(env: Mapping[str, str], name: str) -> int | None:
    """A rule that is off unless set; ``off`` (or empty, or 0) says so explicitly."""
    raw = env.get(PREFIX + name, "").strip()
    return None if raw.lower() in OFF else _whole_number(name, raw)


def _days(env: Mapping[str, str], name: str, default: tuple[int, ...]) -> tuple[int, ...]:
    """A comma-separated list of days (``1,5``); ``off`` sends none."""
    raw = env.get(PREFIX + name)
    if raw is None or not raw.strip():
        return default
    if raw.strip().lower() == "off":
        return ()
    parts = [part for part in raw.split(",") if part.strip()]
    return tuple(sorted({_whole_number(name, part) for part in parts}))
