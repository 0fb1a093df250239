"""``cortesia run --demo``'s company, seeded once into a temporary data directory and seen
through the platform's own pages and APIs, as a visitor trying the demo would."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.test import Client, TestResponse

from cortesia.cli import main as cli
from cortesia.demo import DemoWelcome, company, prepare_demo
from cortesia.demo.story import COMPANY_CALENDAR
from cortesia.embedded import EmbeddedPlatform, build_embedded
from cortesia.platform import settings_for_all
from services.tickets.staff import add_staff


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[EmbeddedPlatform, DemoWelcome]]:
    settings = settings_for_all(env={}, data_dir=tmp_path_factory.mktemp("demo"))
    platform = build_embedded(settings)
    welcome = prepare_demo(platform, settings)
    platform.start()
    yield platform, welcome
    platform.stop()


def signed_in(platform: EmbeddedPlatform, email: str, password: str) -> Client:
    client = Client(platform.wsgi_app)
    form = client.get("/tickets/login")
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form.text)
    assert token, "the sign-in form carries a CSRF token"
    answer = client.post(
        "/tickets/login",
        data={"csrf_token": token.group(1), "email": email, "password": password},
    )
    assert answer.status_code == 302, answer.text
    return client


def body(response: TestResponse) -> Any:
    assert response.status_code == 200, response.text
    return response.get_json()


def test_the_owner_signs_in_with_the_printed_password(
    demo: tuple[EmbeddedPlatform, DemoWelcome],
) -> None:
    platform, welcome = demo
    assert welcome.seeded
    assert {member.role for member in welcome.staff} == {"owner", "agent", "billing", "trainee"}
    owner = signed_in(platform, company.OWNER.email, welcome.password)
    assert body(owner.get("/tickets/api/session"))["role"] == "owner"


def test_the_queue_shows_open_tickets(demo: tuple[EmbeddedPlatform, DemoWelcome]) -> None:
    platform, welcome = demo
    agent = signed_in(platform, company.AGENTS[0].email, welcome.password)
    queue = agent.get("/tickets/desk/")
    assert queue.status_code == 200
    for subject in ("Site da padaria fora do ar", "Los correos a nuestros clientes rebotan"):
        assert subject in queue.text
    assert "E-mails da clínica caindo no spam" not in queue.text, "closed tickets leave the queue"


def test_the_desk_record_spans_the_past_weeks_in_business_hours(
    demo: tuple[EmbeddedPlatform, DemoWelcome],
) -> None:
    platform, welcome = demo
    owner = signed_in(platform, company.OWNER.email, welcome.password)
    tickets = body(owner.get("/tickets/api/tickets?status=closed"))["tickets"]
    assert len(tickets) >= 5
    now = datetime.now(UTC)
    opened = [datetime.fromisoformat(t["created_at"]) for t in tickets]
    resolved = [datetime.fromisoformat(t["resolved_at"]) for t in tickets]
    assert len({moment.date() for moment in opened}) >= 5, "opened on different days"
    assert min(opened) < now - timedelta(days=14) and max(resolved) < now
    assert all(a < b for a, b in zip(opened, resolved, strict=True))
    sao_paulo = COMPANY_CALENDAR.zone
    assert all(10 <= r.astimezone(sao_paulo).hour < 19 for r in resolved), "in office hours"


def test_billing_shows_a_year_of_invoices_and_a_suspended_customer(
    demo: tuple[EmbeddedPlatform, DemoWelcome],
) -> None:
    platform, welcome = demo
    billing = signed_in(platform, company.BILLING.email, welcome.password)
    invoices = body(billing.get("/billing/api/invoices?limit=1000"))
    statuses = [invoice["status"] for invoice in invoices]
    assert statuses.count("paid") > 100 and "issued" in statuses
    due_dates = sorted(invoice["due_date"] for invoice in invoices)
    a_year_ago = (datetime.now(UTC) - timedelta(days=330)).date().isoformat()
    assert due_dates[0] <= a_year_ago
    overdue = billing.get("/billing/overdue")
    assert overdue.status_code == 200 and "Escola de Música Dó Ré Mi" in overdue.text
    customers = billing.get("/billing/customers")
    assert re.search(r"status-suspended", customers.text)


def test_the_desk_shows_billing_status_that_came_over_the_bus(
    demo: tuple[EmbeddedPlatform, DemoWelcome],
) -> None:
    platform, welcome = demo
    agent = signed_in(platform, company.AGENTS[0].email, welcome.password)
    tickets = body(agent.get("/tickets/api/tickets?status=open"))["tickets"]
    by_subject = {ticket["subject"]: ticket["id"] for ticket in tickets}
    suspended = agent.get(
        f"/tickets/desk/tickets/{by_subject['Site suspenso: posso pagar no dia 20?']}"
    )
    assert 'class="status status-suspended"' in suspended.text
    behind = agent.get(f"/tickets/desk/tickets/{by_subject['Dúvida sobre a fatura deste mês']}")
    assert 'class="status status-overdue"' in behind.text


def test_the_trainee_is_mid_course_under_supervision(
    demo: tuple[EmbeddedPlatform, DemoWelcome],
) -> None:
    platform, welcome = demo
    trainee = signed_in(platform, company.TRAINEE.email, welcome.password)
    path = trainee.get("/training/learn/")
    assert path.status_code == 200
    assert "90" in path.text, "one module of seven passed: 90 % of replies held"
    owner = signed_in(platform, company.OWNER.email, welcome.password)
    reviews = owner.get("/tickets/desk/reviews")
    assert "Apontar o domínio novo da pousada" in reviews.text, "her reply waits for review"


def test_customers_in_three_countries_with_their_languages(
    demo: tuple[EmbeddedPlatform, DemoWelcome],
) -> None:
    platform, welcome = demo
    billing = signed_in(platform, company.BILLING.email, welcome.password)
    customers = body(billing.get("/billing/api/customers?limit=100"))
    places = {(customer["language"], customer["timezone"]) for customer in customers}
    assert places == {
        ("pt-BR", "America/Sao_Paulo"),
        ("es", "Europe/Madrid"),
        ("es", "America/Mexico_City"),
    }


def test_notify_wrote_the_year_into_the_local_mailbox(
    demo: tuple[EmbeddedPlatform, DemoWelcome],
) -> None:
    platform, welcome = demo
    owner = signed_in(platform, company.OWNER.email, welcome.password)
    log = owner.get("/notify/")
    assert log.status_code == 200 and "invoice" in log.text.lower()


def test_a_platform_that_is_not_the_demo_is_refused(tmp_path: Path) -> None:
    settings = settings_for_all(env={}, data_dir=tmp_path)
    platform = build_embedded(settings)
    with platform.databases["tickets"].transaction() as session:
        add_staff(session, "Ana Souza", "ana@example.com", "owner", "a long passphrase")
    for database in platform.databases.values():
        database.dispose()
    result = CliRunner().invoke(cli, ["run", "--demo", "--port", "0", "--data", str(tmp_path)])
    assert result.exit_code == 1 and "not the demo" in result.output
