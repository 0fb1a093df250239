"""Customers and the account bookkeeping every billing action shares.

Each billing action records what it did on the customer's timeline (so staff
can see why an automatic action happened) and announces it as an event built
from the references below.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select
from sqlalchemy.orm import Session, selectinload

from services.billing.drafts import InvoiceFacts
from services.billing.models import (
    LANGUAGES,
    Contact,
    Customer,
    Sequence,
    Subscription,
    TimelineEntry,
)
from shared import clock
from shared.addresses import UndeliverableAddress, deliverable_address
from shared.bus.outbox import record_event
from shared.business_hours import BusinessCalendar
from shared.events import Envelope

PRODUCER = "billing"
CURRENCIES = ("BRL", "USD", "EUR", "MXN")


class BillingError(ValueError):
    """A billing request that cannot be done; the message is fit to show staff."""


class NotFound(BillingError):
    """The customer, plan, subscription or invoice named does not exist."""


COMPANY_ZONE = BusinessCalendar().zone


def company_day(moment: datetime | None = None) -> date:
    """The company's date (its business calendar's zone): what "today" means on the staff's
    boards and as a default, whatever the server's clock zone."""
    return _aware(moment or clock.now()).astimezone(COMPANY_ZONE).date()


def customer_day(timezone: str, moment: datetime) -> date:
    """The date on the customer's own calendar: their day, not UTC's, is what they see."""
    return _aware(moment).astimezone(ZoneInfo(timezone)).date()


def _aware(moment: datetime) -> datetime:
    # SQLite hands timezone-aware columns back naive (they are stored in UTC).
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def announce(session: Session, event_type: str, payload: dict[str, Any]) -> Envelope:
    return record_event(session, PRODUCER, event_type, payload)


def note(
    session: Session, customer_id: int, kind: str, message: str, *, automatic: bool = True
) -> None:
    session.add(
        TimelineEntry(customer_id=customer_id, kind=kind, message=message, automatic=automatic)
    )


def customer_ref(customer: Customer) -> dict[str, Any]:
    return {
        "customer_id": customer.id,
        "customer_name": customer.name,
        "email": customer.email,
        "language": customer.language,
        "timezone": customer.timezone,
    }


def invoice_ref(invoice: InvoiceFacts) -> dict[str, Any]:
    return {
        **customer_ref(invoice.customer),
        "invoice_id": invoice.id,
        "invoice_number": invoice.number,
        "subscription_id": invoice.subscription_id,
        "total_minor": invoice.total_minor,
        "balance_minor": invoice.balance_minor,
        "currency": invoice.currency,
        "due_date": invoice.due_date,
    }


def issued_ref(invoice: InvoiceFacts) -> dict[str, Any]:
    """An issued invoice's event: the reference and the invoice itself."""
    return {
        **invoice_ref(invoice),
        "period_start": invoice.period_start,
        "period_end": invoice.period_end,
        "lines": [
            {
                "description": line.description,
                "quantity": line.quantity,
                "unit_minor": line.unit_minor,
                "amount_minor": line.amount_minor,
            }
            for line in invoice.lines
        ],
    }


def subscription_ref(subscription: Subscription) -> dict[str, Any]:
    return {
        **customer_ref(subscription.customer),
        "subscription_id": subscription.id,
        "plan_name": subscription.plan.name,
    }


def next_in_sequence(session: Session, name: str) -> int:
    """The next number of a gapless sequence, taken inside the caller's transaction."""
    return reserve_in_sequence(session, name, 1)[0]


def reserve_in_sequence(session: Session, name: str, count: int) -> range:
    """The next ``count`` numbers of a gapless sequence, taken inside the caller's transaction.

    The row lock (PostgreSQL) or the write lock (SQLite) is held until commit,
    so a rolled-back transaction gives its numbers back and no gap appears.
    The caller must use every number it reserved.
    """
    if count == 0:
        return range(0)
    row = session.execute(
        select(Sequence).where(Sequence.name == name).with_for_update()
    ).scalar_one_or_none()
    if row is None:
        row = Sequence(name=name, value=0)
        session.add(row)
    first = row.value + 1
    row.value += count
    session.flush()
    return range(first, first + count)


def get_customer(session: Session, customer_id: int) -> Customer:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"No customer with id {customer_id}.")
    return customer


@dataclass(frozen=True)
class CustomerDetails:
    name: str
    email: str
    language: str = "pt-BR"
    timezone: str = "America/Sao_Paulo"
    currency: str = "BRL"
    managed: bool = False

    def validated(self) -> CustomerDetails:
        if not self.name.strip():
            raise BillingError("A customer needs a name.")
        try:
            email = deliverable_address(self.email)
        except UndeliverableAddress as refused:
            raise BillingError(str(refused)) from None
        if self.language not in LANGUAGES:
            raise BillingError(f"Language must be one of {', '.join(LANGUAGES)}.")
        if self.currency not in CURRENCIES:
            raise BillingError(f"Currency must be one of {', '.join(CURRENCIES)}.")
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise BillingError(f"{self.timezone!r} is not a known timezone.") from None
        return replace(self, email=email)


def search_customers(session: Session, text: str | None, limit: int = 50) -> list[Customer]:
    """Customers whose name or email contains ``text`` (all of them without it), by name."""
    statement = (
        select(Customer)
        .options(selectinload(Customer.subscriptions))
        .order_by(Customer.name, Customer.id)
        .limit(limit)
    )
    if text and text.strip():
        # The staff's text is matched literally: % and _ are not wildcards to them.
        escaped = text.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        statement = statement.where(
            or_(
                Customer.name.ilike(pattern, escape="\\"),
                Customer.email.ilike(pattern, escape="\\"),
            )
        )
    return list(session.execute(statement).scalars())


def add_contact(
    session: Session,
    customer_id: int,
    name: str,
    email: str | None,
    phone: str | None,
    receives_invoices: bool = True,
) -> Contact:
    customer = get_customer(session, customer_id)
    if not name.strip():
        raise BillingError("A contact needs a name.")
    if not (email or phone):
        raise BillingError("A contact needs an email or a phone number.")
    if email:
        try:
            email = deliverable_address(email)
        except UndeliverableAddress as refused:
            raise BillingError(str(refused)) from None
    contact = Contact(
        customer_id=customer.id,
        name=name.strip(),
        email=email.strip().lower() if email else None,
        phone=phone.strip() if phone else None,
        receives_invoices=receives_invoices,
    )
    session.add(contact)
    session.flush()
    note(session, customer.id, "contact_added", f"Contact {contact.name} added.", automatic=False)
    return contact


def remove_contact(session: Session, customer_id: int, contact_id: int) -> None:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.customer_id != customer_id:
        raise NotFound(f"Customer {customer_id} has no contact with id {contact_id}.")
    session.delete(contact)
    note(
        session, customer_id, "contact_removed", f"Contact {contact.name} removed.", automatic=False
    )


def _customer_event(customer: Customer) -> dict[str, Any]:
    return {**customer_ref(customer), "currency": customer.currency, "managed": customer.managed}


def create_customer(session: Session, details: CustomerDetails) -> Customer:
    details = details.validated()
    customer = Customer(
        name=details.name.strip(),
        email=details.email.strip().lower(),
        language=details.language,
        timezone=details.timezone,
        currency=details.currency,
        managed=details.managed,
        created_at=clock.now(),
    )
    session.add(customer)
    session.flush()
    note(session, customer.id, "customer_created", "Customer account opened.", automatic=False)
    announce(session, "billing.customer_created.v1", _customer_event(customer))
    return customer


def update_customer(session: Session, customer_id: int, details: CustomerDetails) -> Customer:
    details = details.validated()
    customer = get_customer(session, customer_id)
    if customer.currency != details.currency and customer.subscriptions:
        raise BillingError("The currency of a customer with subscriptions cannot change.")
    customer.name = details.name.strip()
    customer.email = details.email.strip().lower()
    customer.language = details.language
    customer.timezone = details.timezone
    customer.currency = details.currency
    customer.managed = details.managed
    session.flush()
    announce(session, "billing.customer_updated.v1", _customer_event(customer))
    return customer
