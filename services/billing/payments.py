"""Payments: recorded by staff or posted by the payment gateway.

A payment names an invoice or only the customer. It settles what it names:

- against an invoice, it pays that invoice (partial payments accumulate in
  ``paid_minor``; the invoice is paid when its balance reaches zero);
- against the customer, it settles the customer's open invoices, the one due
  first first, so a customer who pays "what I owe" is not suspended over an
  invoice the payment did not name.

Whatever is left over is never refused or lost: it becomes credit on the
customer's ledger (a positive ``CreditEntry`` with its reason), which the
daily run applies to the next invoice.

P-RESERVE: a share of every payment (``reserve_percent``, default 10) is
booked to the reserve ledger. The share is computed on the whole payment in
integer minor units and rounded half up: 10% of 1,005 centavos is 100.5,
booked as 101; 10% of 1,004 is 100.4, booked as 100.

A paid invoice lifts its subscription's suspension when, and only when, the
suspension was for non-payment: an account suspended for abuse stays
suspended whatever is paid.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing.accounts import (
    BillingError,
    NotFound,
    announce,
    customer_day,
    customer_ref,
    get_customer,
    invoice_ref,
    note,
)
from services.billing.grace import reactivate
from services.billing.models import CreditEntry, Customer, Invoice, Payment, ReserveEntry
from shared import clock

DEFAULT_RESERVE_PERCENT = 10
GATEWAY_METHOD = "gateway"


class DuplicatePayment(BillingError):
    """The gateway transaction was already recorded; the earlier payment stands."""

    def __init__(self, payment: Payment) -> None:
        super().__init__(
            f"Gateway transaction {payment.gateway_transaction_id} is already recorded "
            f"as payment {payment.id}."
        )
        # The id, not the row: the caller's transaction rolls back and expires the row.
        self.payment_id = payment.id


def format_money(amount_minor: int, currency: str) -> str:
    """``BRL 1,234.56`` from 123456: every currency billing accepts has two decimals."""
    sign = "-" if amount_minor < 0 else ""
    units, cents = divmod(abs(amount_minor), 100)
    return f"{currency} {sign}{units:,}.{cents:02d}"


def share_half_up(amount_minor: int, percent: int) -> int:
    """``percent`` of a non-negative amount, rounded half up, in integers only."""
    if amount_minor < 0 or percent < 0:
        raise ValueError("shares are taken of non-negative amounts")
    return (amount_minor * percent + 50) // 100


def require_minor_units(amount_minor: object) -> int:
    """An amount must be a positive whole number of minor units (never a float or text)."""
    if isinstance(amount_minor, bool) or not isinstance(amount_minor, int):
        raise BillingError("The amount must be a whole number of minor units (e.g. 1050).")
    if amount_minor <= 0:
        raise BillingError("The amount must be greater than zero.")
    return amount_minor


@dataclass(frozen=True)
class PaymentRequest:
    amount_minor: int
    currency: str
    method: str
    invoice_id: int | None = None
    customer_id: int | None = None
    gateway_transaction_id: str | None = None
    recorded_by: str | None = None
    """The staff member's email, or ``None`` for the gateway."""


@dataclass
class PaymentOutcome:
    payment: Payment
    applied_minor: int = 0
    credit_minor: int = 0
    reserve_minor: int = 0
    paid_invoices: list[Invoice] = field(default_factory=list)
    reactivated_subscriptions: list[int] = field(default_factory=list)


def find_gateway_payment(session: Session, transaction_id: str) -> Payment | None:
    return session.execute(
        select(Payment).where(Payment.gateway_transaction_id == transaction_id)
    ).scalar_one_or_none()


def record_payment(
    session: Session,
    request: PaymentRequest,
    *,
    reserve_percent: int = DEFAULT_RESERVE_PERCENT,
    now: datetime | None = None,
) -> PaymentOutcome:
    """Record one payment with everything it causes, inside the caller's transaction."""
    now = now or clock.now()
    amount = require_minor_units(request.amount_minor)
    if request.gateway_transaction_id:
        earlier = find_gateway_payment(session, request.gateway_transaction_id)
        if earlier is not None:
            raise DuplicatePayment(earlier)
    customer, invoice = _payer(session, request)
    if request.currency != customer.currency:
        raise BillingError(
            f"This customer pays in {customer.currency}; a payment in {request.currency} "
            "cannot be recorded against the account."
        )
    payment = Payment(
        customer_id=customer.id,
        invoice_id=invoice.id if invoice else None,
        amount_minor=amount,
        currency=request.currency,
        method=request.method,
        gateway_transaction_id=request.gateway_transaction_id or None,
        recorded_by=request.recorded_by,
        received_at=now,
    )
    session.add(payment)
    session.flush()
    outcome = PaymentOutcome(payment=payment)
    _note_payment(session, customer, payment)
    credit_reason = _credit_reason(invoice)
    targets = [invoice] if invoice else _open_invoices(session, customer.id)
    remaining = amount
    for target in targets:
        remaining -= _apply(session, outcome, target, remaining, now)
        if remaining == 0:
            break
    if remaining:
        _book_credit(session, outcome, customer, invoice, remaining, credit_reason)
    _book_reserve(session, outcome, reserve_percent)
    announce(
        session,
        "billing.payment_received.v1",
        {
            **customer_ref(customer),
            "payment_id": payment.id,
            "invoice_id": payment.invoice_id,
            "amount_minor": amount,
            "currency": payment.currency,
            "method": payment.method,
            "credit_minor": outcome.credit_minor,
        },
    )
    return outcome


def _payer(session: Session, request: PaymentRequest) -> tuple[Customer, Invoice | None]:
    if request.invoice_id is None:
        if request.customer_id is None:
            raise BillingError("A payment names an invoice or a customer.")
        return get_customer(session, request.customer_id), None
    invoice = session.get(Invoice, request.invoice_id)
    if invoice is None:
        raise NotFound(f"No invoice with id {request.invoice_id}.")
    if request.customer_id is not None and request.customer_id != invoice.customer_id:
        raise BillingError(
            f"Invoice {request.invoice_id} belongs to another customer than {request.customer_id}."
        )
    if request.currency != invoice.currency:
        raise BillingError(
            f"Invoice {request.invoice_id} is in {invoice.currency}; the payment is in "
            f"{request.currency}."
        )
    return invoice.customer, invoice


def _open_invoices(session: Session, customer_id: int) -> list[Invoice]:
    """Issued, unpaid invoices, the one due first first (held ones wait for staff review)."""
    return list(
        session.execute(
            select(Invoice)
            .where(Invoice.customer_id == customer_id, Invoice.status == "issued")
            .order_by(Invoice.due_date, Invoice.id)
        ).scalars()
    )


def _apply(
    session: Session, outcome: PaymentOutcome, invoice: Invoice, available: int, now: datetime
) -> int:
    """Put up to ``available`` towards an invoice; returns how much it took."""
    if invoice.status != "issued" or invoice.balance_minor <= 0:
        # A paid, void or held invoice takes nothing; the money becomes credit.
        return 0
    taken = min(available, invoice.balance_minor)
    invoice.paid_minor += taken
    outcome.applied_minor += taken
    label = _invoice_label(invoice)
    if invoice.balance_minor > 0:
        note(
            session,
            invoice.customer_id,
            "invoice_partly_paid",
            f"{format_money(taken, invoice.currency)} went to {label}; "
            f"{format_money(invoice.balance_minor, invoice.currency)} is still open.",
        )
        return taken
    invoice.status = "paid"
    invoice.paid_at = now
    outcome.paid_invoices.append(invoice)
    session.flush()
    note(session, invoice.customer_id, "invoice_paid", f"{label} is paid in full.")
    announce(session, "billing.invoice_paid.v1", invoice_ref(invoice))
    today = customer_day(invoice.customer.timezone, now)
    _lift_non_payment_suspension(session, outcome, invoice, today)
    return taken


def _lift_non_payment_suspension(
    session: Session, outcome: PaymentOutcome, invoice: Invoice, today: date
) -> None:
    subscription = invoice.subscription
    if subscription is None or subscription.status != "suspended":
        return
    label = _invoice_label(invoice)
    if subscription.suspension_reason != "non_payment":
        # Only a suspension for non-payment is lifted by paying; others need staff.
        note(
            session,
            invoice.customer_id,
            "suspension_kept",
            f"{label} is paid, but the {subscription.plan.name} subscription stays suspended: "
            f"it was suspended for {subscription.suspension_reason}, not for non-payment.",
        )
        return
    still_overdue = _other_overdue_invoice(session, invoice, today)
    if still_overdue is not None:
        note(
            session,
            invoice.customer_id,
            "suspension_kept",
            f"{label} is paid, but the {subscription.plan.name} subscription stays suspended "
            f"until {_invoice_label(still_overdue)}, also overdue, is paid.",
        )
        return
    reactivate(
        session,
        subscription,
        cause="payment",
        message=f"Reactivated {subscription.plan.name}: {label} was paid, which settles the "
        "non-payment that suspended it.",
    )
    outcome.reactivated_subscriptions.append(subscription.id)


def _other_overdue_invoice(session: Session, paid: Invoice, today: date) -> Invoice | None:
    return session.execute(
        select(Invoice)
        .where(
            Invoice.subscription_id == paid.subscription_id,
            Invoice.id != paid.id,
            Invoice.status == "issued",
            Invoice.due_date < today,
        )
        .limit(1)
    ).scalar_one_or_none()


def _credit_reason(invoice: Invoice | None) -> str:
    """Why money left over is credit, decided before the payment changes the invoice."""
    if invoice is None:
        return "Payment on account beyond the open invoices"
    if invoice.status != "issued":
        return f"Paid to {_invoice_label(invoice)}, which was {invoice.status}"
    return f"Overpayment of {_invoice_label(invoice)}"


def _book_credit(
    session: Session,
    outcome: PaymentOutcome,
    customer: Customer,
    invoice: Invoice | None,
    amount: int,
    reason: str,
) -> None:
    session.add(
        CreditEntry(
            customer_id=customer.id,
            amount_minor=amount,
            currency=outcome.payment.currency,
            reason=reason,
            invoice_id=invoice.id if invoice else None,
            payment_id=outcome.payment.id,
        )
    )
    outcome.credit_minor = amount
    note(
        session,
        customer.id,
        "credit_added",
        f"{format_money(amount, customer.currency)} became credit ({reason.lower()}); "
        "it will be applied to the next invoice.",
    )


def _book_reserve(session: Session, outcome: PaymentOutcome, reserve_percent: int) -> None:
    payment = outcome.payment
    share = share_half_up(payment.amount_minor, reserve_percent)
    session.add(
        ReserveEntry(
            payment_id=payment.id,
            amount_minor=share,
            currency=payment.currency,
            booked_at=payment.received_at,
        )
    )
    outcome.reserve_minor = share


def _note_payment(session: Session, customer: Customer, payment: Payment) -> None:
    source = (
        f"recorded by {payment.recorded_by}"
        if payment.recorded_by
        else f"posted by the payment gateway (transaction {payment.gateway_transaction_id})"
    )
    note(
        session,
        customer.id,
        "payment_received",
        f"Payment of {format_money(payment.amount_minor, payment.currency)} by "
        f"{payment.method}, {source}.",
        automatic=payment.recorded_by is None,
    )


def _invoice_label(invoice: Invoice) -> str:
    return f"invoice #{invoice.number}" if invoice.number else f"invoice (id {invoice.id})"
