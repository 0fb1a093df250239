"""A real browser (headless Chromium) walks the first run: setup, one sign-in for every service."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from waitress.server import create_server

from cortesia.embedded import build_embedded
from cortesia.platform import settings_for_all

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def base_url(tmp_path: Path) -> Iterator[str]:
    platform = build_embedded(settings_for_all(env={}, data_dir=tmp_path))
    platform.start()
    server = create_server(platform.wsgi_app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.effective_port}"
    server.close()
    platform.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


def test_owner_sets_up_signs_in_once_and_moves_between_services(base_url: str, page: Page) -> None:
    page.goto(base_url + "/")
    expect(page.get_by_role("heading", name="Set up Cortesia")).to_be_visible()
    page.get_by_label("Your name").fill("Ana Souza")
    page.get_by_label("Email").fill("ana@example.com")
    page.get_by_label("Password", exact=True).fill("correct horse battery")
    page.get_by_label("Repeat the password").fill("correct horse battery")
    page.get_by_role("button", name="Create the owner account").click()
    expect(page.get_by_role("heading", name="Desk")).to_be_visible()
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
