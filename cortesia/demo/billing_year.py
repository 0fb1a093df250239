"""The demo's year of billing, day by day up to yesterday, through billing's own paths.

Each customer signs up on their day, and every day the daily run does what it does on
a real morning (renewal invoices two weeks ahead, reminders, overdue notices, the
suspension warning, suspensions inside business hours). In the afternoon the customers
pay as their habit says (``company.Habit``), through the gateway or by Pix recorded by
the billing person, and the one customer who was suspended asks for the one grace and
pays on the date promised (P-ONE-GRACE). Today is left to the platform's own schedule.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial

from sqlalchemy import select
from sqlalchemy.orm import Session

from cortesia.demo import company
from cortesia.demo.story import COMPANY_CALENDAR, Story
from services.billing.accounts import CustomerDetails, create_customer
from services.billing.catalog import add_months, create_plan, subscribe
from services.billing.grace import GraceRequest, request_grace
from services.billing.models import Invoice, Plan, Subscription
from services.billing.payments import GATEWAY_METHOD, PaymentRequest, record_payment
from services.billing.policy import BillingPolicy
from services.billing.run import run_billing

RUN_AT = (10, 30)
"""The morning run, inside business hours so that a suspension due today happens."""
PAYMENTS_AT = (14, 30)
"""After the break: Mexico's office has opened, so what notify held for it in the morning
goes out now; what is written now for Madrid, whose day is ending, goes out tomorrow."""
GRACE_PAY_BY_DAYS = 7
BEHIND_BY_DAYS = 10
"""A customer who is behind left unpaid what fell due in these last days."""
STOPPED_FOR_DAYS = 25
"""A customer who stopped paying has paid nothing that fell due in these last days."""


@dataclass
class Accounts:
    """The customers' ids in billing, by their key in the cast."""

    customer_ids: dict[str, int] = field(default_factory=dict)
    subscription_ids: dict[str, int] = field(default_factory=dict)

    def key_of(self, customer_id: int) -> str:
        return next(key for key, known in self.customer_ids.items() if known == customer_id)


def joined_on(customer: company.Customer, today: date) -> date:
    latest_renewal = today - timedelta(days=customer.days_since_renewal)
    return add_months(latest_renewal, -customer.months)


class BillingYear:
    def __init__(self, story: Story, today: date, randomness: random.Random) -> None:
        self.story = story
        self.today = today
        self.database = story.database("billing")
        self.policy = BillingPolicy.from_env()
        self.accounts = Accounts()
        self.promised: dict[str, date] = {}
        """The graced customer's pay-by date, once the grace is granted."""
        self._payment_seed = randomness.random()

    def first_day(self) -> date:
        return min(joined_on(customer, self.today) for customer in company.CUSTOMERS)

    def tell(self, arrivals: Mapping[date, Callable[[], None]]) -> Accounts:
        """The year up to yesterday; ``arrivals`` are other steps of the story, each run in
        the morning of its day (a new hire joining the team)."""
        joins = {customer: joined_on(customer, self.today) for customer in company.CUSTOMERS}
        first = self.first_day()
        with self.database.transaction() as session:
            for plan in company.PLANS:
                create_plan(session, plan.code, plan.name, "monthly", plan.price_minor)
        day = first
        while day < self.today:
            if day in arrivals:
                self._step(day, (9, 0), arrivals[day], writer=None)
            joining = [customer for customer, joined in joins.items() if joined == day]
            if joining:
                self._step(day, (9, 0), partial(self._sign_up, joining, day))
            self._step(day, RUN_AT, partial(self._run, day))
            self._step(day, PAYMENTS_AT, partial(self._afternoon, day))
            day += timedelta(days=1)
        return self.accounts

    def _step(
        self,
        day: date,
        hour_minute: tuple[int, int],
        action: Callable[[], None],
        writer: str | None = "billing",
    ) -> None:
        self.story.move_to(self.story.at(day, *hour_minute))
        action()
        if writer is None:
            self.story.deliver()
        else:
            self.story.deliver(writer)

    # -- the steps ---------------------------------------------------------------------

    def _sign_up(self, customers: list[company.Customer], day: date) -> None:
        with self.database.transaction() as session:
            plans = {plan.code: plan.id for plan in session.execute(select(Plan)).scalars()}
            for customer in customers:
                account = create_customer(
                    session,
                    CustomerDetails(
                        name=customer.name,
                        email=customer.email,
                        language=customer.language,
                        timezone=customer.timezone,
                        currency="BRL",
                        managed=customer.managed,
                    ),
                )
                subscription = subscribe(session, account.id, plans[customer.plan.code], day)
                self.accounts.customer_ids[customer.key] = account.id
                self.accounts.subscription_ids[customer.key] = subscription.id

    def _run(self, day: date) -> None:
        run_billing(self.database, day, self.policy, COMPANY_CALENDAR, self.story.now())

    def _afternoon(self, day: date) -> None:
        now = self.story.now()
        with self.database.transaction() as session:
            open_invoices = session.execute(
                select(Invoice).where(Invoice.status == "issued").order_by(Invoice.id)
            ).scalars()
            for invoice in list(open_invoices):
                customer = company.customer(self.accounts.key_of(invoice.customer_id))
                if self._pays_today(customer, invoice, day):
                    record_payment(
                        session,
                        self._payment(invoice),
                        reserve_percent=self.policy.reserve_percent,
                        now=now,
                    )
            for customer in company.CUSTOMERS:
                signed_up = customer.key in self.accounts.customer_ids
                if customer.habit is company.Habit.GRACED and signed_up:
                    self._ask_for_grace_if_suspended(session, customer, day, now)

    # -- the customers' habits -----------------------------------------------------------

    def _pays_today(self, customer: company.Customer, invoice: Invoice, day: date) -> bool:
        if self._leaves_unpaid(customer, invoice.due_date):
            return False
        if invoice.due_date == self.promised.get(customer.key):
            return day >= invoice.due_date
        # Each invoice paid some days before it falls due, the same days on every run.
        days_early = random.Random(f"{self._payment_seed}:{invoice.id}").randint(0, 6)
        return day >= invoice.due_date - timedelta(days=days_early)

    def _leaves_unpaid(self, customer: company.Customer, due_date: date) -> bool:
        # Windows rather than exact dates: a renewal after February falls on the 28th.
        if customer.habit is company.Habit.BEHIND:
            return due_date >= self.today - timedelta(days=BEHIND_BY_DAYS)
        if customer.habit is company.Habit.STOPPED:
            return due_date >= self.today - timedelta(days=STOPPED_FOR_DAYS)
        if customer.habit is company.Habit.GRACED:
            joined = joined_on(customer, self.today)
            missed = add_months(joined, company.GRACE_MONTH)
            return abs((due_date - missed).days) <= 3
        return False

    def _payment(self, invoice: Invoice) -> PaymentRequest:
        balance = invoice.total_minor - invoice.paid_minor
        if random.Random(f"{self._payment_seed}:method:{invoice.id}").random() < 0.7:
            return PaymentRequest(
                amount_minor=balance,
                currency=invoice.currency,
                method=GATEWAY_METHOD,
                invoice_id=invoice.id,
                gateway_transaction_id=f"pix-{invoice.id:06d}",
            )
        return PaymentRequest(
            amount_minor=balance,
            currency=invoice.currency,
            method="pix",
            invoice_id=invoice.id,
            recorded_by=company.BILLING.email,
        )

    def _ask_for_grace_if_suspended(
        self, session: Session, customer: company.Customer, day: date, now: datetime
    ) -> None:
        subscription = session.get(Subscription, self.accounts.subscription_ids[customer.key])
        if subscription is None or subscription.status != "suspended":
            return
        if customer.key in self.promised:
            return
        pay_by = day + timedelta(days=GRACE_PAY_BY_DAYS)
        decision = request_grace(
            session,
            GraceRequest(
                subscription_id=subscription.id,
                pay_by=pay_by,
                requested_by=company.BILLING.email,
            ),
            today=day,
            now=now,
            grace_max_days=self.policy.grace_max_days,
        )
        if not decision.granted:
            raise RuntimeError(f"the demo's one grace was refused: {decision.message}")
        self.promised[customer.key] = pay_by
