"""The billing policy: the founder's defaults, and clear errors for bad settings."""

from __future__ import annotations

from datetime import date

import pytest

from services.billing.policy import BillingPolicy, BillingPolicyError
from services.billing.run import suspension_day, warning_day
from shared.business_hours import BusinessCalendar
from shared.config import ConfigurationError


def test_defaults() -> None:
    policy = BillingPolicy.from_env({})
    assert policy == BillingPolicy()
    assert (policy.renewal_lead_days, policy.reminder_days, policy.overdue_notice_days) == (
        14,
        (7,),
        (1, 5),
    )
    assert (policy.suspend_after_days, policy.warning_business_days) == (5, 1)
    assert not policy.late_fee_enabled and policy.terminate_after_days is None
    assert (policy.reserve_percent, policy.grace_max_days, policy.delivery_alert_hours) == (
        10,
        15,
        24,
    )
    assert policy.run_every_minutes == 30


def test_values_from_the_environment() -> None:
    policy = BillingPolicy.from_env(
        {
            "CORTESIA_BILLING_RENEWAL_LEAD_DAYS": "10",
            "CORTESIA_BILLING_REMINDER_DAYS": "7, 3,0",
            "CORTESIA_BILLING_OVERDUE_NOTICE_DAYS": "off",
            "CORTESIA_BILLING_LATE_FEE_MINOR": "1500",
            "CORTESIA_BILLING_TERMINATE_AFTER_DAYS": "30",
            "CORTESIA_BILLING_RESERVE_PERCENT": "12",
        }
    )
    assert policy.renewal_lead_days == 10
    assert policy.reminder_days == (0, 3, 7)
    assert policy.overdue_notice_days == ()
    assert policy.late_fee_for(10_000) == 1500
    assert policy.terminate_after_days == 30 and policy.reserve_percent == 12


def test_a_percent_late_fee_rounds_half_up() -> None:
    policy = BillingPolicy(late_fee_percent=2)
    assert policy.late_fee_for(5025) == 101  # 100.5
    assert policy.late_fee_for(5024) == 100  # 100.48


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CORTESIA_BILLING_SUSPEND_AFTER_DAYS": "five"}, "SUSPEND_AFTER_DAYS must be a whole"),
        ({"CORTESIA_BILLING_SUSPEND_AFTER_DAYS": "0"}, "SUSPEND_AFTER_DAYS must be at least 1"),
        ({"CORTESIA_BILLING_REMINDER_DAYS": "7,x"}, "REMINDER_DAYS must be a whole number"),
        ({"CORTESIA_BILLING_OVERDUE_NOTICE_DAYS": "0,5"}, "OVERDUE_NOTICE_DAYS must be at least"),
        ({"CORTESIA_BILLING_RESERVE_PERCENT": "101"}, "RESERVE_PERCENT must be at most 100"),
        (
            {"CORTESIA_BILLING_LATE_FEE_PERCENT": "2", "CORTESIA_BILLING_LATE_FEE_MINOR": "100"},
            "not both",
        ),
    ],
)
def test_bad_values_are_configuration_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message) as caught:
        BillingPolicy.from_env(env)
    assert isinstance(caught.value, BillingPolicyError)
    assert "CORTESIA_BILLING_" in str(caught.value)


@pytest.mark.parametrize(
    ("due", "suspend_on", "warn_on"),
    [
        (date(2026, 3, 10), date(2026, 3, 16), date(2026, 3, 13)),  # Sun 15 -> Mon, warn Fri
        (date(2026, 4, 16), date(2026, 4, 22), date(2026, 4, 20)),  # Tiradentes on Tue 21
        (date(2026, 3, 2), date(2026, 3, 9), date(2026, 3, 6)),  # Sat 7 -> Mon 9
        (date(2026, 3, 4), date(2026, 3, 9), date(2026, 3, 6)),  # Mon 9 itself
    ],
)
def test_suspension_and_warning_days(due: date, suspend_on: date, warn_on: date) -> None:
    calendar, policy = BusinessCalendar(), BillingPolicy()
    assert suspension_day(due, policy, calendar) == suspend_on
    assert warning_day(suspend_on, policy, calendar) == warn_on
