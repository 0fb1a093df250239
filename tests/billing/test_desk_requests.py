"""The desk's requests arrive as events: reactivation (P-ONE-GRACE) and cancellation (P-EASE).

Billing answers each with its usual events, caused by the request, or declines
it with the reason and changes nothing.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from services.billing.models import Subscription
from services.billing.subscribers import desk_requests
from shared.bus.subscriber import Outcome, process_message
from shared.bus.tables import outbox
from shared.db import Database
from shared.events import REGISTRY, Envelope
from tests.billing.reading import timeline
from tests.billing.test_grace import suspended_for_non_payment

REACTIVATION = "tickets.reactivation_requested.v1"
CANCELLATION = "tickets.cancellation_requested.v1"
AGENT = {"requested_by": "bia@example.com", "requested_by_role": "agent", "ticket_id": 41}


def customer_today() -> date:
    return datetime.now(ZoneInfo("America/Sao_Paulo")).date()


def suspended(database: Database) -> tuple[int, int]:
    """(customer id, subscription id) of an account suspended for non-payment."""
    with database.transaction() as session:
        subscription = suspended_for_non_payment(session)
        return subscription.customer_id, subscription.id


def request(database: Database, event_type: str, payload: dict[str, Any]) -> Envelope:
    envelope = Envelope(event_type, "tickets", REGISTRY.dump(event_type, payload))
    result = process_message(database, desk_requests, envelope.to_json())
    assert result.outcome is Outcome.HANDLED, result
    return envelope


def answers(database: Database, cause: Envelope) -> dict[str, dict[str, Any]]:
    """Billing's events caused by ``cause``, by type."""
    with database.transaction() as session:
        bodies = session.execute(select(outbox.c.body).order_by(outbox.c.id)).scalars()
        found = [json.loads(body) for body in bodies]
    return {e["event_type"]: e["payload"] for e in found if e["causation_id"] == cause.event_id}


def status(database: Database, subscription_id: int) -> str:
    with database.transaction() as session:
        subscription = session.get(Subscription, subscription_id)
        assert subscription is not None
        return subscription.status


def put(database: Database, subscription_id: int, status: str, reason: str | None) -> None:
    with database.transaction() as session:
        subscription = session.get(Subscription, subscription_id)
        assert subscription is not None
        subscription.status, subscription.suspension_reason = status, reason


def test_the_first_reactivation_request_is_granted_and_the_second_refused(
    database: Database,
) -> None:
    customer_id, subscription_id = suspended(database)
    pay_by = customer_today() + timedelta(days=5)
    ask = {"customer_id": customer_id, "subscription_id": subscription_id, "pay_by": pay_by}

    first = request(database, REACTIVATION, {**ask, **AGENT})
    granted = answers(database, first)
    assert set(granted) == {"billing.account_reactivated.v1"}
    assert granted["billing.account_reactivated.v1"]["pay_by"] == pay_by.isoformat()
    assert status(database, subscription_id) == "active"

    put(database, subscription_id, "suspended", "non_payment")
    second = request(database, REACTIVATION, {**ask, **AGENT})
    refused = answers(database, second)
    assert set(refused) == {"billing.grace_refused.v1"}
    assert "already had its one grace" in refused["billing.grace_refused.v1"]["reason"]
    assert status(database, subscription_id) == "suspended"


def test_a_request_that_cannot_be_carried_out_is_declined_with_its_reason(
    database: Database,
) -> None:
    customer_id, subscription_id = suspended(database)
    too_late = customer_today() + timedelta(days=40)
    ask = {"customer_id": customer_id, "subscription_id": subscription_id, "pay_by": too_late}

    cause = request(database, REACTIVATION, {**ask, **AGENT})

    declined = answers(database, cause)["billing.request_declined.v1"]
    assert declined["request_type"] == "reactivation" and declined["ticket_id"] == 41
    assert "at most 15 days ahead" in declined["reason"]
    assert status(database, subscription_id) == "suspended"
    with database.transaction() as session:
        (message,) = timeline(session, "reactivation_declined")
    assert "bia@example.com" in message and "at most 15 days ahead" in message


def test_only_the_owner_may_override_the_one_grace_rule(database: Database) -> None:
    customer_id, subscription_id = suspended(database)
    ask = {
        "customer_id": customer_id,
        "subscription_id": subscription_id,
        "pay_by": customer_today() + timedelta(days=3),
        "owner_override": True,
        "note": "Customer for ten years",
    }
    by_agent = request(database, REACTIVATION, {**ask, **AGENT})
    assert "Only the owner" in answers(database, by_agent)["billing.request_declined.v1"]["reason"]

    owner = {**AGENT, "requested_by": "ana@example.com", "requested_by_role": "owner"}
    by_owner = request(database, REACTIVATION, {**ask, **owner})
    assert set(answers(database, by_owner)) == {"billing.account_reactivated.v1"}


def test_a_request_naming_another_customers_subscription_changes_nothing(
    database: Database,
) -> None:
    customer_id, subscription_id = suspended(database)
    ask = {
        "customer_id": customer_id + 1,
        "subscription_id": subscription_id,
        "pay_by": customer_today() + timedelta(days=3),
    }
    cause = request(database, REACTIVATION, {**ask, **AGENT})
    reason = answers(database, cause)["billing.request_declined.v1"]["reason"]
    assert f"belongs to customer {customer_id}" in reason
    assert status(database, subscription_id) == "suspended"


def test_a_cancellation_request_records_the_reason_and_the_declined_offer(
    database: Database,
) -> None:
    customer_id, subscription_id = suspended(database)
    put(database, subscription_id, "active", None)
    ask = {
        "customer_id": customer_id,
        "subscription_id": subscription_id,
        "reason": "Moving the shop to a marketplace",
        "offer_made": "Two months at half price",
    }

    cause = request(database, CANCELLATION, {**ask, **AGENT})

    cancelled = answers(database, cause)["billing.subscription_cancelled.v1"]
    assert cancelled["at_period_end"] is True
    assert cancelled["reason"] == "Moving the shop to a marketplace"
    assert status(database, subscription_id) == "pending_cancellation"
    with database.transaction() as session:
        (offer,) = timeline(session, "retention_offer")
    assert "Two months at half price" in offer and "not asked again" in offer

    again = request(database, CANCELLATION, {**ask, **AGENT})
    declined = answers(database, again)["billing.request_declined.v1"]
    assert declined["request_type"] == "cancellation"
    assert "already set to end on" in declined["reason"]
