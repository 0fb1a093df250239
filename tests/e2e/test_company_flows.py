"""The company's flows beyond one ticket, end to end, in both run modes: a customer who
cancels, a new hire's path from the emailed link to replying alone, and a maintenance
window announced ahead to each customer it affects."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.harness import (
    OWNER,
    Browser,
    Platform,
    customer_in_portal,
    eventually,
    mails_to,
    owner_signed_in,
    sign_in,
    text_of,
    wait_for_mail,
)
from tests.e2e.test_support_flows import about, new_customer, open_in_portal

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
MEXICO_CITY = ZoneInfo("America/Mexico_City")
WEDNESDAY = 2


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


TRAINEE_PASSWORD = "first day at the desk"
PRACTICE_REPLY = (
    "Hi Marta,\n\nI'm sorry for the wait, and thank you for writing to us. The cause was an "
    "expired setting on our side; I fixed it this morning and checked that everything works "
    "again. To prevent it from happening again, we now verify that setting every day. If you "
    "want to learn more, the guide at https://docs.cortesia.example/hosting explains each "
    "step.\n\nBest regards,\nDuda"
)
"""A practice reply with no blocking finding in any lesson's situation (a late answer, an
emergency, a resolution, a question beyond hosting)."""


def password_link(platform: Platform, email: str) -> str:
    mail = wait_for_mail(platform.sink, email, lambda m: "/tickets/password/" in text_of(m))
    found = re.search(r"https?://\S+/tickets/password/\S+", text_of(mail))
    assert found, "the welcome mail carries no link"
    return found.group(0).replace(platform.url, "")


def follow_the_path(owner: Browser, trainee: Browser, staff_id: int) -> int:
    """Every required lesson read, its quiz passed and its practice reply approved by the
    owner, in the order the path shows them; the number of lessons."""
    path = trainee.page("/training/learn/")
    assert "Replies held for review: <strong>100%</strong>" in path.text
    lessons = [
        owner.api("GET", f"/training/api/playbooks/{summary['id']}")
        for summary in owner.api("GET", "/training/api/playbooks")
        if summary["kind"] == "lesson"
    ]
    lessons = [lesson for lesson in lessons if lesson["content"].get("required", True)]
    assert lessons and all(f"/training/learn/{lesson['id']}" in path.text for lesson in lessons)
    for lesson in lessons:
        lesson_id, content = lesson["id"], lesson["content"]
        trainee.page(f"/training/learn/{lesson_id}")
        trainee.form(f"/training/learn/{lesson_id}/read", {})
        answers = {f"q{n}": str(q["answer"]) for n, q in enumerate(content["quiz"])}
        graded = trainee.form(f"/training/learn/{lesson_id}/quiz", answers)
        assert "Score: 100%" in graded.text, lesson_id
        if content.get("scenario"):
            submitted = trainee.form(
                f"/training/learn/{lesson_id}/scenario", {"reply": PRACTICE_REPLY}
            )
            assert "Submitted: the owner reviews it next." in submitted.text, lesson_id
            owner.page("/training/learn/reviews")
            owner.form(f"/training/learn/reviews/{staff_id}/{lesson_id}", {"verdict": "approve"})
    return len(lessons)


def replies_held(owner: Browser, staff_id: int) -> int:
    team = owner.api("GET", "/tickets/api/staff")
    return int(next(m for m in team if m["id"] == staff_id)["replies_held"])


def test_a_new_hire_is_enrolled_supervised_certified_and_then_replies_alone(
    platform: Platform,
) -> None:
    platform.set_clock(platform.next_moment(WEDNESDAY, 10, 30))
    owner = owner_signed_in(platform)
    observer = platform.observer
    email = f"duda.{uuid.uuid4().hex[:6]}@cortesia.example"
    duda = owner.api(
        "POST",
        "/tickets/api/staff",
        {"name": "Duda Martins", "email": email, "role": "trainee"},
        expect=201,
    )
    added = observer.wait_for("tickets.staff_added.v1", lambda p: p["staff_id"] == duda["id"])
    assert added["payload"]["role"] == "trainee"
    enrolled = observer.wait_for(
        "training.trainee_enrolled.v1", lambda p: p["staff_id"] == duda["id"]
    )
    assert enrolled["payload"]["share_held"] == 100
    assert enrolled["causation_id"] == added["event_id"]

    # The emailed link sets her password once; with it she signs in.
    link = password_link(platform, email)
    first_visit = Browser(platform)
    first_visit.page(link)
    first_visit.form(link, {"password": TRAINEE_PASSWORD, "confirm": TRAINEE_PASSWORD})
    trainee = sign_in(platform, email, TRAINEE_PASSWORD)

    # Her reply to a customer is held for the owner, who approves it: then it is sent.
    rita = new_customer(owner, "Rita Moraes")
    observer.wait_for("billing.customer_created.v1", lambda p: p["customer_id"] == rita["id"])
    subject = "Cadeado sumiu do site"
    ticket_id = open_in_portal(
        customer_in_portal(platform, rita["email"]),
        subject,
        "O navegador diz que o site não é seguro desde ontem.",
    )
    wait_for_mail(platform.sink, rita["email"], about(subject))
    supervised = trainee.api(
        "POST",
        f"/tickets/api/tickets/{ticket_id}/replies",
        {
            "body": "Olá Rita,\n\nObrigada por avisar. O certificado do site tinha vencido; já "
            "instalei um novo e o site voltou a abrir com o cadeado. Para não se repetir, a "
            "renovação agora é automática e avisamos 30 dias antes.\n\nQualquer coisa, estou "
            "à disposição.\nAbraços,\nDuda"
        },
        expect=201,
    )
    assert supervised["outcome"] == "held", supervised
    reply_id = supervised["message"]["id"]
    checked = observer.wait_for(
        "tickets.reply_checked.v1",
        lambda p: p["ticket_id"] == ticket_id and p["staff_id"] == duda["id"],
    )
    assert checked["payload"]["outcome"] == "held"
    observer.wait_for("tickets.reply_awaiting_review.v1", lambda p: p["reply_id"] == reply_id)
    wait_for_mail(
        platform.sink,
        OWNER["email"],
        lambda m: f"#{ticket_id}" in str(m["Subject"]) and "revi" in str(m["Subject"]).lower(),
    )
    assert not [m for m in mails_to(platform.sink, rita["email"]) if "renovação" in text_of(m)]
    held = owner.api("GET", "/tickets/api/reviews")
    assert [r["reply"]["id"] for r in held if r["ticket"]["id"] == ticket_id] == [reply_id]
    owner.api("POST", f"/tickets/api/reviews/{reply_id}/approve", {})
    observer.wait_for("tickets.reply_posted.v1", lambda p: p["reply_id"] == reply_id)
    wait_for_mail(platform.sink, rita["email"], lambda m: "renovação" in text_of(m))

    # The path: lessons read, quizzes passed, practice replies approved by the owner.
    lessons = follow_the_path(owner, trainee, duda["id"])
    assert lessons >= 20
    certified = observer.wait_for(
        "training.trainee_certified.v1", lambda p: p["staff_id"] == duda["id"]
    )
    assert certified["payload"]["certified_at"]
    assert (
        "Certified: your replies go straight to customers." in trainee.page("/training/learn/").text
    )
    eventually(lambda: replies_held(owner, duda["id"]), lambda share: share == 0)

    # Certified, her next reply goes straight to the customer.
    rita_portal = customer_in_portal(platform, rita["email"])
    rita_portal.page(f"/tickets/portal/tickets/{ticket_id}")
    rita_portal.form(
        f"/tickets/portal/tickets/{ticket_id}/reply", {"body": "Voltou o cadeado, obrigada!"}
    )
    direct = trainee.api(
        "POST",
        f"/tickets/api/tickets/{ticket_id}/replies",
        {
            "body": "Olá Rita,\n\nConferi de novo hoje e o certificado novo está valendo até o "
            "ano que vem. Se aparecer qualquer aviso no navegador, me conte por aqui.\n\n"
            "Abraços,\nDuda"
        },
        expect=201,
    )
    assert direct["outcome"] == "sent", direct
    observer.wait_for("tickets.reply_posted.v1", lambda p: p["reply_id"] == direct["message"]["id"])
    wait_for_mail(platform.sink, rita["email"], lambda m: "valendo até" in text_of(m))
    assert not [
        r for r in owner.api("GET", "/tickets/api/reviews") if r["ticket"]["id"] == ticket_id
    ]


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
