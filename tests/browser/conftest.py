"""A real embedded platform served on a free port, and headless Chromium to drive it."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from waitress.server import create_server

from cortesia.embedded import EmbeddedPlatform, build_embedded
from cortesia.platform import settings_for_all

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[EmbeddedPlatform, str]]:
    platform = build_embedded(settings_for_all(env={}, data_dir=tmp_path))
    platform.start()
    server = create_server(platform.wsgi_app, host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield platform, f"http://127.0.0.1:{server.effective_port}"
    server.close()
    platform.stop()


@pytest.fixture
def base_url(served: tuple[EmbeddedPlatform, str]) -> str:
    return served[1]


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
