"""The staff desk in a real browser (headless Chromium): the queue and its filters, replying
with the checker's findings as you write, a trainee's reply held for the owner's review,
resolving with cause, fix and prevention, and a maintenance window scheduled for the
customers chosen and called off."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select

from cortesia.embedded import EmbeddedPlatform
from services.tickets import lifecycle
from services.tickets.lifecycle import NewTicket
from services.tickets.models import CustomerReplica
from shared.bus.tables import outbox
from tests.browser.conftest import ARTIFACTS, OWNER_EMAIL, OWNER_NAME, OWNER_PASSWORD

SignIn = Callable[[Page, str, str], None]

ROUTINE = NewTicket(
    subject="Contact form stopped sending emails",
    body="The contact form on our site stopped sending us emails yesterday afternoon.",
    requester_email="marta@padaria.example",
    requester_name="Marta Lima",
    language="en",
    channel="email",
)
BILLING = NewTicket(
    subject="Invoice charged twice this month",
    body="My card shows two charges for the same invoice.",
    requester_email="joao@oficina.example",
    requester_name="João Reis",
    department="billing",
    language="en",
)
EMERGENCY = NewTicket(
    subject="Shop website is down",
    body="Our shop shows an error page instead of the products.",
    requester_email="carla@loja.example",
    requester_name="Carla Dias",
    emergency_kind="site_down",
    language="en",
    channel="phone",
)
RUDE_REPLY = "YOU DELETED THE PLUGIN SETTINGS YOURSELF. READ THE MANUAL!!!"
COURTEOUS_REPLY = (
    "Hi Marta,\n\nThank you for letting us know. The emails stopped because the password "
    "saved in the form plugin was the old one. I updated it and sent a test that arrived. "
    "To prevent it from happening again, our password-change checklist now includes the "
    "plugin.\n\nBest regards,\nAna"
)
TRAINEE_NAME = "Duda Lima"
TRAINEE_EMAIL = "duda@example.com"
TRAINEE_PASSWORD = "a long trainee passphrase"


def open_tickets(platform: EmbeddedPlatform, *requests: NewTicket) -> list[int]:
    """Open the tickets through the desk's service layer, as the email and phone channels
    do; their ids in the order given."""
    with platform.databases["tickets"].transaction() as session:
        return [lifecycle.open_ticket(session, request, "test").id for request in requests]


def test_the_queue_puts_emergencies_first_and_filters_narrow_it(
    served: tuple[EmbeddedPlatform, str], owner: int, sign_in_staff: SignIn, page: Page
) -> None:
    platform, _ = served
    open_tickets(platform, ROUTINE, BILLING, EMERGENCY)

    sign_in_staff(page, OWNER_EMAIL, OWNER_PASSWORD)
    expect(page.get_by_text(f"{OWNER_NAME} (owner)")).to_be_visible()
    rows = page.locator("table.queue tbody tr")
    expect(rows).to_have_count(3)
    expect(rows.first).to_contain_text("EMERGENCY")
    expect(rows.first).to_contain_text(EMERGENCY.subject)
    expect(page.get_by_text("3 tickets.")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk-queue.png"), full_page=True)

    page.get_by_label("Department").select_option("billing")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]department=billing"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(BILLING.subject)
    expect(rows.first).to_contain_text("billing · normal")
    expect(page.get_by_label("Department")).to_have_value("billing")

    page.get_by_label("Department").select_option("")
    page.get_by_label("Search").fill("yesterday")
    page.get_by_role("button", name="Filter").click()
    expect(page).to_have_url(re.compile(r"[?&]q=yesterday"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(ROUTINE.subject)
    expect(rows.first).to_contain_text("Marta Lima")

    page.get_by_label("Search").fill("nothing matches this")
    page.get_by_role("button", name="Filter").click()
    expect(page.get_by_text("Nothing here.")).to_be_visible()
    expect(rows).to_have_count(0)


def test_the_checker_stops_a_rude_reply_and_a_courteous_one_is_sent(
    served: tuple[EmbeddedPlatform, str], owner: int, sign_in_staff: SignIn, page: Page
) -> None:
    platform, base_url = served
    (ticket_id,) = open_tickets(platform, ROUTINE)
    sign_in_staff(page, OWNER_EMAIL, OWNER_PASSWORD)
    page.get_by_role("link", name=f"#{ticket_id} {ROUTINE.subject}").click()
    expect(page.get_by_role("heading", name=f"#{ticket_id} {ROUTINE.subject}")).to_be_visible()

    reply = page.get_by_label("Your reply to Marta Lima")
    findings = page.locator("#findings")
    reply.fill(RUDE_REPLY)
    shouting = findings.locator("p.finding-block").filter(has_text="P-POLITE:shouting").first
    expect(shouting).to_be_visible()
    expect(shouting).to_contain_text("This reads as shouting")
    expect(shouting.get_by_role("link", name="lesson")).to_have_attribute(
        "href", "/training/playbooks/p-polite"
    )
    expect(findings.locator("p.finding-warn").filter(has_text="P-POLITE:greeting")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk-ticket-findings.png"), full_page=True)

    page.get_by_role("button", name="Send reply").click()
    expect(page.get_by_role("alert")).to_contain_text("The reply was not sent: fix what blocks it")
    expect(reply).to_have_value(RUDE_REPLY)
    expect(findings).to_contain_text("P-POLITE:shouting")
    conversation = page.get_by_role("region", name="Conversation")
    expect(conversation.locator("article.msg-staff")).to_have_count(0)

    reply.fill(COURTEOUS_REPLY)
    expect(findings.locator("p")).to_have_count(0)
    page.get_by_role("button", name="Send reply").click()
    expect(page).to_have_url(f"{base_url}/tickets/desk/tickets/{ticket_id}")
    expect(page.get_by_role("status").filter(has_text="Reply sent.")).to_be_visible()
    sent = conversation.locator("article.msg-staff")
    expect(sent).to_have_count(1)
    expect(sent).to_contain_text("our password-change checklist now includes the plugin")
    expect(sent).to_contain_text(OWNER_NAME)
    expect(page.locator("h1 + p .status")).to_have_text("waiting")


def test_a_trainees_reply_waits_for_the_owners_approval(
    served: tuple[EmbeddedPlatform, str],
    owner: int,
    sign_in_staff: SignIn,
    emailed_link: Callable[[str, str], str],
    browser: Browser,
    page: Page,
) -> None:
    platform, base_url = served
    (ticket_id,) = open_tickets(platform, ROUTINE)
    sign_in_staff(page, OWNER_EMAIL, OWNER_PASSWORD)
    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("heading", name="Staff", exact=True)).to_be_visible()
    adding = page.locator("section", has=page.get_by_role("heading", name="Add someone"))
    adding.get_by_label("Name").fill(TRAINEE_NAME)
    adding.get_by_label("Email").fill(TRAINEE_EMAIL)
    adding.get_by_label("Role").select_option("trainee")
    adding.get_by_role("button", name="Add and email the password link").click()
    expect(page.get_by_role("status")).to_contain_text(f"{TRAINEE_NAME} is added")
    expect(page.get_by_role("row", name=TRAINEE_NAME)).to_contain_text("trainee")

    trainee_context = browser.new_context()
    try:
        trainee = trainee_context.new_page()
        trainee.goto(emailed_link("tickets.password_link_requested.v1", TRAINEE_EMAIL))
        expect(trainee.get_by_role("heading", name="Choose your password")).to_be_visible()
        trainee.get_by_label("Password (at least 12 characters)").fill(TRAINEE_PASSWORD)
        trainee.get_by_label("Repeat it").fill(TRAINEE_PASSWORD)
        trainee.get_by_role("button", name="Set password and sign in").click()
        expect(trainee.get_by_role("status")).to_contain_text("Your password is set.")
        expect(trainee.get_by_text(f"{TRAINEE_NAME} (trainee)")).to_be_visible()

        trainee.get_by_role("link", name=f"#{ticket_id} {ROUTINE.subject}").click()
        trainee.get_by_label("Your reply to Marta Lima").fill(COURTEOUS_REPLY)
        trainee.get_by_role("button", name="Send reply").click()
        expect(trainee.get_by_role("status")).to_contain_text(
            "Your reply waits for review before it goes to the customer."
        )
        held = trainee.locator("article.msg-held")
        expect(held).to_contain_text("held for review")
        expect(held).to_contain_text("our password-change checklist now includes the plugin")

        page.get_by_role("link", name="Queue").click()
        page.get_by_role("link", name="1 reply waiting for your review").click()
        expect(page).to_have_url(f"{base_url}/tickets/desk/reviews")
        waiting = page.locator("article").filter(has_text=f"#{ticket_id} {ROUTINE.subject}")
        expect(waiting).to_contain_text(TRAINEE_NAME)
        expect(waiting.get_by_label("The reply (edit before approving if needed)")).to_have_value(
            COURTEOUS_REPLY
        )
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "desk-reviews.png"), full_page=True)
        waiting.get_by_role("button", name="Approve and send").click()
        expect(page.get_by_role("status")).to_contain_text(
            "Approved: the reply went to the customer."
        )
        expect(page.get_by_text("Nothing waits for review.")).to_be_visible()

        trainee.reload()
        sent = trainee.locator("article.msg-staff")
        expect(sent).to_contain_text(TRAINEE_NAME)
        expect(sent).to_contain_text("our password-change checklist now includes the plugin")
        expect(sent).not_to_contain_text("held for review")
        expect(trainee.locator("article.msg-held")).to_have_count(0)
        expect(trainee.locator("h1 + p .status")).to_have_text("waiting")
    finally:
        trainee_context.close()


def test_resolving_needs_cause_fix_and_prevention(
    served: tuple[EmbeddedPlatform, str], owner: int, sign_in_staff: SignIn, page: Page
) -> None:
    platform, base_url = served
    (ticket_id,) = open_tickets(platform, ROUTINE)
    sign_in_staff(page, OWNER_EMAIL, OWNER_PASSWORD)
    page.goto(f"{base_url}/tickets/desk/tickets/{ticket_id}")
    resolve = page.get_by_role("button", name="Resolve and send the summary and survey")

    page.get_by_label("What caused it").fill("The form plugin kept the old mailbox password.")
    page.get_by_label("What fixed it").fill("Saved the new password in the plugin.")
    resolve.click()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("(P-RESOLVE): prevention missing.")
    expect(page.get_by_role("heading", name="Resolution", exact=True)).to_have_count(0)

    page.get_by_label("What caused it").fill("The form plugin kept the old mailbox password.")
    page.get_by_label("What fixed it").fill("Saved the new password in the plugin.")
    page.get_by_label("What keeps it from happening again").fill(
        "The password-change checklist now includes the form plugin."
    )
    resolve.click()
    expect(page).to_have_url(f"{base_url}/tickets/desk/tickets/{ticket_id}")
    expect(page.get_by_role("status").filter(has_text="Resolved:")).to_contain_text(
        "the customer gets the summary and the survey"
    )
    summary = page.locator("section", has=page.get_by_role("heading", name="Resolution"))
    expect(summary).to_contain_text("Cause: The form plugin kept the old mailbox password.")
    expect(summary).to_contain_text("Fix: Saved the new password in the plugin.")
    expect(summary).to_contain_text(
        "Prevention: The password-change checklist now includes the form plugin."
    )
    expect(page.locator("h1 + p .status")).to_have_text("resolved")
    expect(resolve).to_have_count(0)


def test_a_maintenance_window_is_scheduled_for_the_customers_chosen_and_called_off(
    served: tuple[EmbeddedPlatform, str], owner: int, sign_in_staff: SignIn, page: Page
) -> None:
    platform, base_url = served
    tickets = platform.databases["tickets"]
    with tickets.transaction() as session:
        for customer_id, name, email in (
            (5, "Carla Dias", "carla@loja.example"),
            (6, "Marta Lima", "marta@padaria.example"),
            (7, "João Reis", "joao@oficina.example"),
        ):
            session.add(
                CustomerReplica(
                    customer_id=customer_id,
                    name=name,
                    email=email,
                    language="pt-BR",
                    timezone="America/Sao_Paulo",
                )
            )
    company = ZoneInfo("America/Sao_Paulo")
    starts = (
        (datetime.now(UTC) + timedelta(days=3))
        .astimezone(company)
        .replace(hour=23, minute=0, second=0, microsecond=0)
    )
    sign_in_staff(page, OWNER_EMAIL, OWNER_PASSWORD)
    page.get_by_role("link", name="Maintenance", exact=True).click()
    expect(page.get_by_role("heading", name="Maintenance windows")).to_be_visible()
    expect(page.get_by_text("No maintenance scheduled.")).to_be_visible()

    page.get_by_label("Title (what customers read first)").fill("Mail server upgrade")
    page.get_by_label("Details (what changes").fill("Incoming mail waits in the queue.")
    page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("Ends").fill((starts + timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"))
    warning = page.locator("#short-notice")
    expect(warning).to_be_hidden()
    search = page.get_by_label("Search customers")
    search.fill("padaria")
    search.press("Enter")  # narrows the list; the half-written form is not sent
    expect(page.get_by_label("Carla Dias")).to_be_hidden()
    page.get_by_label("Marta Lima").check()
    search.fill("carla")
    page.get_by_role("button", name="Choose all shown").click()
    expect(page.get_by_text("2 chosen")).to_be_visible()
    search.fill("")
    expect(page.get_by_label("João Reis")).not_to_be_checked()

    soon = datetime.now(UTC).astimezone(company) + timedelta(hours=6)
    page.get_by_label("Starts").fill(soon.strftime("%Y-%m-%dT%H:%M"))
    expect(warning).to_be_visible()
    expect(warning).to_contain_text("notify tells the customers at once")
    page.get_by_label("Starts").fill(starts.strftime("%Y-%m-%dT%H:%M"))
    expect(warning).to_be_hidden()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk-maintenance.png"), full_page=True)

    page.get_by_role("button", name="Schedule and announce").click()
    expect(page).to_have_url(f"{base_url}/tickets/desk/maintenance")
    expect(
        page.get_by_role("status").filter(has_text="Scheduled: Mail server upgrade.")
    ).to_be_visible()
    window = page.locator("article.maintenance-window", has_text="Mail server upgrade")
    expect(window).to_contain_text(starts.strftime("%d/%m/%Y %H:%M"))
    expect(window).to_contain_text("2 customers affected")
    expect(window).to_contain_text("Carla Dias")
    expect(window).to_contain_text("Marta Lima")
    expect(window).not_to_contain_text("João Reis")
    with tickets.transaction() as session:
        (scheduled,) = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == "tickets.maintenance_scheduled.v1")
        ).scalars()
    assert json.loads(scheduled)["payload"]["customer_ids"] == [5, 6]

    window.get_by_role("button", name="Call off").click()
    expect(page.get_by_role("status")).to_contain_text("Called off: Mail server upgrade.")
    expect(window).to_contain_text("called off")
    expect(window.get_by_role("button", name="Call off")).to_have_count(0)
