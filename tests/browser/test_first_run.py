"""A real browser (headless Chromium) walks the first run: setup, one sign-in for every service."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS


def test_owner_sets_up_signs_in_once_and_moves_between_services(base_url: str, page: Page) -> None:
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Set up Cortesia")).to_be_visible()
    page.get_by_label("Your name").fill("Ana Souza")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Repeat the password").fill("correct horse battery")
    page.get_by_role("button", name="Create the owner account").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()
    expect(page.get_by_text("Welcome, Ana Souza")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "desk.png"), full_page=True)

    page.get_by_role("link", name="Billing").click()
    expect(page.get_by_role("heading", name="Customers")).to_be_visible()
    page.get_by_role("link", name="Training").click()
    expect(page.get_by_role("cell", name="Ana Souza")).to_be_visible(timeout=15_000)

    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(base_url + "/billing/")
    expect(page).to_have_url(f"{base_url}/tickets/login?next=/billing/")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password").fill("not her password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{base_url}/billing/customers")
