"""Billing's own tables: customers, plans, subscriptions, invoices, payments and ledgers.

Money is always an integer number of minor units (centavos, cents) beside its
ISO currency code; it is never a float.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from shared import clock


def _now() -> datetime:
    return clock.now()


class Base(DeclarativeBase):
    pass


LANGUAGES = ("pt-BR", "es", "en")
CYCLES = {"monthly": 1, "quarterly": 3, "yearly": 12}
"""Billing cycles and their length in months."""

SUBSCRIPTION_STATUSES = ("active", "suspended", "pending_cancellation", "cancelled", "terminated")
INVOICE_STATUSES = ("held", "issued", "paid", "void")


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(254))
    language: Mapped[str] = mapped_column(String(5), default="pt-BR")
    timezone: Mapped[str] = mapped_column(String(64), default="America/Sao_Paulo")
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    managed: Mapped[bool] = mapped_column(Boolean, default=False)
    """Managed customers get the care cadence (check-ins, periodic reports)."""
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan", order_by="Contact.id"
    )
    subscriptions: Mapped[list[Subscription]] = relationship(
        back_populates="customer", order_by="Subscription.id"
    )


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(String(40))
    receives_invoices: Mapped[bool] = mapped_column(Boolean, default=True)

    customer: Mapped[Customer] = relationship(back_populates="contacts")


class Plan(Base):
    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    cycle: Mapped[str] = mapped_column(String(10))
    price_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="BRL")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Subscription(Base):
    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(24), default="active", index=True)
    suspension_reason: Mapped[str | None] = mapped_column(String(40))
    suspended_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    current_period_start: Mapped[date] = mapped_column(Date)
    current_period_end: Mapped[date] = mapped_column(Date)
    """The day the next period starts, and so the due date of its renewal invoice."""
    cancel_at_period_end: Mapped[bool] = mapped_column(Boolean, default=False)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    customer: Mapped[Customer] = relationship(back_populates="subscriptions")
    plan: Mapped[Plan] = relationship()


class Invoice(Base):
    __tablename__ = "invoices"
    __table_args__ = (
        # At most one invoice per subscription period (void ones aside, enforced in code).
        UniqueConstraint("subscription_id", "period_start", "kind", name="uq_invoice_period"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int | None] = mapped_column(Integer, unique=True)
    """Given when the invoice is issued, from a gapless sequence."""
    kind: Mapped[str] = mapped_column(String(20), default="renewal")
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int | None] = mapped_column(ForeignKey("subscriptions.id"))
    period_start: Mapped[date | None] = mapped_column(Date)
    period_end: Mapped[date | None] = mapped_column(Date)
    currency: Mapped[str] = mapped_column(String(3))
    total_minor: Mapped[int] = mapped_column(BigInteger)
    paid_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), index=True)
    hold_reasons: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    paid_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    issued_event_id: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)
    """The id of the ``billing.invoice_issued.v1`` event, which notify's delivery events cite."""

    lines: Mapped[list[InvoiceLine]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.id"
    )
    customer: Mapped[Customer] = relationship()
    subscription: Mapped[Subscription | None] = relationship()

    @property
    def balance_minor(self) -> int:
        return self.total_minor - self.paid_minor


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"), index=True)
    description: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    unit_minor: Mapped[int] = mapped_column(BigInteger)
    amount_minor: Mapped[int] = mapped_column(BigInteger)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class Payment(Base):
    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(40))
    gateway_transaction_id: Mapped[str | None] = mapped_column(String(120), unique=True)
    """Unique, so a replayed webhook cannot record the same payment twice."""
    recorded_by: Mapped[str | None] = mapped_column(String(200))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class CreditEntry(Base):
    """The customer's credit ledger: overpayments and downgrades in, applied credit out."""

    __tablename__ = "credit_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str] = mapped_column(String(200))
    invoice_id: Mapped[int | None] = mapped_column(ForeignKey("invoices.id"))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class ReserveEntry(Base):
    """P-RESERVE: the share of each payment booked to working capital."""

    __tablename__ = "reserve_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), unique=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    booked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Grace(Base):
    """P-ONE-GRACE: the one reactivation with a customer-chosen pay-by date, per account."""

    __tablename__ = "graces"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    pay_by: Mapped[date] = mapped_column(Date)
    granted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    requested_by: Mapped[str] = mapped_column(String(200))
    owner_override: Mapped[bool] = mapped_column(Boolean, default=False)
    note: Mapped[str | None] = mapped_column(Text)


class Notice(Base):
    """A reminder, overdue notice or suspension warning already announced (once each)."""

    __tablename__ = "notices"
    __table_args__ = (UniqueConstraint("invoice_id", "kind", name="uq_notice_invoice_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoices.id"))
    kind: Mapped[str] = mapped_column(String(40))
    """e.g. ``reminder_7``, ``overdue_1``, ``suspension_warning``, ``delivery_alert``."""
    sent_on: Mapped[date] = mapped_column(Date)


class TimelineEntry(Base):
    """What happened to a customer's account and why, in words staff can read."""

    __tablename__ = "timeline"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    kind: Mapped[str] = mapped_column(String(40))
    message: Mapped[str] = mapped_column(Text)
    automatic: Mapped[bool] = mapped_column(Boolean, default=True)


class BillingRun(Base):
    """One row per day the billing run completed, so re-running a day does nothing new."""

    __tablename__ = "billing_runs"

    run_date: Mapped[date] = mapped_column(Date, primary_key=True)
    completed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class Sequence(Base):
    """Gapless counters (invoice numbers): incremented inside the issuing transaction."""

    __tablename__ = "sequences"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


class OpenBillingTicket(Base):
    """Replica of the desk's open billing tickets: suspension waits while one is open."""

    __tablename__ = "open_billing_tickets"

    ticket_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    customer_id: Mapped[int] = mapped_column(Integer, index=True)
