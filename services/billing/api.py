"""Billing's REST API under ``/api/``, described by OpenAPI at ``/api/openapi.json``.

Every resource is for the owner and billing roles only; a browser session
sends its CSRF token in the ``X-CSRFToken`` header on writes. The payment
gateway's webhook is the exception: it has no session and is authenticated by
its signature (see ``services.billing.webhook``).

Money travels as integer minor units (``"amount_minor": 1050`` is 10.50) beside
its currency code. Errors are JSON ``{"error", "message"}`` (and ``"errors"``
per field for invalid input): 404 for an unknown customer, plan, subscription
or invoice, 422 for input or a request billing cannot accept.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, jsonify, request
from flask.views import MethodView
from flask_smorest import Api, Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.billing import webhook
from services.billing.accounts import (
    CURRENCIES,
    BillingError,
    CustomerDetails,
    NotFound,
    add_contact,
    company_day,
    create_customer,
    get_customer,
    remove_contact,
    search_customers,
    update_customer,
)
from services.billing.catalog import create_plan, get_subscription, subscribe
from services.billing.changes import cancel_subscription, change_plan
from services.billing.grace import DEFAULT_GRACE_MAX_DAYS, GraceRequest, request_grace
from services.billing.models import (
    CYCLES,
    INVOICE_STATUSES,
    LANGUAGES,
    Invoice,
    Plan,
)
from services.billing.payments import DEFAULT_RESERVE_PERCENT, PaymentRequest, record_payment
from services.billing.reports import reserve_report
from shared.db import Database
from shared.web import current_staff
from shared.web.api import Refusals, init_service_api, json_errors, staff_blueprint

MAX_MINOR = 10**13
"""Far above any real invoice; keeps amounts inside a 64-bit column."""
INVALID_MINOR = "Must be a whole number of minor units (e.g. 1050 for 10.50)."
POLICY_EXTENSION = "billing.policy"
WEBHOOK_SECRET_CONFIG = "BILLING_WEBHOOK_SECRET"


# -- the policy numbers this API needs -------------------------------------------------


@dataclass(frozen=True)
class PolicyNumbers:
    reserve_percent: int = DEFAULT_RESERVE_PERCENT
    grace_max_days: int = DEFAULT_GRACE_MAX_DAYS


def _policy() -> PolicyNumbers:
    """The billing policy set on the app (any object with these attributes), or the defaults."""
    policy = current_app.extensions.get(POLICY_EXTENSION)
    return PolicyNumbers(
        reserve_percent=getattr(policy, "reserve_percent", DEFAULT_RESERVE_PERCENT),
        grace_max_days=getattr(policy, "grace_max_days", DEFAULT_GRACE_MAX_DAYS),
    )


@contextmanager
def _transaction() -> Iterator[Session]:
    database: Database = current_app.extensions["cortesia.database"]
    with database.transaction() as session:
        yield session


def _staff_email() -> str:
    staff = current_staff()
    assert staff is not None, "the blueprint guard lets only signed-in staff through"
    return staff.email


# -- schemas ---------------------------------------------------------------------------


class MinorUnits(fields.Integer):
    """An amount in minor units: a JSON integer, never a float, text or boolean."""

    def __init__(self, *, minimum: int = 0, **kwargs: Any) -> None:
        super().__init__(
            strict=True,
            validate=validate.Range(min=minimum, max=MAX_MINOR),
            error_messages={"invalid": INVALID_MINOR},
            **kwargs,
        )

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return int(super()._deserialize(value, attr, data, **kwargs))


def _currency(**kwargs: Any) -> fields.String:
    return fields.String(validate=validate.OneOf(CURRENCIES), **kwargs)


def _id(*, strict: bool = True, **kwargs: Any) -> fields.Integer:
    """An id: a JSON integer in a body; query strings carry it as text, so not strict there."""
    return fields.Integer(strict=strict, validate=validate.Range(min=1), **kwargs)


class ErrorOut(Schema):
    error = fields.String()
    message = fields.String()
    errors = fields.Dict()


class ContactOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String(allow_none=True)
    phone = fields.String(allow_none=True)
    receives_invoices = fields.Boolean()


class CustomerIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(required=True)
    language = fields.String(load_default="pt-BR", validate=validate.OneOf(LANGUAGES))
    timezone = fields.String(load_default="America/Sao_Paulo")
    currency = _currency(load_default="BRL")
    managed = fields.Boolean(load_default=False)


class CustomerPatch(Schema):
    name = fields.String(validate=validate.Length(min=1, max=200))
    email = fields.Email()
    language = fields.String(validate=validate.OneOf(LANGUAGES))
    timezone = fields.String()
    currency = _currency()
    managed = fields.Boolean()


class CustomerOut(Schema):
    id = fields.Integer()
    name = fields.String()
    email = fields.String()
    language = fields.String()
    timezone = fields.String()
    currency = fields.String()
    managed = fields.Boolean()
    created_at = fields.DateTime()
    contacts = fields.List(fields.Nested(ContactOut))


class CustomerQuery(Schema):
    q = fields.String(load_default=None, metadata={"description": "part of the name or email"})
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500))


class PlanIn(Schema):
    code = fields.String(required=True, validate=validate.Length(min=1, max=40))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    cycle = fields.String(required=True, validate=validate.OneOf(tuple(CYCLES)))
    price_minor = MinorUnits(required=True)
    currency = _currency(load_default="BRL")


class PlanOut(Schema):
    id = fields.Integer()
    code = fields.String()
    name = fields.String()
    cycle = fields.String()
    price_minor = fields.Integer()
    currency = fields.String()
    active = fields.Boolean()


class SubscriptionIn(Schema):
    customer_id = _id(required=True)
    plan_id = _id(required=True)
    start = fields.Date(load_default=None, metadata={"description": "default: today"})


class SubscriptionOut(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    plan_id = fields.Integer()
    plan_name = fields.Function(lambda subscription: subscription.plan.name)
    status = fields.String()
    suspension_reason = fields.String(allow_none=True)
    current_period_start = fields.Date()
    current_period_end = fields.Date()
    cancel_at_period_end = fields.Boolean()
    cancellation_reason = fields.String(allow_none=True)
    cancelled_at = fields.DateTime(allow_none=True)


class PlanChangeIn(Schema):
    plan_id = _id(required=True)


class PlanChangeOut(Schema):
    direction = fields.String()
    amount_minor = fields.Integer()
    remaining_days = fields.Integer()
    period_days = fields.Integer()
    invoice_id = fields.Integer(allow_none=True)
    credit_entry_id = fields.Integer(allow_none=True)
    subscription = fields.Nested(SubscriptionOut)


class CancellationIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    at_period_end = fields.Boolean(load_default=True)


class CancellationOut(Schema):
    effective_on = fields.Date()
    at_period_end = fields.Boolean()
    voided_invoice_ids = fields.List(fields.Integer())
    subscription = fields.Nested(SubscriptionOut)


class InvoiceLineOut(Schema):
    description = fields.String()
    quantity = fields.Integer()
    unit_minor = fields.Integer()
    amount_minor = fields.Integer()


class InvoiceOut(Schema):
    id = fields.Integer()
    number = fields.Integer(allow_none=True)
    kind = fields.String()
    customer_id = fields.Integer()
    subscription_id = fields.Integer(allow_none=True)
    period_start = fields.Date(allow_none=True)
    period_end = fields.Date(allow_none=True)
    currency = fields.String()
    total_minor = fields.Integer()
    paid_minor = fields.Integer()
    balance_minor = fields.Integer()
    status = fields.String()
    hold_reasons = fields.String(allow_none=True)
    due_date = fields.Date()
    issued_at = fields.DateTime(allow_none=True)
    paid_at = fields.DateTime(allow_none=True)
    lines = fields.List(fields.Nested(InvoiceLineOut))


class InvoiceQuery(Schema):
    customer_id = _id(strict=False, load_default=None)
    status = fields.String(load_default=None, validate=validate.OneOf(INVOICE_STATUSES))
    limit = fields.Integer(load_default=100, validate=validate.Range(min=1, max=1000))


class PaymentIn(Schema):
    invoice_id = _id(load_default=None)
    customer_id = _id(load_default=None)
    amount_minor = MinorUnits(minimum=1, required=True)
    currency = _currency(required=True)
    method = fields.String(
        load_default="manual",
        validate=validate.Length(min=1, max=40),
        metadata={"description": "how it was paid: pix, boleto, transfer, cash..."},
    )

    @validates_schema
    def _names_a_payer(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("invoice_id") is None and data.get("customer_id") is None:
            raise ValidationError("Name the invoice_id or the customer_id paid.")


class PaymentOut(Schema):
    id = fields.Integer()
    customer_id = fields.Integer()
    invoice_id = fields.Integer(allow_none=True)
    amount_minor = fields.Integer()
    currency = fields.String()
    method = fields.String()
    recorded_by = fields.String(allow_none=True)
    received_at = fields.DateTime()
    applied_minor = fields.Integer()
    credit_minor = fields.Integer()
    reserve_minor = fields.Integer()
    paid_invoice_ids = fields.List(fields.Integer())
    reactivated_subscription_ids = fields.List(fields.Integer())


class GraceIn(Schema):
    pay_by = fields.Date(required=True, metadata={"description": "the date the customer chose"})
    owner_override = fields.Boolean(load_default=False)
    note = fields.String(load_default=None, validate=validate.Length(max=2000))


class GraceOut(Schema):
    granted = fields.Boolean()
    message = fields.String()
    grace_id = fields.Integer(allow_none=True)
    pay_by = fields.Date(allow_none=True)
    first_grace_on = fields.Date(allow_none=True)
    moved_invoice_ids = fields.List(fields.Integer())


class ReserveLine(Schema):
    currency = fields.String()
    revenue_minor = fields.Integer(metadata={"description": "all payments received"})
    reserve_minor = fields.Integer(metadata={"description": "the reserve ledger's balance"})
    outstanding_minor = fields.Integer(metadata={"description": "open balance of issued invoices"})
    overdue_minor = fields.Integer(metadata={"description": "of which past due"})
    credit_minor = fields.Integer(metadata={"description": "customers' unapplied credit"})


class ReserveReport(Schema):
    as_of = fields.Date()
    currencies = fields.List(fields.Nested(ReserveLine))


# -- blueprints ------------------------------------------------------------------------


def _staff_blueprint(name: str, url_prefix: str, description: str) -> Blueprint:
    """A resource for the owner and billing roles, answering errors as JSON."""
    return staff_blueprint(
        name, __name__, url_prefix, description, roles=("billing",), refusals=REFUSALS
    )


REFUSALS: Refusals = {NotFound: 404, BillingError: 422}
"""Flask answers with the handler of the most specific class: a NotFound is a BillingError."""


customers = _staff_blueprint("customers", "/api/customers", "Billing customers")
plans = _staff_blueprint("plans", "/api/plans", "Plans and their prices")
subscriptions = _staff_blueprint(
    "subscriptions", "/api/subscriptions", "Subscriptions, plan changes, cancellations, graces"
)
invoices = _staff_blueprint("invoices", "/api/invoices", "Invoices")
payments = _staff_blueprint("payments", "/api/payments", "Payments recorded by staff")
reports = _staff_blueprint("reports", "/api/reports", "Reports")
webhooks = Blueprint(
    "webhooks",
    __name__,
    url_prefix="/api/webhooks",
    description="Signed notifications from the payment gateway: no session, no CSRF token.",
)
json_errors(webhooks, REFUSALS)


# -- customers -------------------------------------------------------------------------


@customers.route("")
class Customers(MethodView):
    @customers.arguments(CustomerQuery, location="query")
    @customers.response(200, CustomerOut(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        with _transaction() as session:
            found = search_customers(session, query["q"], query["limit"])
            return jsonify(CustomerOut(many=True).dump(found))

    @customers.arguments(CustomerIn)
    @customers.response(201, CustomerOut)
    def post(self, data: dict[str, Any]) -> Any:
        with _transaction() as session:
            customer = create_customer(session, CustomerDetails(**data))
            return jsonify(CustomerOut().dump(customer)), 201


@customers.route("/<int:customer_id>")
class CustomerResource(MethodView):
    @customers.response(200, CustomerOut)
    def get(self, customer_id: int) -> Any:
        with _transaction() as session:
            return jsonify(CustomerOut().dump(get_customer(session, customer_id)))

    @customers.arguments(CustomerPatch)
    @customers.response(200, CustomerOut)
    def patch(self, changes: dict[str, Any], customer_id: int) -> Any:
        with _transaction() as session:
            current = get_customer(session, customer_id)
            details = CustomerDetails(
                name=changes.get("name", current.name),
                email=changes.get("email", current.email),
                language=changes.get("language", current.language),
                timezone=changes.get("timezone", current.timezone),
                currency=changes.get("currency", current.currency),
                managed=changes.get("managed", current.managed),
            )
            return jsonify(CustomerOut().dump(update_customer(session, customer_id, details)))


class ContactIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    email = fields.Email(load_default=None, allow_none=True)
    phone = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=40))
    receives_invoices = fields.Boolean(load_default=True)


@customers.route("/<int:customer_id>/contacts")
class CustomerContacts(MethodView):
    @customers.arguments(ContactIn)
    @customers.response(201, ContactOut)
    def post(self, data: dict[str, Any], customer_id: int) -> Any:
        with _transaction() as session:
            return jsonify(ContactOut().dump(add_contact(session, customer_id, **data))), 201


@customers.route("/<int:customer_id>/contacts/<int:contact_id>")
class CustomerContact(MethodView):
    @customers.response(204)
    def delete(self, customer_id: int, contact_id: int) -> Any:
        with _transaction() as session:
            remove_contact(session, customer_id, contact_id)
        return "", 204


# -- plans -----------------------------------------------------------------------------


@plans.route("")
class Plans(MethodView):
    @plans.response(200, PlanOut(many=True))
    def get(self) -> Any:
        with _transaction() as session:
            found = session.execute(select(Plan).order_by(Plan.id)).scalars().all()
            return jsonify(PlanOut(many=True).dump(found))

    @plans.arguments(PlanIn)
    @plans.response(201, PlanOut)
    def post(self, data: dict[str, Any]) -> Any:
        with _transaction() as session:
            plan = create_plan(session, **data)
            return jsonify(PlanOut().dump(plan)), 201


# -- subscriptions ---------------------------------------------------------------------


@subscriptions.route("")
class Subscriptions(MethodView):
    @subscriptions.arguments(SubscriptionIn)
    @subscriptions.response(201, SubscriptionOut)
    def post(self, data: dict[str, Any]) -> Any:
        start = data["start"] or company_day()
        with _transaction() as session:
            subscription = subscribe(session, data["customer_id"], data["plan_id"], start)
            return jsonify(SubscriptionOut().dump(subscription)), 201


@subscriptions.route("/<int:subscription_id>")
class SubscriptionResource(MethodView):
    @subscriptions.response(200, SubscriptionOut)
    def get(self, subscription_id: int) -> Any:
        with _transaction() as session:
            return jsonify(SubscriptionOut().dump(get_subscription(session, subscription_id)))


@subscriptions.route("/<int:subscription_id>/plan-change", methods=["POST"])
@subscriptions.arguments(PlanChangeIn)
@subscriptions.response(200, PlanChangeOut)
def post_plan_change(data: dict[str, Any], subscription_id: int) -> Any:
    """Move to another plan of the same cycle, prorated by day (P-RIGHT-SIZE)."""
    with _transaction() as session:
        change = change_plan(session, subscription_id, data["plan_id"], requested_by=_staff_email())
        return jsonify(
            PlanChangeOut().dump(
                {
                    "direction": change.direction,
                    "amount_minor": change.amount_minor,
                    "remaining_days": change.remaining_days,
                    "period_days": change.period_days,
                    "invoice_id": change.invoice.id if change.invoice else None,
                    "credit_entry_id": change.credit.id if change.credit else None,
                    "subscription": get_subscription(session, subscription_id),
                }
            )
        )


@subscriptions.route("/<int:subscription_id>/cancellation", methods=["POST"])
@subscriptions.arguments(CancellationIn)
@subscriptions.response(200, CancellationOut)
def post_cancellation(data: dict[str, Any], subscription_id: int) -> Any:
    """Cancel at the end of the period (default) or at once, with the customer's reason."""
    with _transaction() as session:
        cancellation = cancel_subscription(
            session,
            subscription_id,
            data["reason"],
            requested_by=_staff_email(),
            at_period_end=data["at_period_end"],
        )
        return jsonify(
            CancellationOut().dump(
                {
                    "effective_on": cancellation.effective_on,
                    "at_period_end": cancellation.at_period_end,
                    "voided_invoice_ids": list(cancellation.voided_invoice_ids),
                    "subscription": cancellation.subscription,
                }
            )
        )


@subscriptions.route("/<int:subscription_id>/graces", methods=["POST"])
@subscriptions.arguments(GraceIn)
@subscriptions.response(200, GraceOut)
def post_grace(data: dict[str, Any], subscription_id: int) -> Any:
    """Reactivate a suspended account until the customer's pay-by date (P-ONE-GRACE).

    A refusal (the account had its grace) is a normal answer: 200 with
    ``granted: false`` and the reason to give the customer.
    """
    staff = current_staff()
    assert staff is not None
    grace_request = GraceRequest(
        subscription_id=subscription_id,
        pay_by=data["pay_by"],
        requested_by=staff.email,
        by_owner=staff.role == "owner",
        owner_override=data["owner_override"],
        note=data["note"],
    )
    with _transaction() as session:
        decision = request_grace(session, grace_request, grace_max_days=_policy().grace_max_days)
        return jsonify(
            GraceOut().dump(
                {
                    "granted": decision.granted,
                    "message": decision.message,
                    "grace_id": decision.grace.id if decision.grace else None,
                    "pay_by": decision.grace.pay_by if decision.grace else None,
                    "first_grace_on": decision.first_grace_on,
                    "moved_invoice_ids": list(decision.moved_invoice_ids),
                }
            )
        )


# -- invoices --------------------------------------------------------------------------


@invoices.route("")
class Invoices(MethodView):
    @invoices.arguments(InvoiceQuery, location="query")
    @invoices.response(200, InvoiceOut(many=True))
    def get(self, query: dict[str, Any]) -> Any:
        statement = select(Invoice).order_by(Invoice.due_date, Invoice.id).limit(query["limit"])
        if query["customer_id"] is not None:
            statement = statement.where(Invoice.customer_id == query["customer_id"])
        if query["status"] is not None:
            statement = statement.where(Invoice.status == query["status"])
        with _transaction() as session:
            found = session.execute(statement).scalars().all()
            return jsonify(InvoiceOut(many=True).dump(found))


@invoices.route("/<int:invoice_id>")
class InvoiceResource(MethodView):
    @invoices.response(200, InvoiceOut)
    def get(self, invoice_id: int) -> Any:
        with _transaction() as session:
            invoice = session.get(Invoice, invoice_id)
            if invoice is None:
                raise NotFound(f"No invoice with id {invoice_id}.")
            return jsonify(InvoiceOut().dump(invoice))


# -- payments --------------------------------------------------------------------------


@payments.route("", methods=["POST"])
@payments.arguments(PaymentIn)
@payments.response(201, PaymentOut)
def post_payment(data: dict[str, Any]) -> Any:
    """Record a payment against an invoice or the customer's account."""
    payment_request = PaymentRequest(recorded_by=_staff_email(), **data)
    with _transaction() as session:
        outcome = record_payment(
            session, payment_request, reserve_percent=_policy().reserve_percent
        )
        payment = outcome.payment
        body = {
            **PaymentOut().dump(payment),
            "applied_minor": outcome.applied_minor,
            "credit_minor": outcome.credit_minor,
            "reserve_minor": outcome.reserve_minor,
            "paid_invoice_ids": [invoice.id for invoice in outcome.paid_invoices],
            "reactivated_subscription_ids": outcome.reactivated_subscriptions,
        }
        return jsonify(body), 201


# -- reports ---------------------------------------------------------------------------


class ReportQuery(Schema):
    as_of = fields.Date(load_default=None, metadata={"description": "default: today"})


@reports.route("/reserve", methods=["GET"])
@reports.arguments(ReportQuery, location="query")
@reports.response(200, ReserveReport)
def get_reserve_report(query: dict[str, Any]) -> Any:
    as_of = query["as_of"] or company_day()
    with _transaction() as session:
        return jsonify(ReserveReport().dump(reserve_report(session, as_of)))


# -- the gateway's webhook -------------------------------------------------------------


@webhooks.route("/payments", methods=["POST"])
@webhooks.response(200, description="Recorded, or already recorded before")
@webhooks.alt_response(401, schema=ErrorOut, description="Missing, invalid or stale signature")
@webhooks.alt_response(503, schema=ErrorOut, description="No webhook secret is configured")
def post_gateway_payment() -> Any:
    """A payment notification from the gateway, signed with ``X-Cortesia-Signature``."""
    secret = current_app.config.get(WEBHOOK_SECRET_CONFIG)
    if not secret:
        return jsonify(
            error="webhook not configured",
            message=f"Set {webhook.SECRET_VARIABLE} to the secret shared with the payment "
            "gateway; until then payments are not accepted here.",
        ), 503
    answer = webhook.handle_delivery(
        current_app.extensions["cortesia.database"],
        secret,
        request.headers.get(webhook.SIGNATURE_HEADER),
        request.get_data(cache=True),
        reserve_percent=_policy().reserve_percent,
    )
    return jsonify(answer.body), answer.status


# -- registration ----------------------------------------------------------------------


def init_api(app: Flask, webhook_secret: str | None) -> Api:
    app.config[WEBHOOK_SECRET_CONFIG] = webhook_secret
    api = init_service_api(
        app,
        "Cortesia billing",
        [customers, plans, subscriptions, invoices, payments, reports, webhooks],
    )
    # The gateway has no session to forge: its signature is its authentication.
    app.extensions["csrf"].exempt(webhooks)
    return api
