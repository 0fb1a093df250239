"""Invoices as documents for the customer: HTML and PDF, in the customer's language.

Labels are kept here rather than in the staff UI's translations because the
document follows the customer's language, whatever language staff work in.
Numbers, money and dates are formatted by Babel for that locale.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from functools import lru_cache
from pathlib import Path

from babel.dates import format_date
from babel.numbers import format_currency
from fpdf import FPDF

from services.billing.models import Invoice

LABELS: dict[str, dict[str, str]] = {
    "pt-BR": {
        "invoice": "Fatura",
        "number": "Número",
        "draft": "Em revisão (não emitida)",
        "issued": "Emitida em",
        "due": "Vencimento",
        "period": "Período",
        "bill_to": "Cliente",
        "description": "Descrição",
        "quantity": "Qtd.",
        "unit": "Valor unitário",
        "amount": "Valor",
        "total": "Total",
        "paid": "Pago",
        "balance": "Saldo a pagar",
        "status_paid": "Paga. Obrigado!",
        "to": "a",
    },
    "es": {
        "invoice": "Factura",
        "number": "Número",
        "draft": "En revisión (no emitida)",
        "issued": "Emitida el",
        "due": "Vencimiento",
        "period": "Periodo",
        "bill_to": "Cliente",
        "description": "Descripción",
        "quantity": "Cant.",
        "unit": "Precio unitario",
        "amount": "Importe",
        "total": "Total",
        "paid": "Pagado",
        "balance": "Saldo pendiente",
        "status_paid": "Pagada. ¡Gracias!",
        "to": "a",
    },
    "en": {
        "invoice": "Invoice",
        "number": "Number",
        "draft": "Under review (not issued)",
        "issued": "Issued on",
        "due": "Due date",
        "period": "Period",
        "bill_to": "Bill to",
        "description": "Description",
        "quantity": "Qty",
        "unit": "Unit price",
        "amount": "Amount",
        "total": "Total",
        "paid": "Paid",
        "balance": "Balance due",
        "status_paid": "Paid. Thank you!",
        "to": "to",
    },
}
BABEL_LOCALES = {"pt-BR": "pt_BR", "es": "es", "en": "en"}
UNICODE_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
UNICODE_BOLD_FONT = UNICODE_FONT.with_name("DejaVuSans-Bold.ttf")


@lru_cache(maxsize=4096)
def period_description(plan_name: str, start: date, end: date, language: str) -> str:
    """``Hosting Basic, 2 de dez. de 2026 a 2 de jan. de 2027``: a renewal line, as the
    customer reads it (lines are stored as written, so they are written in their language)."""
    language = language if language in LABELS else "en"
    locale = BABEL_LOCALES[language]
    first, last = (format_date(day, "medium", locale=locale) for day in (start, end))
    return f"{plan_name}, {first} {LABELS[language]['to']} {last}"


def company_name() -> str:
    return os.environ.get("CORTESIA_COMPANY_NAME", "Cortesia Hosting")


@dataclass(frozen=True)
class DocumentLine:
    description: str
    quantity: str
    unit: str
    amount: str


@dataclass(frozen=True)
class InvoiceDocument:
    """Every text on the invoice, already in the customer's language."""

    labels: dict[str, str]
    language: str
    company: str
    title: str
    customer_name: str
    customer_email: str
    issued: str | None
    due: str
    period: str | None
    lines: list[DocumentLine]
    total: str
    paid: str
    balance: str
    is_paid: bool


def build_document(invoice: Invoice) -> InvoiceDocument:
    language = invoice.customer.language if invoice.customer.language in LABELS else "en"
    labels = LABELS[language]
    locale = BABEL_LOCALES[language]

    def money(minor: int) -> str:
        return str(format_currency(Decimal(minor) / 100, invoice.currency, locale=locale))

    def day(value: object) -> str:
        return str(format_date(value, "long", locale=locale))  # type: ignore[arg-type]

    title = (
        f"{labels['invoice']} {labels['number'].lower()} {invoice.number}"
        if invoice.number
        else f"{labels['invoice']}: {labels['draft']}"
    )
    period = None
    if invoice.period_start and invoice.period_end:
        period = f"{day(invoice.period_start)} {labels['to']} {day(invoice.period_end)}"
    return InvoiceDocument(
        labels=labels,
        language=language,
        company=company_name(),
        title=title,
        customer_name=invoice.customer.name,
        customer_email=invoice.customer.email,
        issued=day(invoice.issued_at.date()) if invoice.issued_at else None,
        due=day(invoice.due_date),
        period=period,
        lines=[
            DocumentLine(
                line.description,
                str(line.quantity),
                money(line.unit_minor),
                money(line.amount_minor),
            )
            for line in invoice.lines
        ],
        total=money(invoice.total_minor),
        paid=money(invoice.paid_minor),
        balance=money(invoice.balance_minor),
        is_paid=invoice.status == "paid",
    )


def _latin1(document: InvoiceDocument) -> InvoiceDocument:
    """The built-in PDF fonts know Latin-1 only: replace what they cannot draw."""

    def fit(text: str) -> str:
        return text.encode("latin-1", "replace").decode("latin-1")

    return replace(
        document,
        title=fit(document.title),
        customer_name=fit(document.customer_name),
        lines=[replace(line, description=fit(line.description)) for line in document.lines],
    )


def render_pdf(document: InvoiceDocument) -> bytes:
    pdf = FPDF(format="A4")
    pdf.set_title(document.title)
    pdf.set_author(document.company)
    pdf.add_page()
    if UNICODE_FONT.exists() and UNICODE_BOLD_FONT.exists():
        pdf.add_font("body", fname=str(UNICODE_FONT))
        pdf.add_font("body", style="B", fname=str(UNICODE_BOLD_FONT))  # table headings
        font = "body"
    else:  # pragma: no cover - scripts and the image install fonts-dejavu-core
        font = "helvetica"
        document = _latin1(document)
    labels = document.labels
    pdf.set_font(font, size=18)
    pdf.cell(0, 10, document.company, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, size=14)
    pdf.cell(0, 9, document.title, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(font, size=10)
    for label, value in (
        (labels["bill_to"], f"{document.customer_name} <{document.customer_email}>"),
        (labels["issued"], document.issued),
        (labels["due"], document.due),
        (labels["period"], document.period),
    ):
        if value:
            pdf.cell(0, 6, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    with pdf.table(
        col_widths=(90, 20, 40, 40), text_align=("LEFT", "RIGHT", "RIGHT", "RIGHT")
    ) as table:
        table.row([labels["description"], labels["quantity"], labels["unit"], labels["amount"]])
        for line in document.lines:
            table.row([line.description, line.quantity, line.unit, line.amount])
    pdf.ln(4)
    for label, value in (
        (labels["total"], document.total),
        (labels["paid"], document.paid),
        (labels["balance"], document.balance),
    ):
        pdf.cell(150, 6, label, align="R")
        pdf.cell(40, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    if document.is_paid:
        pdf.ln(4)
        pdf.cell(0, 6, labels["status_paid"], new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
