"""The payment gateway's webhook: signed payment notifications.

The gateway signs each delivery with the shared secret
(``CORTESIA_BILLING_WEBHOOK_SECRET``) in the header::

    X-Cortesia-Signature: t=<unix seconds>,v1=<hex>

where ``v1 = HMAC-SHA256(secret, f"{t}." + raw body)``. The signature covers
the raw bytes as received (never a re-serialised JSON, which could differ),
the timestamp must be within ``TOLERANCE_SECONDS`` of our clock (past or
future) so a captured delivery cannot be replayed later, and signatures are
compared in constant time. Several ``v1`` entries are accepted while the
secret is being rotated.

A delivery that fails verification gets 401 and changes nothing. A verified
delivery of a gateway transaction already recorded gets 200 "already
recorded" and changes nothing: gateways retry until they see a 2xx, and the
unique ``gateway_transaction_id`` guarantees one payment per transaction even
when two deliveries race.

The endpoint (``POST /api/webhooks/payments``, in ``services.billing.api``)
is authenticated by the signature alone, so it is exempt from CSRF and from
the staff roles. Without a configured secret it answers 503: an unverifiable
delivery must not be accepted, and the gateway will retry once it is set.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from sqlalchemy.exc import IntegrityError

from services.billing.accounts import BillingError, NotFound
from services.billing.payments import (
    GATEWAY_METHOD,
    DuplicatePayment,
    PaymentRequest,
    find_gateway_payment,
    record_payment,
)
from shared.db import Database

SIGNATURE_HEADER = "X-Cortesia-Signature"
SECRET_VARIABLE = "CORTESIA_BILLING_WEBHOOK_SECRET"
TOLERANCE_SECONDS = 300


class SignatureError(Exception):
    """The delivery is not proven to come from the gateway; the message says why."""


def webhook_secret(env: Mapping[str, str] | None = None) -> str | None:
    value = (os.environ if env is None else env).get(SECRET_VARIABLE, "")
    return value or None


def sign(secret: str, raw_body: bytes, timestamp: int) -> str:
    """The header value the gateway sends for ``raw_body`` at ``timestamp``."""
    return f"t={timestamp},v1={_digest(secret, timestamp, raw_body)}"


def _digest(secret: str, timestamp: int | str, raw_body: bytes) -> str:
    message = f"{timestamp}.".encode() + raw_body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def parse_signature(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureError(f"The {SIGNATURE_HEADER} header is missing.")
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            try:
                timestamp = int(value)
            except ValueError:
                raise SignatureError("The signature timestamp is not a number.") from None
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise SignatureError(f"The {SIGNATURE_HEADER} header needs t= and v1=.")
    return timestamp, signatures


def verify(secret: str, header: str | None, raw_body: bytes, now: float | None = None) -> None:
    """Raise ``SignatureError`` unless the header signs ``raw_body`` recently with ``secret``."""
    timestamp, signatures = parse_signature(header)
    now = time.time() if now is None else now
    if abs(now - timestamp) > TOLERANCE_SECONDS:
        raise SignatureError(
            f"The signature timestamp is more than {TOLERANCE_SECONDS} seconds from now."
        )
    expected = _digest(secret, timestamp, raw_body)
    # Compare against every entry (no early exit), each in constant time.
    matches = [hmac.compare_digest(expected, candidate) for candidate in signatures]
    if not any(matches):
        raise SignatureError("The signature does not match the body.")


class GatewayPaymentSchema(Schema):
    transaction_id = fields.String(required=True, validate=validate.Length(min=1, max=120))
    invoice_id = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1))
    customer_id = fields.Integer(strict=True, load_default=None, validate=validate.Range(min=1))
    amount_minor = fields.Integer(strict=True, required=True, validate=validate.Range(min=1))
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    method = fields.String(load_default=GATEWAY_METHOD, validate=validate.Length(min=1, max=40))

    @validates_schema
    def _names_a_payer(self, data: dict[str, Any], **_: Any) -> None:
        if data.get("invoice_id") is None and data.get("customer_id") is None:
            raise ValidationError("Name the invoice_id or the customer_id paid.")


@dataclass(frozen=True)
class WebhookAnswer:
    status: int
    body: dict[str, Any]


def handle_delivery(
    database: Database,
    secret: str,
    header: str | None,
    raw_body: bytes,
    *,
    reserve_percent: int,
    now: float | None = None,
) -> WebhookAnswer:
    """Verify one delivery and record its payment once; framework-free for testing."""
    try:
        verify(secret, header, raw_body, now)
    except SignatureError as error:
        return WebhookAnswer(401, {"error": "invalid signature", "message": str(error)})
    try:
        data = GatewayPaymentSchema().load(json.loads(raw_body))
    except (ValueError, ValidationError) as error:
        messages = error.messages if isinstance(error, ValidationError) else str(error)
        body = {"error": "invalid body", "message": "The payment is malformed.", "errors": messages}
        return WebhookAnswer(400, body)
    request_ = PaymentRequest(
        amount_minor=data["amount_minor"],
        currency=data["currency"].upper(),
        method=data["method"],
        invoice_id=data["invoice_id"],
        customer_id=data["customer_id"],
        gateway_transaction_id=data["transaction_id"],
    )
    return _record_once(database, request_, reserve_percent)


def _record_once(
    database: Database, request_: PaymentRequest, reserve_percent: int
) -> WebhookAnswer:
    try:
        with database.transaction() as session:
            outcome = record_payment(session, request_, reserve_percent=reserve_percent)
            payment_id = outcome.payment.id
            credit = outcome.credit_minor
    except DuplicatePayment as duplicate:
        return _already_recorded(duplicate.payment_id)
    except IntegrityError:
        # A concurrent delivery of the same transaction committed first.
        assert request_.gateway_transaction_id is not None
        with database.transaction() as session:
            earlier = find_gateway_payment(session, request_.gateway_transaction_id)
        if earlier is None:
            raise
        return _already_recorded(earlier.id)
    except NotFound as error:
        return WebhookAnswer(404, {"error": "not found", "message": str(error)})
    except BillingError as error:
        return WebhookAnswer(422, {"error": "payment refused", "message": str(error)})
    return WebhookAnswer(
        200, {"status": "recorded", "payment_id": payment_id, "credit_minor": credit}
    )


def _already_recorded(payment_id: int) -> WebhookAnswer:
    return WebhookAnswer(200, {"status": "already recorded", "payment_id": payment_id})
