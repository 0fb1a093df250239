"""The README's screenshots, taken from the demo company in headless Chromium.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]

Starts ``cortesia run --demo`` on a temporary data directory and a free port, signs in
as the demo's staff (and as one of its customers, by the sign-in link the local mailbox
keeps) and saves each main page as a PNG at 1280x800, reduced to a 256-colour palette
so the images stay small.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests
from PIL import Image
from playwright.sync_api import (
    Browser,
    FloatRect,
    Page,
    ViewportSize,
    expect,
)

from shared.testing.chromium import system_chromium

ROOT = Path(__file__).resolve().parents[1]
VIEWPORT: ViewportSize = {"width": 1280, "height": 800}
STARTUP_SECONDS = 300
OWNER = "helena@cortesia.example"
TRAINEE = "camila@cortesia.example"
AGENT = "Rafael Nogueira"
CUSTOMER = "joana@paodemel.example"
SUSPENDED = "Livraria Sebo do Largo"
DEMO_VARIABLES = (
    "CORTESIA_SMTP_HOST",
    "CORTESIA_SMS_URL",
    "CORTESIA_CHAT_URL",
    "CORTESIA_AMQP_URL",
)
"""Real delivery, which the demo refuses, and RabbitMQ, which embedded mode runs without."""


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def demo_platform() -> Iterator[tuple[str, str]]:
    """The demo company running in embedded mode: its address and the staff's password."""
    data = Path(tempfile.mkdtemp(prefix="cortesia-screenshots-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {k: v for k, v in os.environ.items() if k not in DEMO_VARIABLES}
    environment.update(CORTESIA_DATA=str(data), CORTESIA_PUBLIC_URL=url)
    log = (data / "platform.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "cortesia", "run", "--demo", "--port", str(port)],
        env=environment,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            output = (data / "platform.log").read_text(errors="replace")
            password = re.search(r"Password \(every demo account\): (\S+)", output)
            if password and _answers(url):
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"the demo did not start:\n{output[-3000:]}")
            time.sleep(1)
        yield url, password.group(1)
    finally:
        process.terminate()
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()
        shutil.rmtree(data, ignore_errors=True)


def _answers(url: str) -> bool:
    try:
        return requests.get(f"{url}/tickets/healthz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


class Camera:
    def __init__(self, browser: Browser, url: str, out: Path) -> None:
        self.browser = browser
        self.url = url
        self.out = out
        self.saved: list[Path] = []

    def person(self, locale: str = "en-US") -> Page:
        context = self.browser.new_context(base_url=self.url, locale=locale, viewport=VIEWPORT)
        context.set_default_timeout(30_000)
        return context.new_page()

    def shoot(self, page: Page, name: str, height: int = 1000) -> None:
        """The top ``height`` pixels of the page (the window's width), as a PNG."""
        page.wait_for_load_state("networkidle")
        path = self.out / f"{name}.png"
        whole = int(page.evaluate("document.documentElement.scrollHeight"))
        clip: FloatRect = {"x": 0, "y": 0, "width": VIEWPORT["width"], "height": min(height, whole)}
        page.screenshot(path=str(path), full_page=True, clip=clip)
        with Image.open(path) as taken:
            small = taken.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT)
        small.save(path, optimize=True)
        self.saved.append(path)
        print(f"  {path} ({path.stat().st_size // 1024} KiB)")


def sign_in(page: Page, email: str, password: str) -> None:
    page.goto("/tickets/login")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("heading", name="Queue")).to_be_visible()


def portal_link(owner: Page, email: str) -> str:
    """The sign-in link notify wrote to the customer, from the local mailbox."""
    deadline = time.monotonic() + 60
    while True:
        owner.goto("/notify/mailbox")
        for kept in owner.locator("details").filter(has_text=email).all():
            found = re.search(r"https?://\S+/portal/sign-in/\S+", kept.text_content() or "")
            if found:
                return found.group(0)
        if time.monotonic() > deadline:
            raise SystemExit(f"no portal sign-in link reached {email}")
        time.sleep(1)


def take(camera: Camera, password: str) -> None:
    owner = camera.person()
    sign_in(owner, OWNER, password)
    expect(owner.locator("table.queue tbody tr").first).to_be_visible()
    camera.shoot(owner, "queue", height=1250)

    # The suspended customer's ticket: their billing state, the one grace, a draft the
    # checker answers as it is written.
    row = owner.locator("table.queue tbody tr").filter(has_text=SUSPENDED).first
    if row.count() == 0:
        owner.goto("/tickets/desk/?view=all&q=" + SUSPENDED.split()[-1])
        row = owner.locator("table.queue tbody tr").first
    row.locator("a").first.click()
    expect(owner.get_by_role("region", name="Customer")).to_be_visible()
    owner.locator("#body").fill("JÁ FALEI QUE O SITE VOLTA QUANDO PAGAR!!!")
    expect(owner.locator("#findings p").first).to_be_visible()
    camera.shoot(owner, "ticket", height=1250)

    owner.goto("/billing/customers?q=" + SUSPENDED.split()[-1])
    owner.get_by_role("link", name=SUSPENDED).first.click()
    expect(owner.get_by_role("heading", name=SUSPENDED)).to_be_visible()
    camera.shoot(owner, "billing-customer", height=1250)

    owner.goto("/billing/reserve")
    expect(owner.get_by_role("heading", name="Reserve report")).to_be_visible()
    camera.shoot(owner, "billing-reserve")

    owner.goto("/training/coaching")
    expect(owner.get_by_role("heading", name="Coaching")).to_be_visible()
    owner.get_by_role("link", name=AGENT).click()
    expect(owner.get_by_role("img").first).to_be_visible()
    camera.shoot(owner, "coaching", height=1250)

    trainee = camera.person()
    sign_in(trainee, TRAINEE, password)
    trainee.goto("/training/learn/")
    expect(trainee.get_by_role("heading", name="Your onboarding path")).to_be_visible()
    camera.shoot(trainee, "trainee")

    customer = camera.person(locale="pt-BR")
    customer.goto("/tickets/portal/")
    customer.get_by_label("Seu e-mail").fill(CUSTOMER)
    customer.get_by_role("button", name="Enviar link de acesso").click()
    customer.goto(portal_link(owner, CUSTOMER))
    expect(customer.locator("ul.tickets li").first).to_be_visible()
    customer.locator("ul.tickets li a").first.click()
    camera.shoot(customer, "portal")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    out: Path = parser.parse_args().out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    print("Starting the demo company (about a minute)...")
    with demo_platform() as (url, password), system_chromium() as browser:
        camera = Camera(browser, url, out)
        take(camera, password)
    total = sum(path.stat().st_size for path in camera.saved)
    print(f"{len(camera.saved)} screenshots, {total // 1024} KiB in all")


if __name__ == "__main__":
    main()
