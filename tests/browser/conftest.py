"""A real embedded platform served on a free port, and headless Chromium to drive it."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from werkzeug.serving import make_server

from cortesia.embedded import EmbeddedPlatform, build_embedded
from cortesia.platform import settings_for_all
from services.tickets.staff import add_staff
from shared.bus.tables import outbox
from shared.testing.chromium import system_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
OWNER_NAME = "Ana Souza"
OWNER_EMAIL = "ana@example.com"
OWNER_PASSWORD = "correct horse battery"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[EmbeddedPlatform, str]]:
    platform = build_embedded(settings_for_all(env={}, data_dir=tmp_path))
    platform.start()
    # Werkzeug's threaded server stops cleanly between tests (waitress's loop can be
    # caught in select() on a socket its close() just shut).
    server = make_server("127.0.0.1", 0, platform.wsgi_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield platform, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(10)
    server.server_close()
    platform.stop()


@pytest.fixture
def base_url(served: tuple[EmbeddedPlatform, str]) -> str:
    return served[1]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with system_chromium() as launched:
        yield launched


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def owner(served: tuple[EmbeddedPlatform, str]) -> int:
    """The owner's account, made in the tickets database as the first run would; its id."""
    platform, _ = served
    with platform.databases["tickets"].transaction() as session:
        return add_staff(session, OWNER_NAME, OWNER_EMAIL, "owner", OWNER_PASSWORD).id


@pytest.fixture
def sign_in_staff(base_url: str) -> Callable[[Page, str, str], None]:
    """Sign a staff member in through the desk's login page; they land on the queue."""

    def sign_in(page: Page, email: str, password: str) -> None:
        page.goto(base_url + "/tickets/login")
        page.get_by_label("Email").fill(email)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Queue")).to_be_visible()

    return sign_in


@pytest.fixture
def emailed_link(served: tuple[EmbeddedPlatform, str]) -> Callable[[str, str], str]:
    """The link the latest ``event_type`` the tickets service recorded for an address carries
    (what notify emails), pointed at the served platform instead of the configured public
    address."""
    platform, base_url = served

    def latest_link(event_type: str, email: str) -> str:
        with platform.databases["tickets"].transaction() as session:
            bodies = list(
                session.execute(
                    select(outbox.c.body)
                    .where(outbox.c.event_type == event_type)
                    .order_by(outbox.c.id.desc())
                ).scalars()
            )
        for body in bodies:
            payload = json.loads(body)["payload"]
            if payload["email"] == email:
                link = urlsplit(payload["link"])
                return base_url + link.path + (f"?{link.query}" if link.query else "")
        raise AssertionError(f"the tickets service recorded no {event_type} for {email}")

    return latest_link
