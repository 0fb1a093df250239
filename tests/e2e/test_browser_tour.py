"""A day at the company in a real browser (headless Chromium), through the gateway of the
distributed platform: the owner signs in and adds an agent and a trainee, who choose
their passwords from the emailed links; a customer opens a request in the portal; the
agent filters the queue, writes a reply the checker stops, sends the corrected one and
resolves with cause, fix and prevention; the customer rates it; a customer suspended for
an unpaid invoice is reactivated on the one grace from the desk and billing shows it; the
trainee reads a lesson and passes its quiz; the owner reads the dashboards.

Each main page is saved as a screenshot in ``test-artifacts/tour/``.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import yaml
from playwright.sync_api import Browser, BrowserContext, Page, expect

from shared.testing.chromium import system_chromium
from tests.e2e.harness import (
    OWNER,
    Platform,
    customer_in_portal,
    mails_to,
    owner_signed_in,
    portal_link_after,
    text_of,
    wait_for_mail,
)

pytestmark = [
    pytest.mark.rabbitmq,
    pytest.mark.postgres,
    # Once, against the package's distributed platform (gunicorn behind the gateway).
    pytest.mark.parametrize("platform", ["distributed"], indirect=True),
]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "tour"
LESSON = ROOT / "services" / "training" / "playbooks" / "lessons" / "p-resolve.yaml"
SAO_PAULO = ZoneInfo("America/Sao_Paulo")
WEDNESDAY = 2
PASSWORD = "a long day at the desk"
UI_WAIT_MS = 30_000

RUDE_REPLY = "YOU CHANGED THE PASSWORD YOURSELF. READ THE MANUAL!!!"
COURTEOUS_REPLY = (
    "Hi Marta,\n\nThank you for letting us know. The form stopped sending because the "
    "password saved in its plugin was still the old one. I updated it and sent a test "
    "that arrived. To keep it from happening again, our password-change checklist now "
    "includes the form plugin.\n\nBest regards,\nRafael"
)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with system_chromium() as launched:
        yield launched


class Tour:
    """The people of the tour, each in a browser context of their own on the one origin."""

    def __init__(self, platform: Platform, chromium: Browser) -> None:
        self.platform = platform
        self.chromium = chromium
        self.contexts: list[BrowserContext] = []
        self.shots: list[Path] = []
        SHOTS.mkdir(parents=True, exist_ok=True)

    def person(self, locale: str = "en-US") -> Page:
        context = self.chromium.new_context(
            base_url=self.platform.url, locale=locale, viewport={"width": 1280, "height": 800}
        )
        context.set_default_timeout(UI_WAIT_MS)
        self.contexts.append(context)
        return context.new_page()

    def shot(self, page: Page, name: str) -> None:
        path = SHOTS / f"{len(self.shots) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.shots.append(path)

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def tour(platform: Platform, chromium: Browser) -> Iterator[Tour]:
    started = Tour(platform, chromium)
    yield started
    started.close()


# -- what the tour needs before the day starts ------------------------------------------


def company_today(platform: Platform) -> date:
    return platform.now().astimezone(SAO_PAULO).date()


def suspended_customer(platform: Platform, owner: Any, token: str) -> dict[str, Any]:
    """A customer whose renewal went unpaid: subscribed today, then the clock moves past
    the due date and the suspension day, and billing's day is run as a rehearsal does."""
    plan = owner.api(
        "POST",
        "/billing/api/plans",
        {
            "code": f"essencial-{token}",
            "name": "Hospedagem Essencial",
            "cycle": "monthly",
            "price_minor": 3990,
            "currency": "BRL",
        },
        expect=201,
    )
    customer = owner.api(
        "POST",
        "/billing/api/customers",
        {"name": "Livraria Sebo do Largo", "email": f"otavio.{token}@sebodolargo.example"},
        expect=201,
    )
    subscription = owner.api(
        "POST",
        "/billing/api/subscriptions",
        {
            "customer_id": customer["id"],
            "plan_id": plan["id"],
            "start": str(company_today(platform)),
        },
        expect=201,
    )
    due = date.fromisoformat(subscription["current_period_end"])
    # Suspension comes five days after the due date, on a business day, warned one
    # business day before: a week and a bit later is past both.
    after = datetime(due.year, due.month, due.day, 6, tzinfo=SAO_PAULO) + timedelta(days=9)
    platform.set_clock(after)
    # Billing's own schedule follows the clock: the days are billed as they arrive.
    platform.set_clock(platform.next_moment(WEDNESDAY, 10))
    platform.observer.wait_for(
        "billing.account_suspended.v1", lambda p: p["customer_id"] == customer["id"]
    )
    return {**customer, "plan": plan, "subscription": subscription}


def staff_password_link(platform: Platform, email: str) -> str:
    mail = wait_for_mail(platform.sink, email, lambda m: "/tickets/password/" in text_of(m))
    found = re.search(r"https?://\S+/tickets/password/\S+", text_of(mail))
    assert found, text_of(mail)
    return found.group(0).replace(platform.url, "")


def is_customer(customer_id: int) -> Callable[[dict[str, Any]], bool]:
    return lambda payload: bool(payload["customer_id"] == customer_id)


# -- the steps ---------------------------------------------------------------------------


def staff_signs_in(page: Page, email: str, password: str) -> None:
    page.goto("/tickets/login")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


def owner_adds(page: Page, name: str, email: str, role: str) -> None:
    page.get_by_role("link", name="Staff", exact=True).click()
    expect(page.get_by_role("heading", name="Staff", exact=True)).to_be_visible()
    adding = page.locator("section", has=page.get_by_role("heading", name="Add someone"))
    adding.get_by_label("Name").fill(name)
    adding.get_by_label("Email").fill(email)
    adding.get_by_label("Role").select_option(role)
    adding.get_by_role("button", name="Add and email the password link").click()
    expect(page.get_by_role("status")).to_contain_text(f"{name} is added")
    expect(page.get_by_role("row", name=name)).to_contain_text(role)


def chooses_password(tour: Tour, page: Page, email: str, role: str, name: str) -> None:
    page.goto(staff_password_link(tour.platform, email))
    expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    page.get_by_label("Password (at least 12 characters)").fill(PASSWORD)
    page.get_by_label("Repeat it").fill(PASSWORD)
    page.get_by_role("button", name="Set password and sign in").click()
    expect(page.get_by_role("status")).to_contain_text("Your password is set.")
    expect(page.get_by_text(f"{name} ({role})")).to_be_visible()


def reload_until(page: Page, locator: Any, text: str, seconds: float = 60) -> None:
    """Reload until ``locator`` shows ``text``: what another service tells arrives by the bus."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            expect(locator).to_contain_text(text, timeout=1_000)
            return
        except AssertionError:
            if time.monotonic() > deadline:
                raise
            page.reload()


def test_a_day_at_the_company_through_the_gateway(platform: Platform, tour: Tour) -> None:
    token = uuid.uuid4().hex[:6]
    owner_api = owner_signed_in(platform)
    otavio = suspended_customer(platform, owner_api, token)
    marta = owner_api.api(
        "POST",
        "/billing/api/customers",
        {"name": "Marta Lima", "email": f"marta.{token}@padaria.example", "language": "en"},
        expect=201,
    )
    # Marta pays her first month ahead: the reserve report has a payment to show.
    owner_api.api(
        "POST",
        "/billing/api/payments",
        {"customer_id": marta["id"], "amount_minor": 8990, "currency": "BRL", "method": "pix"},
        expect=201,
    )
    for known in (otavio["id"], marta["id"]):
        platform.observer.wait_for("billing.customer_created.v1", is_customer(known))
    # Otávio writes to billing about his suspended site (from the portal, in Portuguese).
    otavio_portal = customer_in_portal(platform, otavio["email"])
    otavio_portal.page("/tickets/portal/tickets/new")
    landed = otavio_portal.form(
        "/tickets/portal/tickets/new",
        {
            "subject": "Site suspenso, quero regularizar",
            "description": "Meu site saiu do ar por causa da fatura. Consigo pagar até sexta.",
            "department": "billing",
        },
    )
    otavio_ticket = int(re.search(r"/portal/tickets/(\d+)", landed.url).group(1))  # type: ignore[union-attr]

    # 1. Marta opens a request in the portal, signed in by the link in her email.
    customer = tour.person()
    customer.goto("/tickets/portal/")
    expect(customer.get_by_role("heading", name="Sign in to follow your requests")).to_be_visible()
    before = len(mails_to(platform.sink, marta["email"]))
    customer.get_by_label("Your email address").fill(marta["email"])
    customer.get_by_role("button", name="Email me a sign-in link").click()
    expect(customer.get_by_role("heading", name="Check your inbox")).to_be_visible()
    customer.goto(portal_link_after(platform, marta["email"], before))
    expect(customer.get_by_role("heading", name="Your requests")).to_be_visible()
    expect(customer.get_by_text(f"Signed in as {marta['email']}")).to_be_visible()
    customer.get_by_role("link", name="Open a new request").click()
    customer.get_by_label("Subject").fill("Contact form stopped sending emails")
    customer.get_by_label("Describe what is happening").fill(
        "Since yesterday the contact form on our bakery's site sends us nothing."
    )
    expect(customer.get_by_label("No, it is not an emergency")).to_be_checked()
    customer.get_by_role("button", name="Send request").click()
    expect(customer).to_have_url(re.compile(r"/tickets/portal/tickets/\d+$"))
    marta_ticket = int(customer.url.rsplit("/", 1)[1])
    expect(customer.get_by_role("status")).to_contain_text("We received your request.")
    expect(customer.locator("h1 + p .status")).to_have_text("Received")
    tour.shot(customer, "portal-new-request")

    # 2. The owner signs in, sees the queue and adds an agent and a trainee.
    owner = tour.person()
    staff_signs_in(owner, OWNER["email"], OWNER["password"])
    expect(owner.get_by_text(f"{OWNER['name']} (owner)")).to_be_visible()
    tour.shot(owner, "owner-queue")
    rafael_email = f"rafael.{token}@cortesia.example"
    camila_email = f"camila.{token}@cortesia.example"
    owner_adds(owner, "Rafael Nogueira", rafael_email, "agent")
    owner_adds(owner, "Camila Ferraz", camila_email, "trainee")
    tour.shot(owner, "owner-staff")

    # 3. The agent chooses a password from the emailed link and lands on the queue.
    agent = tour.person()
    chooses_password(tour, agent, rafael_email, "agent", "Rafael Nogueira")
    queue = agent.locator("table.queue tbody tr")
    marta_row = queue.filter(has_text="Contact form stopped sending emails")
    otavio_row = queue.filter(has_text="Site suspenso, quero regularizar")
    expect(marta_row).to_have_count(1)
    expect(otavio_row).to_have_count(1)
    expect(otavio_row).to_contain_text("billing · normal")

    agent.get_by_label("Department").select_option("billing")
    agent.get_by_role("button", name="Filter").click()
    expect(agent).to_have_url(re.compile(r"[?&]department=billing"))
    expect(otavio_row).to_have_count(1)
    expect(marta_row).to_have_count(0)
    agent.get_by_label("Department").select_option("")
    agent.get_by_label("Search").fill("bakery")
    agent.get_by_role("button", name="Filter").click()
    expect(agent).to_have_url(re.compile(r"[?&]q=bakery"))
    expect(marta_row).to_have_count(1)
    expect(otavio_row).to_have_count(0)
    expect(marta_row).to_contain_text("Marta Lima")
    tour.shot(agent, "agent-queue-filtered")

    # 4. A reply the checker stops, with why and the lesson; the corrected one is sent.
    agent.get_by_role("link", name=f"#{marta_ticket} Contact form stopped sending emails").click()
    aside = agent.get_by_role("region", name="Customer")
    expect(aside).to_contain_text("Marta Lima")
    expect(aside).to_contain_text("Billing: active")
    reply = agent.get_by_label("Your reply to Marta Lima")
    findings = agent.locator("#findings")
    reply.fill(RUDE_REPLY)
    shouting = findings.locator("p.finding-block").filter(has_text="P-POLITE:shouting").first
    expect(shouting).to_contain_text("This reads as shouting")
    expect(shouting.locator("span.muted")).not_to_be_empty()
    expect(shouting.get_by_role("link", name="lesson")).to_have_attribute(
        "href", "/training/playbooks/p-polite"
    )
    expect(findings.locator("p.finding-warn").filter(has_text="P-POLITE:greeting")).to_be_visible()
    tour.shot(agent, "agent-reply-findings")
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.get_by_role("alert")).to_contain_text("The reply was not sent: fix what blocks it")
    conversation = agent.get_by_role("region", name="Conversation")
    expect(conversation.locator("article.msg-staff")).to_have_count(0)

    reply.fill(COURTEOUS_REPLY)
    expect(findings.locator("p")).to_have_count(0)
    agent.get_by_role("button", name="Send reply").click()
    expect(agent.get_by_role("status").filter(has_text="Reply sent.")).to_be_visible()
    expect(conversation.locator("article.msg-staff")).to_contain_text("Rafael Nogueira")
    expect(agent.locator("h1 + p .status")).to_have_text("waiting")

    # 5. Resolving needs cause, fix and prevention.
    resolve = agent.get_by_role("button", name="Resolve and send the summary and survey")
    agent.get_by_label("What caused it").fill("The form plugin kept the old mailbox password.")
    agent.get_by_label("What fixed it").fill("Saved the new password in the plugin.")
    resolve.click()
    expect(agent.get_by_role("alert")).to_contain_text("(P-RESOLVE): prevention missing.")
    agent.get_by_label("What caused it").fill("The form plugin kept the old mailbox password.")
    agent.get_by_label("What fixed it").fill("Saved the new password in the plugin.")
    agent.get_by_label("What keeps it from happening again").fill(
        "The password-change checklist now includes the form plugin."
    )
    resolve.click()
    expect(agent.get_by_role("status").filter(has_text="Resolved:")).to_be_visible()
    summary = agent.locator("section", has=agent.get_by_role("heading", name="Resolution"))
    expect(summary).to_contain_text("Prevention: The password-change checklist now includes")
    expect(agent.locator("h1 + p .status")).to_have_text("resolved")
    tour.shot(agent, "agent-ticket-resolved")

    # 6. Marta reads how it was solved and rates it; the desk sees the rating.
    customer.reload()
    expect(customer.locator("h1 + p .status")).to_have_text("Resolved")
    solved = customer.get_by_role("region", name="How we solved it")
    expect(solved).to_contain_text("The form plugin kept the old mailbox password.")
    rating = customer.get_by_role("region", name="How did we do?")
    rating.get_by_label("4 · Good").check()
    rating.get_by_label("Anything else you would like to tell us?").fill("Quick and clear, thanks.")
    rating.get_by_role("button", name="Send rating").click()
    expect(customer.get_by_role("status")).to_contain_text("Thank you for your rating!")
    expect(rating).to_contain_text("Your rating: 4/5 · Good")
    tour.shot(customer, "portal-rated")
    agent.reload()
    expect(agent.get_by_text("Rated 4 of 5: “Quick and clear, thanks.”")).to_be_visible()

    # 7. The suspended customer's billing page: overdue, suspended, the grace unused.
    owner.goto(f"/billing/customers/{otavio['id']}")
    expect(owner.get_by_role("heading", name="Livraria Sebo do Largo")).to_be_visible()
    subscriptions = owner.locator(".card", has=owner.get_by_role("heading", name="Subscriptions"))
    expect(subscriptions).to_contain_text("suspended (non payment)")
    invoices = owner.locator(".card", has=owner.get_by_role("heading", name="Invoices"))
    expect(invoices).to_contain_text("(overdue)")
    expect(owner.get_by_text("The one-time grace has not been used.")).to_be_visible()
    expect(owner.locator("ol.timeline")).to_contain_text("Suspended Hospedagem Essencial")
    expect(owner.get_by_role("heading", name="Reactivate with a grace")).to_be_visible()
    tour.shot(owner, "billing-suspended-customer")

    # 8. The desk asks for the one grace, showing before the click that it is unused.
    agent.goto(f"/tickets/desk/tickets/{otavio_ticket}")
    aside = agent.get_by_role("region", name="Customer")
    expect(aside).to_contain_text("Billing: suspended")
    expect(aside).to_contain_text("One-time grace (P-ONE-GRACE): not used yet")
    reactivation = agent.locator("#reactivation")
    expect(reactivation).to_contain_text("This is the customer's one grace")
    tour.shot(agent, "agent-reactivation-request")
    pay_by = company_today(platform) + timedelta(days=2)
    reactivation.get_by_label("The customer will pay by").fill(pay_by.isoformat())
    reactivation.get_by_label("Note").fill("Pays by Pix on Friday.")
    reactivation.get_by_role("button", name="Ask billing to reactivate").click()
    expect(agent.get_by_role("status")).to_contain_text("Asked billing to reactivate the account")
    platform.observer.wait_for(
        "billing.account_reactivated.v1", lambda p: p["customer_id"] == otavio["id"]
    )
    reload_until(agent, aside, "already used on")
    expect(aside).to_contain_text("Billing: active")
    expect(agent.locator("#reactivation")).to_have_count(0)

    owner.reload()
    expect(subscriptions).to_contain_text("active")
    used = re.compile(rf"One-time grace used on .* \(pay by {pay_by}\)")
    expect(owner.get_by_text(used)).to_be_visible()
    expect(owner.get_by_role("heading", name="Reactivate with a grace")).to_have_count(0)
    tour.shot(owner, "billing-after-grace")

    # 9. The trainee chooses a password, reads a lesson and passes its quiz.
    trainee = tour.person()
    chooses_password(tour, trainee, camila_email, "trainee", "Camila Ferraz")
    trainee.goto("/training/learn/")
    reload_until(trainee, trainee.locator("main"), "Replies held for review: 100%")
    expect(trainee.get_by_role("heading", name="Your onboarding path")).to_be_visible()
    tour.shot(trainee, "trainee-path")
    trainee.get_by_role("link", name="Cause, fix, prevention").first.click()
    expect(trainee.get_by_role("heading", name="Cause, fix, prevention")).to_be_visible()
    trainee.get_by_role("button", name="I have read this lesson").click()
    expect(trainee.get_by_text("✓ I have read this lesson")).to_be_visible()
    quiz = trainee.locator("#quiz")
    questions = yaml.safe_load(LESSON.read_text(encoding="utf-8"))["quiz"]
    for number, question in enumerate(questions):
        quiz.locator(f'input[name="q{number}"][value="{question["answer"]}"]').check()
    trainee.get_by_role("button", name="Check my answers").click()
    expect(trainee.get_by_role("status").filter(has_text="Score: 100%")).to_be_visible()
    tour.shot(trainee, "trainee-lesson-quiz")

    # 10. The owner's dashboards: coaching, the trainees' progress, billing's reports.
    owner.goto("/training/coaching")
    expect(owner.get_by_role("heading", name="Coaching")).to_be_visible()
    rafael_row = owner.get_by_role("row", name=re.compile("Rafael Nogueira"))
    reload_until(owner, rafael_row, "4.0")
    expect(rafael_row).to_contain_text("agent")
    tour.shot(owner, "owner-coaching")
    rafael_row.get_by_role("link", name="Rafael Nogueira").click()
    expect(owner.get_by_role("heading", name=re.compile("Rafael Nogueira"))).to_be_visible()
    expect(owner.get_by_role("img").first).to_be_visible()
    tour.shot(owner, "owner-coaching-agent")

    owner.goto("/training/learn/")
    trainees = owner.locator(".card", has=owner.get_by_role("heading", name="Trainees"))
    expect(trainees.get_by_role("row", name=re.compile("Camila Ferraz"))).to_contain_text("100%")
    tour.shot(owner, "owner-trainees")

    # The package's other flows share this platform's books: the page must show what
    # billing's own report says, Marta's payment and its tenth for the reserve included.
    [real] = [
        line
        for line in owner_api.api("GET", "/billing/api/reports/reserve")["currencies"]
        if line["currency"] == "BRL"
    ]
    assert real["revenue_minor"] >= 8990 and real["reserve_minor"] >= 899, real
    owner.goto("/billing/reserve")
    expect(owner.get_by_role("heading", name="Reserve report")).to_be_visible()
    figures = owner.locator("dl.figures").first
    expect(figures).to_contain_text(f"RevenueBRL {real['revenue_minor'] / 100:,.2f}")
    expect(figures).to_contain_text(f"Reserve balanceBRL {real['reserve_minor'] / 100:,.2f}")
    chart = re.compile("Revenue and reserve per month")
    expect(owner.get_by_role("img", name=chart)).to_be_visible()
    tour.shot(owner, "owner-reserve")

    owner.goto("/billing/overdue")
    expect(owner.get_by_role("heading", name="Overdue invoices")).to_be_visible()
    tour.shot(owner, "owner-overdue")

    owner.goto("/notify/")
    expect(owner.locator("main")).to_contain_text(marta["email"])
    tour.shot(owner, "owner-deliveries")

    assert len(tour.shots) >= 15
    assert all(path.stat().st_size > 10_000 for path in tour.shots)
