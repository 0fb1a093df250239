"""Plans and subscriptions: what a customer buys, and the periods it is billed for."""

from __future__ import annotations

import calendar
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing.accounts import (
    BillingError,
    NotFound,
    announce,
    get_customer,
    note,
    subscription_ref,
)
from services.billing.models import CYCLES, Plan, Subscription


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later, clamped to the month's end (31 Jan + 1 = 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def period_after(start: date, cycle: str) -> date:
    return add_months(start, CYCLES[cycle])


def create_plan(
    session: Session, code: str, name: str, cycle: str, price_minor: int, currency: str = "BRL"
) -> Plan:
    if cycle not in CYCLES:
        raise BillingError(f"Cycle must be one of {', '.join(CYCLES)}.")
    if price_minor < 0:
        raise BillingError("A plan's price cannot be negative.")
    if session.execute(select(Plan.id).where(Plan.code == code)).first():
        raise BillingError(f"A plan with code {code!r} already exists.")
    plan = Plan(code=code, name=name, cycle=cycle, price_minor=price_minor, currency=currency)
    session.add(plan)
    session.flush()
    return plan


def get_plan(session: Session, plan_id: int) -> Plan:
    plan = session.get(Plan, plan_id)
    if plan is None:
        raise NotFound(f"No plan with id {plan_id}.")
    return plan


def get_subscription(session: Session, subscription_id: int) -> Subscription:
    subscription = session.get(Subscription, subscription_id)
    if subscription is None:
        raise NotFound(f"No subscription with id {subscription_id}.")
    return subscription


def subscribe(session: Session, customer_id: int, plan_id: int, start: date) -> Subscription:
    """Start a subscription whose first period begins on ``start`` (paid at sign-up)."""
    customer = get_customer(session, customer_id)
    plan = get_plan(session, plan_id)
    if not plan.active:
        raise BillingError(f"Plan {plan.name} is no longer sold.")
    if plan.currency != customer.currency:
        raise BillingError(
            f"Plan {plan.name} is priced in {plan.currency}; the customer pays in "
            f"{customer.currency}."
        )
    subscription = Subscription(
        customer_id=customer.id,
        plan_id=plan.id,
        status="active",
        current_period_start=start,
        current_period_end=period_after(start, plan.cycle),
    )
    session.add(subscription)
    session.flush()
    note(session, customer.id, "subscribed", f"Subscribed to {plan.name}.", automatic=False)
    announce(
        session,
        "billing.subscription_started.v1",
        {
            **subscription_ref(subscription),
            "period_start": subscription.current_period_start,
            "period_end": subscription.current_period_end,
        },
    )
    return subscription
