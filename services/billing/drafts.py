"""Invoices as the checks and the events read them: stored ones, and drafts not yet written.

The P-INVOICE checks, the event references and the timeline's wording read an
invoice through ``InvoiceFacts``, which a stored ``Invoice`` satisfies. The
daily run's renewals are made as ``RenewalDraft``s instead: plain objects that
are drafted, credited, checked and numbered in memory, then written for a whole
batch with one statement per table. At a hundred thousand renewals a day, the
ORM's bookkeeping for each object would cost more than the SQL itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from services.billing.models import Customer, Subscription


class LineFacts(Protocol):
    @property
    def description(self) -> str: ...
    @property
    def quantity(self) -> int: ...
    @property
    def unit_minor(self) -> int: ...
    @property
    def amount_minor(self) -> int: ...


class InvoiceFacts(Protocol):
    @property
    def id(self) -> int | None: ...
    @property
    def number(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def customer(self) -> Customer: ...
    @property
    def subscription_id(self) -> int | None: ...
    @property
    def subscription(self) -> Subscription | None: ...
    @property
    def period_start(self) -> date | None: ...
    @property
    def period_end(self) -> date | None: ...
    @property
    def currency(self) -> str: ...
    @property
    def total_minor(self) -> int: ...
    @property
    def balance_minor(self) -> int: ...
    @property
    def due_date(self) -> date: ...
    @property
    def lines(self) -> Sequence[LineFacts]: ...


@dataclass
class DraftLine:
    description: str
    quantity: int
    unit_minor: int
    amount_minor: int

    def row(self, invoice_id: int) -> dict[str, Any]:
        return {
            "invoice_id": invoice_id,
            "description": self.description,
            "quantity": self.quantity,
            "unit_minor": self.unit_minor,
            "amount_minor": self.amount_minor,
        }


@dataclass
class RenewalDraft:
    """A renewal invoice being made in a batch; it gets its ``id`` when it is written."""

    customer: Customer
    subscription: Subscription
    period_start: date
    period_end: date
    due_date: date
    currency: str
    total_minor: int
    created_at: datetime
    lines: list[DraftLine] = field(default_factory=list)
    kind: str = "renewal"
    status: str = "held"
    id: int | None = None
    number: int | None = None
    paid_minor: int = 0
    hold_reasons: str | None = None
    issued_at: datetime | None = None
    paid_at: datetime | None = None
    issued_event_id: str | None = None

    @property
    def customer_id(self) -> int:
        return self.customer.id

    @property
    def subscription_id(self) -> int:
        return self.subscription.id

    @property
    def balance_minor(self) -> int:
        return self.total_minor - self.paid_minor

    def line_rows(self) -> list[dict[str, Any]]:
        """The ``invoice_lines`` rows, once the draft is written."""
        assert self.id is not None, "the draft has not been written yet"
        return [line.row(self.id) for line in self.lines]

    def row(self) -> dict[str, Any]:
        """The ``invoices`` row, once the draft has its id."""
        assert self.id is not None, "the draft has no id yet"
        return {
            "id": self.id,
            "number": self.number,
            "kind": self.kind,
            "customer_id": self.customer_id,
            "subscription_id": self.subscription_id,
            "period_start": self.period_start,
            "period_end": self.period_end,
            "currency": self.currency,
            "total_minor": self.total_minor,
            "paid_minor": self.paid_minor,
            "status": self.status,
            "hold_reasons": self.hold_reasons,
            "due_date": self.due_date,
            "created_at": self.created_at,
            "issued_at": self.issued_at,
            "delivered_at": None,
            "paid_at": self.paid_at,
            "issued_event_id": self.issued_event_id,
        }
