"""The company's flows beyond one ticket, end to end, in both run modes: a customer who
cancels, a new hire's path from the emailed link to replying alone, and a maintenance
window announced ahead to each customer it affects."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.harness import (
    Browser,
    Platform,
    customer_in_portal,
    mails_to,
    owner_signed_in,
    text_of,
    wait_for_mail,
)
from tests.e2e.test_support_flows import about, new_customer, open_in_portal

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MEXICO_CITY = ZoneInfo("America/Mexico_City")
WEDNESDAY = 2


def eventually(look: Callable[[], Any], until: Callable[[Any], bool], timeout: float = 60) -> Any:
    """What ``look`` returns once ``until`` holds for it (a replica catching up)."""
    deadline = time.monotonic() + timeout
    while True:
        seen = look()
        if until(seen):
            return seen
        assert time.monotonic() < deadline, f"still not so after {timeout:.0f} s: {seen}"
        time.sleep(0.3)


def subscribed(owner: Browser, customer: dict[str, Any], plan_name: str, price: int) -> int:
    """The customer on a monthly plan of their currency from today; its subscription's id."""
    plan = owner.api(
        "POST",
        "/billing/api/plans",
        {
            "code": f"plan-{uuid.uuid4().hex[:8]}",
            "name": plan_name,
            "cycle": "monthly",
            "price_minor": price,
            "currency": customer["currency"],
        },
        expect=201,
    )
    subscription = owner.api(
        "POST",
        "/billing/api/subscriptions",
        {"customer_id": customer["id"], "plan_id": plan["id"]},
        expect=201,
    )
    return int(subscription["id"])


def test_a_cancellation_asks_the_reason_makes_one_offer_and_ends_with_the_period(
    platform: Platform,
) -> None:
    platform.set_clock(platform.next_moment(WEDNESDAY, 11))
    owner = owner_signed_in(platform)
    observer = platform.observer
    lucia = new_customer(
        owner, "Lucia Ferrer", language="es", timezone="Europe/Madrid", currency="EUR"
    )
    subscription_id = subscribed(owner, lucia, "Hosting Esencial", 1900)
    observer.wait_for(
        "billing.subscription_started.v1", lambda p: p["subscription_id"] == subscription_id
    )

    portal = customer_in_portal(platform, lucia["email"], language="es")
    ticket_id = open_in_portal(
        portal,
        "Quiero cancelar mi plan",
        "Hola, quiero cancelar el hosting a final de mes. ¿Qué tengo que hacer?",
    )
    # Training's cancellation script is suggested on the desk beside the ticket.
    suggested = observer.wait_for(
        "training.script_suggested.v1", lambda p: p["ticket_id"] == ticket_id
    )
    assert suggested["payload"]["situation"] == "cancellation"
    ticket = owner.api("GET", f"/tickets/api/tickets/{ticket_id}")
    assert ticket["suggested_script"]["playbook_id"] == "cancellation", ticket
    assert (
        'href="/training/playbooks/cancellation"'
        in owner.page(f"/tickets/desk/tickets/{ticket_id}").text
    )

    # The desk asks why, once, and makes one offer; the customer answers and still goes.
    asked = owner.api(
        "POST",
        f"/tickets/api/tickets/{ticket_id}/replies",
        {
            "body": "Hola Lucia,\n\nGracias por escribirnos y por el tiempo que ha estado con "
            "nosotros. ¿Podría contarnos el motivo? Si es el precio, tenemos un plan más "
            "pequeño por la mitad. Si prefiere irse, lo entendemos y le ayudamos con la copia "
            "de sus archivos.\n\nUn saludo,\nHelena"
        },
        expect=201,
    )
    assert asked["outcome"] == "sent", asked
    wait_for_mail(platform.sink, lucia["email"], lambda m: "plan más pequeño" in text_of(m))
    reason = "Cerramos la tienda en línea a fin de mes."
    portal.page(f"/tickets/portal/tickets/{ticket_id}")
    portal.form(
        f"/tickets/portal/tickets/{ticket_id}/reply",
        {"body": f"{reason} Gracias, pero no necesito el plan más pequeño."},
    )
    owner.api(
        "POST",
        f"/tickets/api/tickets/{ticket_id}/cancellation",
        {"reason": reason, "offer_made": "Un plan más pequeño por la mitad", "outcome": "cancels"},
        expect=202,
    )

    requested = observer.wait_for(
        "tickets.cancellation_requested.v1", lambda p: p["ticket_id"] == ticket_id
    )
    assert requested["payload"]["subscription_id"] == subscription_id
    assert requested["payload"]["reason"] == reason
    assert requested["payload"]["offer_made"] == "Un plan más pequeño por la mitad"
    assert requested["payload"]["at_period_end"] is True
    cancelled = observer.wait_for(
        "billing.subscription_cancelled.v1", lambda p: p["subscription_id"] == subscription_id
    )
    assert cancelled["causation_id"] == requested["event_id"]
    assert cancelled["payload"]["at_period_end"] is True
    assert cancelled["payload"]["reason"] == reason

    # Scheduled for the end of the paid period, not at once.
    subscription = owner.api("GET", f"/billing/api/subscriptions/{subscription_id}")
    assert subscription["status"] == "pending_cancellation", subscription
    assert subscription["cancel_at_period_end"] and subscription["cancelled_at"] is None
    assert subscription["cancellation_reason"] == reason
    period_end = subscription["current_period_end"]
    assert cancelled["payload"]["effective_on"] == period_end
    assert date.fromisoformat(period_end) > platform.now().date()
    ended = observer.of_type("billing.subscription_ended.v1")
    assert not [e for e in ended if e["payload"]["subscription_id"] == subscription_id]

    # The confirmation reaches the customer in Spanish, with the day it takes effect.
    confirmation = wait_for_mail(
        platform.sink, lucia["email"], lambda m: "Confirmamos la cancelación" in str(m["Subject"])
    )
    assert "Hosting Esencial" in str(confirmation["Subject"])
    body = text_of(confirmation)
    assert "Seguirá funcionando con normalidad hasta el" in body
    assert str(date.fromisoformat(period_end).year) in body
    observer.wait_for(
        "notify.notification_sent.v1", lambda p: p["source_event_id"] == cancelled["event_id"]
    )

    # The desk keeps what was asked, offered and decided beside the ticket.
    ticket = eventually(
        lambda: owner.api("GET", f"/tickets/api/tickets/{ticket_id}"),
        lambda seen: period_end in (seen["customer"]["billing_note"] or ""),
    )
    changes = [(h["change"], h["detail"]) for h in ticket["history"]]
    assert ("cancellation_requested", reason) in changes, changes


def known_everywhere(owner: Browser, customer_ids: list[int]) -> None:
    """Wait until notify has each customer's contact (billing's event reached it)."""
    for customer_id in customer_ids:
        path = owner.url(f"/notify/api/customers/{customer_id}/preferences")
        eventually(
            partial(owner.http.get, path, timeout=30),
            lambda response: response.status_code == 200,
        )


def notifications_of(owner: Browser, customer_id: int, kind: str) -> list[dict[str, Any]]:
    found = owner.api("GET", f"/notify/api/notifications?customer_id={customer_id}&kind={kind}")
    return list(found["notifications"])


def sent_as(notification_id: int, payload: dict[str, Any]) -> bool:
    return bool(payload["notification_id"] == notification_id)


def scheduled_window(owner: Browser, window: dict[str, Any]) -> dict[str, Any]:
    """The window as the desk scheduled it, once the desk has heard of every customer."""
    response = eventually(
        lambda: owner.http.post(
            owner.url("/tickets/api/maintenance"),
            json=window,
            headers={"X-CSRFToken": owner.token, "Accept": "application/json"},
            timeout=30,
        ),
        lambda response: response.status_code != 422,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_a_maintenance_window_is_announced_ahead_in_each_language_and_reminded(
    platform: Platform,
) -> None:
    scheduling = platform.next_moment(WEDNESDAY, 11)
    platform.set_clock(scheduling)
    owner = owner_signed_in(platform)
    observer = platform.observer
    joana = new_customer(owner, "Joana Ribeiro")
    diego = new_customer(owner, "Diego Salas", language="es", timezone="America/Mexico_City")
    emma = new_customer(owner, "Emma Clarke", language="en", timezone="Europe/London")
    paulo = new_customer(owner, "Paulo Nunes")
    affected = [joana, diego, emma]
    known_everywhere(owner, [c["id"] for c in [*affected, paulo]])

    # Saturday 01:00 in São Paulo, 62 hours ahead: Friday 22:00 in Mexico City.
    starts = (scheduling + timedelta(days=2, hours=14)).astimezone(SAO_PAULO)
    assert starts.hour == 1 and starts - scheduling > timedelta(hours=48)
    window = scheduled_window(
        owner,
        {
            "title": "Mail server upgrade",
            "details": "Incoming mail waits in the queue during the window; none is lost.",
            "starts_at": starts.isoformat(),
            "ends_at": (starts + timedelta(hours=2)).isoformat(),
            "customer_ids": [c["id"] for c in affected],
        },
    )
    event = observer.wait_for(
        "tickets.maintenance_scheduled.v1", lambda p: p["maintenance_id"] == window["id"]
    )
    assert sorted(event["payload"]["customer_ids"]) == sorted(c["id"] for c in affected)
    assert datetime.fromisoformat(event["payload"]["starts_at"]) == starts

    # In business hours in São Paulo and London the announcement goes at once, each in
    # the customer's language; in Mexico City it is 08:00, so it waits for 10:00 there.
    joana_mail = wait_for_mail(platform.sink, joana["email"], about("Manutenção programada"))
    emma_mail = wait_for_mail(platform.sink, emma["email"], about("Scheduled maintenance"))
    assert "Mail server upgrade" in str(joana_mail["Subject"]) + str(emma_mail["Subject"])
    assert "none is lost" in text_of(emma_mail)
    (held,) = notifications_of(owner, diego["id"], "maintenance_announcement")
    opening = scheduling.astimezone(MEXICO_CITY).replace(hour=10, minute=0)
    assert held["status"] == "held", held
    assert datetime.fromisoformat(held["held_until"]) == opening, held
    assert not mails_to(platform.sink, diego["email"])

    platform.set_clock(opening + timedelta(minutes=1))
    diego_mail = wait_for_mail(platform.sink, diego["email"], about("Mantenimiento programado"))
    assert "22:00" in text_of(diego_mail), "the window is told on the customer's clock"

    # Every announcement left at least 48 hours before the window (P-EMPATHY).
    for customer in affected:
        (announcement,) = notifications_of(owner, customer["id"], "maintenance_announcement")
        sent = observer.wait_for(
            "notify.notification_sent.v1", partial(sent_as, announcement["id"])
        )
        assert sent["payload"]["source_event_id"] == event["event_id"]
        left = datetime.fromisoformat(sent["payload"]["sent_at"])
        assert starts - left >= timedelta(hours=48), (customer["language"], left)
    assert not [
        m
        for c in affected
        for m in mails_to(platform.sink, c["email"])
        if "emind" in str(m["Subject"])
    ]

    # The reminder, an hour before, on each customer's clock and in their language.
    platform.set_clock(starts - timedelta(minutes=59))
    reminders = {
        "pt-BR": wait_for_mail(platform.sink, joana["email"], about("Lembrete")),
        "es": wait_for_mail(platform.sink, diego["email"], about("Recordatorio")),
        "en": wait_for_mail(platform.sink, emma["email"], about("Reminder")),
    }
    assert "01:00" in str(reminders["pt-BR"]["Subject"])
    assert "22:00" in str(reminders["es"]["Subject"])
    london = starts.astimezone(ZoneInfo("Europe/London"))
    assert f"{london.hour % 12 or 12}:00" in str(reminders["en"]["Subject"])

    # Nobody outside the window hears of it.
    assert not mails_to(platform.sink, paulo["email"])
    assert not notifications_of(owner, paulo["id"], "maintenance_announcement")
    assert not notifications_of(owner, paulo["id"], "maintenance_reminder")
