"""The support desk's flows, end to end, in both run modes: a customer's ticket from the
portal to the rating, a night's emergency, a new hire's path to replying alone."""

from __future__ import annotations

import re
import unicodedata
import uuid
from collections.abc import Callable
from email.message import EmailMessage
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
    text_of,
    wait_for_mail,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
WEDNESDAY, THURSDAY = 2, 3


def new_customer(
    owner: Browser, name: str, language: str = "pt-BR", **extra: Any
) -> dict[str, Any]:
    """A customer billing knows (and, through billing's event, the desk and notify)."""
    first = unicodedata.normalize("NFKD", name.split()[0].lower()).encode("ascii", "ignore")
    email = f"{first.decode()}.{uuid.uuid4().hex[:6]}@cliente.example"
    details = {"name": name, "email": email, "language": language, **extra}
    return dict(owner.api("POST", "/billing/api/customers", details, expect=201))


def about(subject: str) -> Callable[[EmailMessage], bool]:
    """A mail about the ticket of that subject."""
    return lambda message: subject in str(message["Subject"]) or subject in text_of(message)


def open_in_portal(customer: Browser, subject: str, description: str, **form: str) -> int:
    customer.page("/tickets/portal/tickets/new")
    landed = customer.form(
        "/tickets/portal/tickets/new",
        {"subject": subject, "description": description, "department": "support", **form},
    )
    found = re.search(r"/portal/tickets/(\d+)", landed.url)
    assert found, f"the portal did not show the new ticket: {landed.url}"
    return int(found.group(1))


def test_a_portal_ticket_is_acknowledged_alerted_and_scripted(platform: Platform) -> None:
    platform.set_clock(platform.next_moment(WEDNESDAY, 11))
    owner = owner_signed_in(platform)
    carla = new_customer(owner, "Carla Mendes")
    observer = platform.observer
    observer.wait_for("billing.customer_created.v1", lambda p: p["customer_id"] == carla["id"])

    portal = customer_in_portal(platform, carla["email"])
    ticket_id = open_in_portal(
        portal,
        "Meu site está fora do ar",
        "Desde cedo a loja não abre, aparece erro 500.",
        emergency="site_down",
    )

    opened = observer.wait_for("tickets.ticket_opened.v1", lambda p: p["ticket_id"] == ticket_id)
    assert opened["payload"]["customer_id"] == carla["id"]
    acknowledgement = wait_for_mail(platform.sink, carla["email"], about("Meu site está fora"))
    assert f"T-{ticket_id}-" in str(acknowledgement["Subject"])
    observer.wait_for(
        "notify.notification_sent.v1",
        lambda p: p["source_event_id"] == opened["event_id"] and p["customer_id"] == carla["id"],
    )
    alert = wait_for_mail(platform.sink, OWNER["email"], about("Meu site está fora"))
    assert f"T-{ticket_id}-" in str(alert["Subject"]) + text_of(alert)

    observer.wait_for("training.script_suggested.v1", lambda p: p["ticket_id"] == ticket_id)
    ticket = owner.api("GET", f"/tickets/api/tickets/{ticket_id}")
    assert ticket["suggested_script"]["situation"] == "service_down", ticket
    desk_page = owner.page(f"/tickets/desk/tickets/{ticket_id}")
    assert ticket["suggested_script"]["playbook_id"] in desk_page.text


def test_an_emergency_at_night_goes_at_once_a_routine_ticket_waits_for_the_morning(
    platform: Platform,
) -> None:
    night = platform.next_moment(THURSDAY, 2)
    platform.set_clock(night)
    owner = owner_signed_in(platform)
    rafael = new_customer(owner, "Rafael Teixeira")
    luisa = new_customer(owner, "Luísa Campos")
    observer = platform.observer
    observer.wait_for("billing.customer_created.v1", lambda p: p["customer_id"] == luisa["id"])

    open_in_portal(
        customer_in_portal(platform, luisa["email"]),
        "Dúvida sobre o plano",
        "Queria saber se o meu plano inclui mais caixas de e-mail.",
    )
    emergency = open_in_portal(
        customer_in_portal(platform, rafael["email"]),
        "Site fora do ar agora",
        "O site da clínica caiu e temos consultas marcadas pela manhã.",
        emergency="site_down",
    )
    observer.wait_for("tickets.ticket_opened.v1", lambda p: p["ticket_id"] == emergency)

    wait_for_mail(platform.sink, OWNER["email"], about("Site fora do ar agora"))
    wait_for_mail(platform.sink, rafael["email"], about("Site fora do ar agora"))

    # The routine acknowledgement is held until the company opens at 10:00.
    held = owner.api("GET", f"/notify/api/notifications?customer_id={luisa['id']}")
    acknowledgements = [n for n in held["notifications"] if n["kind"] == "ticket_acknowledged"]
    assert acknowledgements and acknowledgements[0]["status"] == "held", held
    assert acknowledgements[0]["held_until"].startswith(night.date().isoformat())
    assert not [m for m in mails_to(platform.sink, luisa["email"]) if about("Dúvida sobre")(m)]

    platform.set_clock(night.replace(hour=10, minute=1))
    wait_for_mail(platform.sink, luisa["email"], about("Dúvida sobre"), timeout=90)


def test_a_resolution_is_summarised_surveyed_and_its_rating_reaches_desk_and_coaching(
    platform: Platform,
) -> None:
    platform.set_clock(platform.next_moment(WEDNESDAY, 15))
    owner = owner_signed_in(platform)
    marta = new_customer(owner, "Marta Oliveira")
    observer = platform.observer
    observer.wait_for("billing.customer_created.v1", lambda p: p["customer_id"] == marta["id"])
    portal = customer_in_portal(platform, marta["email"])
    ticket_id = open_in_portal(
        portal, "E-mails voltando", "Os e-mails para a loja voltam com erro de caixa cheia."
    )

    reply = owner.api(
        "POST",
        f"/tickets/api/tickets/{ticket_id}/replies",
        {
            "body": "Olá Marta,\n\nObrigada por avisar. A caixa da loja tinha chegado ao "
            "limite; já aumentei o espaço e os e-mails voltaram a chegar. Para não se "
            "repetir, vou avisar quando ela passar de 80 %.\n\nQualquer coisa, estou à "
            "disposição.\nAbraços,\nHelena"
        },
        expect=201,
    )
    assert reply["outcome"] == "sent", reply
    owner.api(
        "POST",
        f"/tickets/api/tickets/{ticket_id}/resolve",
        {
            "cause": "A caixa de e-mail da loja chegou ao limite de espaço.",
            "fix": "Aumentamos o espaço da caixa e os e-mails voltaram a chegar.",
            "prevention": "Um aviso quando a caixa passar de 80 % do espaço.",
        },
    )
    resolved = observer.wait_for(
        "tickets.ticket_resolved.v1", lambda p: p["ticket_id"] == ticket_id
    )
    # The summary carries the cause, fix and prevention, and the survey's link.
    summary = wait_for_mail(platform.sink, marta["email"], lambda m: "80 %" in text_of(m))
    assert f"/portal/tickets/{ticket_id}" in text_of(summary)
    observer.wait_for(
        "notify.notification_sent.v1", lambda p: p["source_event_id"] == resolved["event_id"]
    )

    portal.page(f"/tickets/portal/tickets/{ticket_id}")
    portal.form(
        f"/tickets/portal/tickets/{ticket_id}/rate",
        {"rating": "2", "comment": "Resolveu, mas demorou para responder."},
    )
    observer.wait_for(
        "tickets.ticket_rated.v1", lambda p: p["ticket_id"] == ticket_id and p["rating"] == 2
    )
    assert owner.api("GET", f"/tickets/api/tickets/{ticket_id}")["rating"]["rating"] == 2

    team = owner.api("GET", "/tickets/api/staff")
    helena = next(member for member in team if member["email"] == OWNER["email"])
    coaching = eventually(
        lambda: owner.api("GET", f"/training/api/coaching/{helena['id']}"),
        lambda seen: any(r["ticket_id"] == ticket_id for r in seen["low_ratings"]),
    )
    low = [r for r in coaching["low_ratings"] if r["ticket_id"] == ticket_id]
    assert low[0]["comment"] == "Resolveu, mas demorou para responder.", coaching
