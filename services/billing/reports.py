"""What the owner reads: the reserve report (P-RESERVE), monthly series and the overdue board."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from services.billing.catalog import add_months
from services.billing.models import CreditEntry, Invoice, Payment, ReserveEntry


def _sums_by_currency(
    session: Session, amount: Any, currency: Any, *conditions: Any
) -> dict[str, int]:
    statement = select(currency, func.coalesce(func.sum(amount), 0)).group_by(currency)
    if conditions:
        statement = statement.where(*conditions)
    return {row[0]: int(row[1]) for row in session.execute(statement)}


def reserve_report(session: Session, as_of: date) -> dict[str, Any]:
    """P-RESERVE: revenue, the reserve's balance, and what customers still owe, per currency."""
    balance = Invoice.total_minor - Invoice.paid_minor
    columns: dict[str, dict[str, int]] = {
        "revenue_minor": _sums_by_currency(session, Payment.amount_minor, Payment.currency),
        "reserve_minor": _sums_by_currency(
            session, ReserveEntry.amount_minor, ReserveEntry.currency
        ),
        "outstanding_minor": _sums_by_currency(
            session, balance, Invoice.currency, Invoice.status == "issued"
        ),
        "overdue_minor": _sums_by_currency(
            session, balance, Invoice.currency, Invoice.status == "issued", Invoice.due_date < as_of
        ),
        "credit_minor": _sums_by_currency(session, CreditEntry.amount_minor, CreditEntry.currency),
    }
    currencies = sorted({code for sums in columns.values() for code in sums})
    return {
        "as_of": as_of,
        "currencies": [
            {"currency": code, **{name: sums.get(code, 0) for name, sums in columns.items()}}
            for code in currencies
        ],
    }


@dataclass(frozen=True)
class MonthTotals:
    month: date
    """The first day of the month."""
    revenue_minor: int
    reserve_minor: int


def monthly_totals(
    session: Session, currency: str, as_of: date, months: int = 12
) -> list[MonthTotals]:
    """Revenue and reserve booked per month, for the ``months`` months ending with ``as_of``'s."""
    first = add_months(as_of.replace(day=1), -(months - 1))
    starts = [add_months(first, n) for n in range(months)]

    def per_month(amount: Any, currency_column: Any, when: Any) -> dict[date, int]:
        totals = dict.fromkeys(starts, 0)
        rows = session.execute(
            select(when, amount).where(currency_column == currency, when >= first)
        )
        for moment, value in rows:
            month = moment.date().replace(day=1) if hasattr(moment, "date") else moment
            if month in totals:
                totals[month] += int(value)
        return totals

    revenue = per_month(Payment.amount_minor, Payment.currency, Payment.received_at)
    reserve = per_month(ReserveEntry.amount_minor, ReserveEntry.currency, ReserveEntry.booked_at)
    return [MonthTotals(month, revenue[month], reserve[month]) for month in starts]


def overdue_invoices(session: Session, as_of: date) -> list[Invoice]:
    """Issued invoices past their due date, the longest overdue first."""
    return list(
        session.execute(
            select(Invoice)
            .options(joinedload(Invoice.customer), joinedload(Invoice.subscription))
            .where(Invoice.status == "issued", Invoice.due_date < as_of)
            .order_by(Invoice.due_date, Invoice.id)
        ).scalars()
    )


def held_invoices(session: Session) -> list[Invoice]:
    return list(
        session.execute(
            select(Invoice)
            .options(joinedload(Invoice.customer))
            .where(Invoice.status == "held")
            .order_by(Invoice.created_at)
        ).scalars()
    )


def credit_balance(session: Session, customer_id: int) -> int:
    total = session.execute(
        select(func.coalesce(func.sum(CreditEntry.amount_minor), 0)).where(
            CreditEntry.customer_id == customer_id
        )
    ).scalar_one()
    return int(total)
