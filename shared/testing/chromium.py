"""Debian's Chromium, headless, driven by Playwright: for the browser tests, the
end-to-end tour and the README's screenshots."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager

from playwright.sync_api import Browser, sync_playwright

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@contextmanager
def system_chromium() -> Iterator[Browser]:
    """The system's Chromium, not a Playwright download (the registries have none)."""
    with sync_playwright() as playwright:
        # No sandbox: the suite runs as root, where Chromium's sandbox refuses to start.
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
        )
        try:
            yield browser
        finally:
            browser.close()
