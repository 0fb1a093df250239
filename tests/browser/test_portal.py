"""The customer portal in a real browser (headless Chromium): sign in by the emailed link,
open a request, follow it to its resolution and rate it; in the customer's own language."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Browser, Page, expect

from cortesia.embedded import EmbeddedPlatform
from services.tickets import clocks, lifecycle, resolution
from services.tickets.models import CustomerReplica, StaffMember
from tests.browser.conftest import ARTIFACTS, OWNER_EMAIL, OWNER_PASSWORD

SignIn = Callable[[Page, str, str], None]
EmailedLink = Callable[[str, str], str]
PORTAL_LINK = "tickets.portal_link_requested.v1"
TICKET_PATH = re.compile(r"/tickets/portal/tickets/(\d+)$")


def resolve_at_the_desk(
    served: tuple[EmbeddedPlatform, str],
    ticket_id: int,
    staff_id: int,
    *,
    cause: str,
    fix: str,
    prevention: str,
) -> None:
    """Staff resolve the ticket through the desk's service layer."""
    platform, base_url = served
    with platform.databases["tickets"].transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        staff = session.get(StaffMember, staff_id)
        assert staff is not None
        resolution.resolve(
            session,
            ticket,
            staff,
            cause=cause,
            fix=fix,
            prevention=prevention,
            survey_url=f"{base_url}/tickets/portal/tickets/{ticket_id}#rate",
            sla_outcome=clocks.resolution_outcome(session),
        )


def ticket_id_of(page: Page) -> int:
    """The id in the portal ticket page's address."""
    expect(page).to_have_url(TICKET_PATH)
    found = TICKET_PATH.search(page.url)
    assert found is not None
    return int(found.group(1))


def test_a_customer_signs_in_by_link_opens_a_request_and_rates_its_resolution(
    served: tuple[EmbeddedPlatform, str],
    owner: int,
    sign_in_staff: SignIn,
    emailed_link: EmailedLink,
    browser: Browser,
    page: Page,
) -> None:
    _, base_url = served
    customer_context = browser.new_context(locale="en-US")
    try:
        customer = customer_context.new_page()
        customer.goto(base_url + "/tickets/portal/")
        expect(
            customer.get_by_role("heading", name="Sign in to follow your requests")
        ).to_be_visible()
        customer.get_by_label("Your email address").fill("Marta@Padaria.example")
        customer.get_by_role("button", name="Email me a sign-in link").click()
        expect(customer.get_by_role("heading", name="Check your inbox")).to_be_visible()
        expect(customer.get_by_role("status")).to_contain_text("The link works once")

        customer.goto(emailed_link(PORTAL_LINK, "marta@padaria.example"))
        expect(customer).to_have_url(f"{base_url}/tickets/portal/")
        expect(customer.get_by_role("heading", name="Your requests")).to_be_visible()
        expect(customer.get_by_text("Signed in as marta@padaria.example")).to_be_visible()
        expect(customer.get_by_text("You have no requests yet.")).to_be_visible()

        customer.get_by_role("link", name="Open a new request").click()
        customer.get_by_label("Subject").fill("Contact form stopped sending emails")
        customer.get_by_label("Describe what is happening").fill(
            "Since yesterday the contact form on padaria.example sends us nothing."
        )
        expect(customer.get_by_label("No, it is not an emergency")).to_be_checked()
        customer.get_by_role("button", name="Send request").click()
        ticket_id = ticket_id_of(customer)
        expect(customer.get_by_role("status")).to_contain_text("We received your request.")
        expect(
            customer.get_by_role("heading", name="Contact form stopped sending emails")
        ).to_be_visible()
        expect(customer.locator("h1 + p .status")).to_have_text("Received")

        customer.get_by_role("link", name="Back to your requests").click()
        request = customer.locator("ul.tickets li")
        expect(request).to_have_count(1)
        expect(request).to_contain_text("Contact form stopped sending emails")
        expect(request).to_contain_text("Received")

        resolve_at_the_desk(
            served,
            ticket_id,
            owner,
            cause="The form plugin kept the old mailbox password.",
            fix="We saved the new password in the plugin and sent a test that arrived.",
            prevention="Our password-change checklist now includes the form plugin.",
        )
        customer.reload()
        expect(request).to_contain_text("Resolved")
        request.get_by_role("link", name="Contact form stopped sending emails").click()
        solved = customer.get_by_role("region", name="How we solved it")
        expect(solved).to_contain_text("The form plugin kept the old mailbox password.")
        expect(solved).to_contain_text(
            "Our password-change checklist now includes the form plugin."
        )

        rating = customer.get_by_role("region", name="How did we do?")
        rating.get_by_label("4 · Good").check()
        rating.get_by_label("Anything else you would like to tell us?").fill(
            "Quick and clear, thank you."
        )
        rating.get_by_role("button", name="Send rating").click()
        expect(customer).to_have_url(f"{base_url}/tickets/portal/tickets/{ticket_id}#rate")
        expect(customer.get_by_role("status")).to_contain_text("Thank you for your rating!")
        expect(rating).to_contain_text("Your rating: 4/5 · Good")
        expect(rating.get_by_role("button", name="Change your rating")).to_be_visible()
        ARTIFACTS.mkdir(exist_ok=True)
        customer.screenshot(path=str(ARTIFACTS / "portal-ticket.png"), full_page=True)
    finally:
        customer_context.close()

    sign_in_staff(page, OWNER_EMAIL, OWNER_PASSWORD)
    page.goto(f"{base_url}/tickets/desk/tickets/{ticket_id}")
    expect(page.get_by_text("Rated 4 of 5: “Quick and clear, thank you.”")).to_be_visible()


def test_a_customer_billing_knows_in_spanish_reads_the_portal_in_spanish(
    served: tuple[EmbeddedPlatform, str],
    owner: int,
    emailed_link: EmailedLink,
    browser: Browser,
) -> None:
    platform, base_url = served
    with platform.databases["tickets"].transaction() as session:
        session.add(
            CustomerReplica(
                customer_id=7,
                name="Lucía Pérez",
                email="lucia@tienda.example",
                language="es",
                timezone="America/Argentina/Buenos_Aires",
            )
        )
    customer_context = browser.new_context(locale="en-US")
    try:
        customer = customer_context.new_page()
        customer.goto(base_url + "/tickets/portal/")
        customer.get_by_label("Your email address").fill("lucia@tienda.example")
        customer.get_by_role("button", name="Email me a sign-in link").click()
        expect(customer.get_by_role("heading", name="Check your inbox")).to_be_visible()

        customer.goto(emailed_link(PORTAL_LINK, "lucia@tienda.example"))
        expect(customer.get_by_role("heading", name="Sus solicitudes")).to_be_visible()
        expect(customer.locator("html")).to_have_attribute("lang", "es")
        customer.get_by_role("link", name="Abrir una solicitud").click()
        customer.get_by_label("Asunto").fill("No llegan los correos de la tienda")
        customer.get_by_label("Describa lo que está pasando").fill(
            "Desde esta mañana no recibimos ningún correo en ventas@tienda.example."
        )
        customer.get_by_label("Mi correo dejó de funcionar").check()
        customer.get_by_role("button", name="Enviar solicitud").click()
        ticket_id = ticket_id_of(customer)
        expect(customer.get_by_role("status")).to_contain_text("Recibimos su solicitud.")
        expect(customer.locator("h1 + p .status")).to_have_text("Recibida")
        with platform.databases["tickets"].transaction() as session:
            ticket = lifecycle.get_ticket(session, ticket_id)
            assert (ticket.language, ticket.customer_id) == ("es", 7)
            assert (ticket.emergency, ticket.emergency_kind) == (True, "email_down")

        resolve_at_the_desk(
            served,
            ticket_id,
            owner,
            cause="El buzón de ventas llegó al límite de espacio.",
            fix="Ampliamos el buzón y los correos retenidos se entregaron.",
            prevention="Ahora le avisamos cuando el buzón llegue al 80 %.",
        )
        customer.reload()
        expect(customer.locator("h1 + p .status")).to_have_text("Resuelta")
        solved = customer.get_by_role("region", name="Cómo lo resolvimos")
        expect(solved).to_contain_text("Ampliamos el buzón y los correos retenidos se entregaron.")
        rating = customer.get_by_role("region", name="¿Qué le pareció nuestra atención?")
        rating.get_by_label("4 · Buena").check()
        rating.get_by_label("¿Quiere contarnos algo más?").fill("Muy amables, gracias.")
        rating.get_by_role("button", name="Enviar valoración").click()
        expect(customer.get_by_role("status")).to_contain_text("¡Gracias por su valoración!")
        expect(rating).to_contain_text("Su valoración: 4/5 · Buena")
        ARTIFACTS.mkdir(exist_ok=True)
        customer.screenshot(path=str(ARTIFACTS / "portal-ticket-es.png"), full_page=True)

        customer.get_by_role("navigation", name="Idioma").get_by_role(
            "link", name="English"
        ).click()
        expect(customer).to_have_url(f"{base_url}/tickets/portal/tickets/{ticket_id}")
        expect(customer.get_by_role("region", name="How did we do?")).to_contain_text(
            "Your rating: 4/5 · Good"
        )
        expect(customer.locator("html")).to_have_attribute("lang", "en")
    finally:
        customer_context.close()
