"""Billing's pages in the staff UI: customers, a customer's account, held invoices,
the overdue board and the reserve report. Owner and billing roles only."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from sqlalchemy import select
from sqlalchemy.orm import Session
from wtforms.fields.choices import SelectChoice

from services.billing.accounts import (
    BillingError,
    CustomerDetails,
    NotFound,
    company_day,
    create_customer,
    get_customer,
    search_customers,
)
from services.billing.catalog import subscribe
from services.billing.changes import cancel_subscription
from services.billing.documents import build_document, render_pdf
from services.billing.forms import (
    CancellationForm,
    CustomerForm,
    GraceForm,
    PaymentForm,
    ReviewForm,
    SubscriptionForm,
    parse_amount,
)
from services.billing.grace import GraceRequest, request_grace
from services.billing.models import Customer, Grace, Invoice, Payment, Plan, TimelineEntry
from services.billing.payments import PaymentRequest, format_money, record_payment
from services.billing.policy import PREFIX, BillingPolicy
from services.billing.reports import (
    credit_balance,
    held_invoices,
    monthly_totals,
    overdue_invoices,
    reserve_report,
)
from services.billing.run import review_held_invoice
from services.billing.staff_words import count_of, name_of, say, speak_on
from shared.db import Database
from shared.web.auth import current_staff, roles_required

pages = Blueprint("pages", __name__, template_folder="templates")
speak_on(pages)


@pages.app_template_filter("money")
def money_filter(amount_minor: int, currency: str = "BRL") -> str:
    return format_money(amount_minor, currency)


@contextmanager
def _transaction() -> Iterator[Session]:
    database: Database = current_app.extensions["cortesia.database"]
    with database.transaction() as session:
        yield session


def _policy_number(name: str, default: int) -> int:
    policy = current_app.extensions.get("billing.policy")
    return int(getattr(policy, name, default))


def _staff_email() -> str:
    staff = current_staff()
    return staff.email if staff else "unknown"


@pages.get("/")
@roles_required("billing")
def index() -> Any:
    return redirect(url_for("pages.customers"))


@pages.get("/customers")
@roles_required("billing")
def customers() -> Any:
    return _customers_page(CustomerForm())


def _customers_page(form: CustomerForm, status: int = 200) -> Any:
    query = request.args.get("q", "").strip()
    with _transaction() as session:
        found = search_customers(session, query, limit=200)
        page = render_template("billing/customers.html", customers=found, query=query, form=form)
    return page, status


@pages.post("/customers")
@roles_required("billing")
def add_customer() -> Any:
    form = CustomerForm()
    if not form.validate_on_submit():
        return _customers_page(form, 400)
    try:
        with _transaction() as session:
            created = create_customer(
                session,
                CustomerDetails(
                    name=form.name.data or "",
                    email=form.email.data or "",
                    language=form.language.data or "pt-BR",
                    timezone=form.timezone.data or "America/Sao_Paulo",
                    currency=form.currency.data or "BRL",
                    managed=bool(form.managed.data),
                ),
            )
            customer_id = created.id
    except BillingError as error:
        form.name.errors = [str(error)]
        return _customers_page(form, 400)
    flash(say("said.customer_added", name=form.name.data))
    return redirect(url_for("pages.customer", customer_id=customer_id))


def _customer_page(session: Session, customer: Customer, forms: dict[str, Any]) -> str:
    invoices = (
        session.execute(
            select(Invoice)
            .where(Invoice.customer_id == customer.id)
            .order_by(Invoice.due_date.desc())
        )
        .scalars()
        .all()
    )
    payments = (
        session.execute(
            select(Payment)
            .where(Payment.customer_id == customer.id)
            .order_by(Payment.received_at.desc())
        )
        .scalars()
        .all()
    )
    timeline = (
        session.execute(
            select(TimelineEntry)
            .where(TimelineEntry.customer_id == customer.id)
            .order_by(TimelineEntry.at.desc(), TimelineEntry.id.desc())
        )
        .scalars()
        .all()
    )
    grace = (
        session.execute(
            select(Grace).where(Grace.customer_id == customer.id).order_by(Grace.granted_at)
        )
        .scalars()
        .first()
    )
    return render_template(
        "billing/customer.html",
        customer=customer,
        invoices=invoices,
        payments=payments,
        timeline=timeline,
        grace=grace,
        credit=credit_balance(session, customer.id),
        today=company_day(),
        **forms,
    )


def _forms_for(session: Session, customer: Customer) -> dict[str, Any]:
    """The account page's forms, their choices filled from the customer's account."""
    forms: dict[str, Any] = {
        "subscription_form": SubscriptionForm(),
        "payment_form": PaymentForm(),
        "grace_form": GraceForm(),
        "cancellation_form": CancellationForm(),
    }
    subscriptions = [
        SelectChoice(str(s.id), f"#{s.id} {s.plan.name} ({name_of('status', s.status)})")
        for s in customer.subscriptions
    ]
    open_invoices = session.execute(
        select(Invoice)
        .where(Invoice.customer_id == customer.id, Invoice.status == "issued")
        .order_by(Invoice.due_date)
    ).scalars()
    forms["payment_form"].invoice_id.choices = [
        SelectChoice("0", say("payments.oldest_first")),
        *(
            SelectChoice(
                str(i.id), say("payments.open_invoice", number=i.number or i.id, due=i.due_date)
            )
            for i in open_invoices
        ),
    ]
    plans = session.execute(
        select(Plan)
        .where(Plan.active.is_(True), Plan.currency == customer.currency)
        .order_by(Plan.name)
    ).scalars()
    forms["subscription_form"].plan_id.choices = [
        SelectChoice(
            str(plan.id),
            f"{plan.name} ({format_money(plan.price_minor, plan.currency)} "
            f"{name_of('cycle', plan.cycle)})",
        )
        for plan in plans
    ]
    forms["grace_form"].subscription_id.choices = subscriptions
    forms["cancellation_form"].subscription_id.choices = subscriptions
    return forms


@pages.get("/customers/<int:customer_id>")
@roles_required("billing")
def customer(customer_id: int) -> Any:
    with _transaction() as session:
        account = get_customer(session, customer_id)
        return _customer_page(session, account, _forms_for(session, account))


def _submitted(customer_id: int, name: str) -> tuple[dict[str, Any], Any]:
    """The forms for this customer, and the one that was posted, validated."""
    with _transaction() as session:
        forms = _forms_for(session, get_customer(session, customer_id))
    form = forms[name]
    form.validate()
    return forms, form


def _refuse(customer_id: int, forms: dict[str, Any]) -> Any:
    """Show the account again with the posted form's errors."""
    with _transaction() as session:
        return _customer_page(session, get_customer(session, customer_id), forms), 400


@pages.post("/customers/<int:customer_id>/subscriptions")
@roles_required("billing")
def add_subscription(customer_id: int) -> Any:
    forms, form = _submitted(customer_id, "subscription_form")
    if form.errors:
        return _refuse(customer_id, forms)
    try:
        with _transaction() as session:
            subscribe(session, customer_id, form.plan_id.data, form.start.data)
    except BillingError as error:
        form.plan_id.errors = [str(error)]
        return _refuse(customer_id, forms)
    flash(say("said.subscription_started"))
    return redirect(url_for("pages.customer", customer_id=customer_id))


@pages.post("/customers/<int:customer_id>/payments")
@roles_required("billing")
def add_payment(customer_id: int) -> Any:
    forms, form = _submitted(customer_id, "payment_form")
    if form.errors:
        return _refuse(customer_id, forms)
    try:
        with _transaction() as session:
            account = get_customer(session, customer_id)
            outcome = record_payment(
                session,
                PaymentRequest(
                    amount_minor=parse_amount(form.amount.data),
                    currency=account.currency,
                    method=form.method.data,
                    invoice_id=form.invoice_id.data or None,
                    customer_id=None if form.invoice_id.data else customer_id,
                    recorded_by=_staff_email(),
                ),
                reserve_percent=_policy_number("reserve_percent", 10),
            )
            paid = format_money(outcome.payment.amount_minor, account.currency)
            reserved = format_money(outcome.reserve_minor, account.currency)
    except BillingError as error:
        form.amount.errors = [str(error)]
        return _refuse(customer_id, forms)
    flash(say("said.payment_recorded", paid=paid, reserved=reserved))
    return redirect(url_for("pages.customer", customer_id=customer_id))


@pages.post("/customers/<int:customer_id>/graces")
@roles_required("billing")
def add_grace(customer_id: int) -> Any:
    forms, form = _submitted(customer_id, "grace_form")
    if form.errors:
        return _refuse(customer_id, forms)
    staff = current_staff()
    try:
        with _transaction() as session:
            decision = request_grace(
                session,
                GraceRequest(
                    subscription_id=form.subscription_id.data,
                    pay_by=form.pay_by.data,
                    requested_by=_staff_email(),
                    by_owner=bool(staff and staff.role == "owner"),
                    owner_override=form.owner_override.data,
                    note=form.note.data or None,
                ),
                grace_max_days=_policy_number("grace_max_days", 15),
            )
    except BillingError as error:
        form.pay_by.errors = [str(error)]
        return _refuse(customer_id, forms)
    # The decision's own reason is the grace rules' to word; only its verdict is ours.
    verdict = "said.grace_granted" if decision.granted else "said.grace_refused"
    flash(say(verdict, why=decision.message))
    return redirect(url_for("pages.customer", customer_id=customer_id))


@pages.post("/customers/<int:customer_id>/cancellations")
@roles_required("billing")
def add_cancellation(customer_id: int) -> Any:
    forms, form = _submitted(customer_id, "cancellation_form")
    if form.errors:
        return _refuse(customer_id, forms)
    try:
        with _transaction() as session:
            cancel_subscription(
                session,
                form.subscription_id.data,
                reason=form.reason.data,
                requested_by=_staff_email(),
                at_period_end=form.when.data == "period_end",
            )
    except BillingError as error:
        form.reason.errors = [str(error)]
        return _refuse(customer_id, forms)
    flash(say("said.cancellation_recorded"))
    return redirect(url_for("pages.customer", customer_id=customer_id))


def _invoice(session: Session, invoice_id: int) -> Invoice:
    invoice = session.get(Invoice, invoice_id)
    if invoice is None:
        abort(404, description=say("said.no_invoice", id=invoice_id))
    return invoice


@pages.get("/invoices/<int:invoice_id>")
@roles_required("billing")
def invoice_document(invoice_id: int) -> Any:
    """The invoice as the customer sees it, in the customer's language."""
    with _transaction() as session:
        document = build_document(_invoice(session, invoice_id))
    pdf_url = url_for("pages.invoice_pdf", invoice_id=invoice_id)
    return render_template("billing/invoice.html", doc=document, pdf_url=pdf_url)


@pages.get("/invoices/<int:invoice_id>.pdf")
@roles_required("billing")
def invoice_pdf(invoice_id: int) -> Any:
    with _transaction() as session:
        invoice = _invoice(session, invoice_id)
        document = build_document(invoice)
        name = f"invoice-{invoice.number or 'draft-' + str(invoice.id)}.pdf"
    return Response(
        render_pdf(document),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{name}"'},
    )


@pages.get("/invoices/held")
@roles_required("billing")
def held() -> Any:
    with _transaction() as session:
        invoices = held_invoices(session)
        reasons = {i.id: json.loads(i.hold_reasons or "[]") for i in invoices}
        return render_template(
            "billing/held.html", invoices=invoices, reasons=reasons, review=ReviewForm()
        )


@pages.post("/invoices/<int:invoice_id>/review")
@roles_required("billing")
def review(invoice_id: int) -> Any:
    """Check a held invoice again once its cause is fixed, or void it."""
    form = ReviewForm()
    if not form.validate_on_submit():
        abort(400, description=say("said.review_how"))
    try:
        with _transaction() as session:
            invoice = review_held_invoice(
                session,
                invoice_id,
                void=form.action.data == "void",
                reviewer=_staff_email(),
                policy=current_app.extensions.get("billing.policy"),
            )
            outcome = invoice.status
    except NotFound as error:
        abort(404, description=str(error))
    except BillingError as error:
        abort(409, description=str(error))
    messages = {"issued": "said.issued", "held": "said.still_held", "void": "said.voided"}
    if outcome in messages:
        flash(say(messages[outcome]))
    else:
        flash(say("said.invoice_is", status=name_of("status", outcome)))
    return redirect(url_for("pages.held"))


@pages.get("/overdue")
@roles_required("billing")
def overdue() -> Any:
    today = company_day()
    with _transaction() as session:
        return render_template(
            "billing/overdue.html", invoices=overdue_invoices(session, today), today=today
        )


@pages.get("/reserve")
@roles_required("billing")
def reserve() -> Any:
    as_of = _date_argument("as_of") or company_day()
    with _transaction() as session:
        report = reserve_report(session, as_of)
        charts = {
            row["currency"]: monthly_totals(session, row["currency"], as_of)
            for row in report["currencies"]
        }
    return render_template("billing/reserve.html", report=report, charts=charts, as_of=as_of)


def _days(values: tuple[int, ...], words: str) -> str:
    """``1, 3, 7 days before due`` (``words`` says the unit), or none."""
    if not values:
        return say("settings.none")
    return say(words, days=", ".join(str(value) for value in values))


@pages.get("/settings")
@roles_required("billing")
def settings() -> Any:
    """The billing policy in force, and the variable that changes each number."""
    policy: BillingPolicy = current_app.extensions.get("billing.policy") or BillingPolicy()
    late_fee = (
        say("settings.share_of_invoice", percent=policy.late_fee_percent)
        if policy.late_fee_percent is not None
        else format_money(policy.late_fee_minor, "BRL")
        if policy.late_fee_minor is not None
        else say("settings.late_fee_off")
    )
    termination = (
        say("settings.terminate_after", days=policy.terminate_after_days)
        if policy.terminate_after_days
        else say("settings.termination_off")
    )
    rows = [
        (
            say("settings.renewal"),
            say("settings.days_before_due", days=policy.renewal_lead_days),
            "RENEWAL_LEAD_DAYS",
        ),
        (
            say("settings.reminders"),
            _days(policy.reminder_days, "settings.days_before_due"),
            "REMINDER_DAYS",
        ),
        (
            say("settings.overdue_notices"),
            _days(policy.overdue_notice_days, "settings.days_after_due"),
            "OVERDUE_NOTICE_DAYS",
        ),
        (
            say("settings.suspension"),
            say("settings.suspend_after", days=policy.suspend_after_days),
            "SUSPEND_AFTER_DAYS",
        ),
        (
            say("settings.warning"),
            count_of("settings.business_days", policy.warning_business_days),
            "WARNING_BUSINESS_DAYS",
        ),
        (say("settings.late_fee"), late_fee, "LATE_FEE_PERCENT / LATE_FEE_MINOR"),
        (say("settings.termination"), termination, "TERMINATE_AFTER_DAYS"),
        (
            say("settings.reserve"),
            say("settings.share_of_payment", percent=policy.reserve_percent),
            "RESERVE_PERCENT",
        ),
        (
            say("settings.grace"),
            say("settings.grace_days", days=policy.grace_max_days),
            "GRACE_MAX_DAYS",
        ),
        (
            say("settings.delivery_alert"),
            say("settings.after_hours", hours=policy.delivery_alert_hours),
            "DELIVERY_ALERT_HOURS",
        ),
    ]
    return render_template("billing/settings.html", rows=rows, prefix=PREFIX)


def _date_argument(name: str) -> date | None:
    raw = request.args.get(name)
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort(400, description=say("said.bad_date", name=name))
    return None  # pragma: no cover - abort raised
