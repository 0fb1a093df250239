"""Billing's events on a real RabbitMQ with PostgreSQL: what it announces, and what it hears.

The billing run issues an invoice on PostgreSQL; billing's relay puts the event
on the wire (seen by an independent pika client); notify's delivery report, the
desk's billing ticket and its cancellation request come back over the broker to
billing's consumers, and billing's answer to the request crosses the wire too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import select

from services.billing.models import Invoice, OpenBillingTicket, Subscription
from services.billing.subscribers import deliveries, desk_requests, desk_tickets
from shared.bus.consumer import SubscriberConsumer
from shared.bus.outbox import record_event
from shared.bus.relay import OutboxRelay
from shared.bus.tables import BUS_METADATA
from shared.db import Database
from tests.billing.timetravel import migrated_database, run, subscribed
from tests.support.probe import wait_until
from tests.support.wire import Running, WireObserver

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]


def test_billing_events_cross_the_broker_both_ways(
    rabbit: Any, postgres_server: Any, running: Running, unique_name: str
) -> None:
    billing = migrated_database(postgres_server.create_database(f"billing_{unique_name}"))
    others = Database(postgres_server.create_database(f"others_{unique_name}"))
    BUS_METADATA.create_all(others.engine)

    observer = WireObserver(
        rabbit.url, "billing.invoice_issued.v1", "billing.subscription_cancelled.v1"
    )

    for subscriber in (deliveries, desk_tickets, desk_requests):
        consumer = SubscriberConsumer(billing, subscriber, rabbit.url, heartbeat_seconds=10)
        running.start(consumer)
        consumer.ready.wait(30)
    running.start(OutboxRelay(billing, rabbit.url, heartbeat_seconds=10, name="billing"))
    running.start(OutboxRelay(others, rabbit.url, heartbeat_seconds=10, name="others"))

    subscription_id = subscribed(billing, date(2026, 3, 16), email="lucia@example.com")
    run(billing, date(2026, 4, 2))
    with billing.transaction() as session:
        invoice = session.execute(select(Invoice)).scalar_one()
        invoice_id, issued_event_id = invoice.id, invoice.issued_event_id
        customer_id = invoice.customer_id
    assert issued_event_id is not None and subscription_id

    properties, envelope = observer.next()
    assert envelope["event_id"] == issued_event_id
    assert envelope["payload"]["invoice_id"] == invoice_id
    assert envelope["payload"]["email"] == "lucia@example.com"
    assert envelope["payload"]["due_date"] == "2026-04-16"
    assert properties.delivery_mode == 2 and properties.content_type == "application/json"

    # Notify reports the delivery; the desk opens a billing ticket and asks for a cancellation.
    with others.transaction() as session:
        record_event(
            session,
            "notify",
            "notify.notification_sent.v1",
            {
                "notification_id": 1,
                "source_event_id": issued_event_id,
                "source_event_type": "billing.invoice_issued.v1",
                "channel": "email",
                "customer_id": customer_id,
                "sent_at": datetime(2026, 4, 2, 15, tzinfo=UTC),
            },
        )
        record_event(
            session,
            "tickets",
            "tickets.billing_ticket_opened.v1",
            {"ticket_id": 77, "customer_id": customer_id},
        )
        request = record_event(
            session,
            "tickets",
            "tickets.cancellation_requested.v1",
            {
                "customer_id": customer_id,
                "subscription_id": subscription_id,
                "ticket_id": 77,
                "requested_by": "bia@example.com",
                "requested_by_role": "agent",
                "reason": "Closing the shop",
                "offer_made": "A smaller plan",
            },
        )

    def delivered() -> bool:
        with billing.transaction() as session:
            return session.get(Invoice, invoice_id).delivered_at is not None  # type: ignore[union-attr]

    def ticket_known() -> bool:
        with billing.transaction() as session:
            return session.get(OpenBillingTicket, 77) is not None

    def cancelling() -> bool:
        with billing.transaction() as session:
            subscription = session.get(Subscription, subscription_id)
            return subscription is not None and subscription.status == "pending_cancellation"

    wait_until(delivered, 30, "billing to learn the invoice was delivered")
    wait_until(ticket_known, 30, "billing to learn of the open billing ticket")
    wait_until(cancelling, 30, "billing to carry out the desk's cancellation request")
    _, answer = observer.next()
    assert answer["event_type"] == "billing.subscription_cancelled.v1"
    assert answer["causation_id"] == request.event_id
    assert answer["payload"]["reason"] == "Closing the shop"
    observer.close()
    billing.dispose()
    others.dispose()
