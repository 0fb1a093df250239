"""P-INVOICE: every invoice is checked before it is sent.

The checks are pure functions over the models: they read an invoice (with
its lines and customer), the plan it renews and the subscription's other
invoices, and return the reasons it must not go out, in words staff can act
on. An empty list means the invoice may be issued. The daily run holds an
invoice with reasons for staff review instead of sending it.

What an invoice's lines may hold:

- the plan's price for the period (a renewal has exactly this as its charge);
- ``Credit applied``: the customer's credit, a negative amount, never more
  than the charges (a total below zero would be money owed to the customer,
  which is credit, not an invoice);
- lines starting ``Proration:``: a documented price difference for part of a
  period, which is why a renewal's total may differ from the plan's price.
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import lru_cache

from marshmallow import ValidationError, validate

from services.billing.drafts import InvoiceFacts, LineFacts
from services.billing.models import Customer, Plan

CREDIT_LINE = "Credit applied"
PRORATION_PREFIX = "Proration:"

_email = validate.Email()


@lru_cache(maxsize=4096)
def is_email(address: str | None) -> bool:
    """The same test the events' schemas apply, so a passing address can be announced."""
    if not address:
        return False
    try:
        _email(address)
    except ValidationError:
        return False
    return True


def deliverable_address(customer: Customer) -> str | None:
    """Where the customer's invoices go: their own email, else a contact who receives them."""
    if is_email(customer.email):
        return customer.email
    for contact in customer.contacts:
        if contact.receives_invoices and is_email(contact.email):
            return contact.email
    return None


def is_credit(line: LineFacts) -> bool:
    return line.description == CREDIT_LINE


def is_proration(line: LineFacts) -> bool:
    return line.description.startswith(PRORATION_PREFIX)


def check_totals(invoice: InvoiceFacts) -> list[str]:
    reasons = []
    if not invoice.lines:
        reasons.append("The invoice has no lines.")
    for line in invoice.lines:
        if line.quantity * line.unit_minor != line.amount_minor:
            reasons.append(
                f"Line {line.description!r}: {line.quantity} x {line.unit_minor} is not "
                f"{line.amount_minor}."
            )
        if is_credit(line) and line.amount_minor >= 0:
            reasons.append(f"Line {line.description!r} must be negative (credit).")
        if not is_credit(line) and line.amount_minor < 0:
            reasons.append(
                f"Line {line.description!r} is negative but is not a {CREDIT_LINE!r} line."
            )
    lines_total = sum(line.amount_minor for line in invoice.lines)
    if lines_total != invoice.total_minor:
        reasons.append(
            f"The total {invoice.total_minor} is not the sum of the lines ({lines_total})."
        )
    if invoice.total_minor < 0:
        reasons.append("The total is negative: credit beyond the charges stays on the account.")
    return reasons


def check_plan_amount(invoice: InvoiceFacts, plan: Plan | None) -> list[str]:
    """A renewal charges the plan's price; credit and proration lines are the only exceptions."""
    if invoice.kind != "renewal":
        return []
    if plan is None:
        return ["A renewal invoice must belong to a subscription with a plan."]
    charged = sum(
        line.amount_minor
        for line in invoice.lines
        if not is_credit(line) and not is_proration(line)
    )
    if charged != plan.price_minor:
        return [
            f"The charge {charged} does not match the price of {plan.name} "
            f"({plan.price_minor}); only credit and proration lines may change it."
        ]
    return []


def check_currency(invoice: InvoiceFacts, customer: Customer, plan: Plan | None) -> list[str]:
    reasons = []
    if invoice.currency != customer.currency:
        reasons.append(
            f"The invoice is in {invoice.currency}; the customer pays in {customer.currency}."
        )
    if plan is not None and plan.currency != invoice.currency:
        reasons.append(
            f"The plan {plan.name} is priced in {plan.currency}, not {invoice.currency}."
        )
    return reasons


def check_contact(customer: Customer) -> list[str]:
    if deliverable_address(customer) is None:
        return [
            "No deliverable contact: the customer's email is not a valid address and no "
            "contact with an email receives invoices."
        ]
    return []


def _overlaps(first: InvoiceFacts, second: InvoiceFacts) -> bool:
    if None in (first.period_start, first.period_end, second.period_start, second.period_end):
        return first.period_start == second.period_start
    assert first.period_start and first.period_end and second.period_start and second.period_end
    return first.period_start < second.period_end and second.period_start < first.period_end


def check_duplicates(invoice: InvoiceFacts, others: Iterable[InvoiceFacts]) -> list[str]:
    """No other live invoice of the same kind for the same subscription period."""
    reasons = []
    for other in others:
        if (
            other is invoice
            or (other.id is not None and other.id == invoice.id)
            or other.status == "void"
            or other.kind != invoice.kind
            or other.subscription_id != invoice.subscription_id
        ):
            continue
        same = (
            _overlaps(invoice, other)
            if invoice.kind == "renewal"
            else other.period_start == invoice.period_start
        )
        if same:
            label = f"#{other.number}" if other.number else f"(id {other.id}, {other.status})"
            reasons.append(
                f"Invoice {label} already bills this subscription for "
                f"{other.period_start} to {other.period_end}."
            )
    return reasons


def check_invoice(
    invoice: InvoiceFacts, plan: Plan | None, others: Iterable[InvoiceFacts]
) -> list[str]:
    """Every reason ``invoice`` must not be issued; empty when it may go out.

    ``plan`` is the plan the invoice renews (``None`` for invoices that do not
    renew one) and ``others`` the subscription's other invoices.
    """
    customer = invoice.customer
    return [
        *check_totals(invoice),
        *check_plan_amount(invoice, plan),
        *check_currency(invoice, customer, plan),
        *check_contact(customer),
        *check_duplicates(invoice, others),
    ]
