"""An invoice from billing to the customer's inbox over a real RabbitMQ, PostgreSQL and SMTP
server: billing's run issues it, notify writes and sends it, and billing learns it was
delivered. An independent pika client sees both events cross the broker, and a second
delivery of the same event (a consumer that died before its ack) sends nothing twice."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pika
import pytest
from sqlalchemy import func, select

import services.notify as notify
from services.billing.models import Invoice
from services.billing.subscribers import deliveries
from services.notify.channels import SmtpChannel, SmtpSettings
from services.notify.directory import directory
from services.notify.dispatcher import Dispatcher
from services.notify.models import Notification
from services.notify.subscribers import messages
from shared.bus.consumer import SubscriberConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.topology import EVENTS_EXCHANGE
from shared.db import Database
from shared.migrations import upgrade
from shared.testing.smtp import MailSink
from tests.billing.timetravel import migrated_database, run, subscribed
from tests.notify.conftest import CONFIG
from tests.support.probe import wait_until
from tests.support.wire import Running, WireObserver

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]


def test_an_issued_invoice_is_emailed_once_and_billing_learns_it_went_out(
    rabbit: Any, postgres_server: Any, running: Running, unique_name: str
) -> None:
    billing = migrated_database(postgres_server.create_database(f"billing_{unique_name}"))
    notify_url = postgres_server.create_database(f"notify_{unique_name}")
    upgrade(notify.MIGRATIONS, notify_url)
    notify_db = Database(notify_url)
    observer = WireObserver(rabbit.url, "billing.invoice_issued.v1", "notify.notification_sent.v1")

    for database, subscriber in (
        (notify_db, directory),
        (notify_db, messages),
        (billing, deliveries),
    ):
        consumer = SubscriberConsumer(database, subscriber, rabbit.url, heartbeat_seconds=10)
        running.start(consumer)
        consumer.ready.wait(30)
    running.start(OutboxRelay(billing, rabbit.url, heartbeat_seconds=10, name="billing"))
    running.start(OutboxRelay(notify_db, rabbit.url, heartbeat_seconds=10, name="notify"))

    with MailSink() as sink:
        smtp = SmtpSettings(
            host="127.0.0.1",
            port=sink.port,
            security="none",
            from_address="oi@cortesia.example",
            timeout=5,
        )
        # A week on: whenever the suite runs, the customer's next business window has come.
        dispatcher = Dispatcher(
            notify_db,
            {"email": SmtpChannel(smtp)},
            CONFIG,
            clock=lambda: datetime.now(UTC) + timedelta(days=7),
            every_seconds=0.1,
        )
        dispatcher.start()
        try:
            subscribed(billing, date(2026, 3, 16), email="lucia@example.com")
            run(billing, date(2026, 4, 2))

            _, issued = observer.next()
            assert issued["event_type"] == "billing.invoice_issued.v1"
            (mail,) = sink.wait_for(1, timeout=30)
            assert sink.deliveries[0].recipients == ("lucia@example.com",)
            plain = mail.get_body(("plain",))
            assert plain is not None and "Loja Azul" in str(plain.get_content())
            _, sent = observer.next()
            assert sent["event_type"] == "notify.notification_sent.v1"
            assert sent["payload"]["source_event_id"] == issued["event_id"]

            def delivered() -> bool:
                with billing.transaction() as session:
                    invoice = session.execute(select(Invoice)).scalar_one()
                    return invoice.delivered_at is not None

            wait_until(delivered, 30, "billing to learn the invoice went out")

            # The same event again, as a redelivery brings it, then a new one behind it on
            # the same queue: once the new one is written, the copy has been dealt with.
            marker = {
                **issued,
                "event_id": str(uuid.uuid4()),
                "payload": {**issued["payload"], "email": "marker@example.com", "customer_id": 999},
            }
            for envelope in (issued, marker):
                observer.channel.basic_publish(
                    EVENTS_EXCHANGE,
                    "billing.invoice_issued.v1",
                    json.dumps(envelope).encode(),
                    pika.BasicProperties(content_type="application/json", delivery_mode=2),
                )
            sink.wait_for(2, timeout=30)
            with notify_db.transaction() as session:
                per_event = dict(
                    session.execute(
                        select(Notification.source_event_id, func.count()).group_by(
                            Notification.source_event_id
                        )
                    ).all()
                )
            assert per_event == {issued["event_id"]: 1, marker["event_id"]: 1}
            assert [d.recipients for d in sink.deliveries] == [
                ("lucia@example.com",),
                ("marker@example.com",),
            ]
        finally:
            dispatcher.stop()
    observer.close()
    billing.dispose()
    notify_db.dispose()
