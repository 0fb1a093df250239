"""A customer waiting on a portal sign-in link gets it at once, at any hour, in their
language, at the address that asked for it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from services.notify.dispatcher import Dispatcher
from services.notify.models import Notification
from shared.db import Database
from shared.testing.smtp import MailSink
from tests.notify.conftest import Clock, deliver

SAO_PAULO_NIGHT = datetime(2026, 12, 3, 2, tzinfo=UTC)  # Wednesday 23:00 there
LINK = "https://cortesia.example/tickets/portal/sign-in/tok3n-for-lucia"


def link_requested(email: str, language: str, **extra: Any) -> dict[str, Any]:
    return {
        "email": email,
        "customer_id": None,
        "name": None,
        "language": language,
        "link": LINK,
        "expires_at": SAO_PAULO_NIGHT + timedelta(minutes=30),
        **extra,
    }


def text_of(message: Any) -> str:
    return str(message.get_body(("plain",)).get_content()).replace("\xa0", " ")


def only_notification(database: Database) -> Notification:
    with database.transaction() as session:
        (notification,) = session.execute(select(Notification)).scalars()
        session.expunge(notification)
        return notification


def test_the_link_is_emailed_at_once_at_night_in_the_customers_language(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    deliver(
        database,
        "tickets.portal_link_requested.v1",
        link_requested("lucia@estudio.example", "es"),
        SAO_PAULO_NIGHT,
    )
    clock.now = SAO_PAULO_NIGHT
    assert dispatcher.drain() == 1, "a sign-in link does not wait for business hours"
    sink.wait_for(1)
    (mail,) = sink.deliveries
    assert mail.recipients == ("lucia@estudio.example",)
    text = text_of(mail.message)
    assert LINK in text
    assert text.startswith("Hola:"), "greeted all the same without a name"
    assert "una sola vez" in text and "30 minutos" in text
    assert "ignorar" in text, "who did not ask for it is told they may ignore it"
    html = mail.message.get_body(("html",))
    assert html is not None and LINK in str(html.get_content())
    notification = only_notification(database)
    assert (notification.kind, notification.channel, notification.language) == (
        "portal_sign_in",
        "email",
        "es",
    )
    assert notification.status == "sent" and notification.fell_back_from is None
    assert notification.not_before.replace(tzinfo=UTC) == SAO_PAULO_NIGHT


def test_the_link_goes_to_the_address_that_asked_even_for_a_known_customer(
    database: Database, sink: MailSink, dispatcher: Dispatcher, clock: Clock
) -> None:
    deliver(
        database,
        "billing.customer_created.v1",
        {
            "customer_id": 7,
            "customer_name": "Ana Souza",
            "email": "financeiro@padaria.example",
            "language": "pt-BR",
            "timezone": "America/Sao_Paulo",
            "currency": "BRL",
            "managed": False,
        },
        SAO_PAULO_NIGHT,
    )
    deliver(
        database,
        "tickets.portal_link_requested.v1",
        link_requested("ana@padaria.example", "en", customer_id=7, name="Ana Souza"),
        SAO_PAULO_NIGHT,
    )
    clock.now = SAO_PAULO_NIGHT
    assert dispatcher.drain() == 1
    sink.wait_for(1)
    (mail,) = sink.deliveries
    assert mail.recipients == ("ana@padaria.example",), "following the link proves this address"
    text = text_of(mail.message)
    assert text.startswith("Hi Ana Souza,") and LINK in text, "in the language asked for"
    notification = only_notification(database)
    assert (notification.customer_id, notification.language) == (7, "en")
