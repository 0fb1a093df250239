"""Sign-in at the desk, one session for every service, roles, CSRF and first-run setup."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client, TestResponse

from cortesia.embedded import EmbeddedPlatform, build_embedded
from cortesia.platform import service_module, settings_for_all
from services.tickets.staff import add_staff
from shared.config import ConfigurationError, load_settings
from shared.db import Database
from shared.secrets import session_secret
from tests.support.probe import wait_until

PASSWORD = "correct horse battery"


@pytest.fixture
def platform(tmp_path: Path) -> Iterator[EmbeddedPlatform]:
    built = build_embedded(settings_for_all(env={}, data_dir=tmp_path))
    built.start()
    yield built
    built.stop()


def body(response: TestResponse) -> Any:
    return response.get_json()


def csrf_token(page: TestResponse) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text) or re.search(
        r'name="csrf_token" value="([^"]+)"', page.text
    )
    assert match, "the form carries a CSRF token"
    return match.group(1)


def set_up_owner(client: Client) -> TestResponse:
    form = client.get("/tickets/setup")
    return client.post(
        "/tickets/setup",
        data={
            "csrf_token": csrf_token(form),
            "name": "Ana Souza",
            "email": "ana@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )


def sign_in(
    client: Client, email: str, password: str = PASSWORD, next_path: str = ""
) -> TestResponse:
    form = client.get("/tickets/login")
    url = "/tickets/login" + (f"?next={next_path}" if next_path else "")
    return client.post(
        url, data={"csrf_token": csrf_token(form), "email": email, "password": password}
    )


def add_member(platform: EmbeddedPlatform, email: str, role: str) -> None:
    with platform.databases["tickets"].transaction() as session:
        add_staff(session, email.split("@")[0].title(), email, role, PASSWORD)


def test_first_run_setup_creates_the_owner_once_and_signs_her_in(
    platform: EmbeddedPlatform,
) -> None:
    client = Client(platform.wsgi_app)
    assert client.get("/tickets/login").headers["Location"].endswith("/tickets/setup")
    created = set_up_owner(client)
    assert created.status_code == 302 and created.headers["Location"].endswith("/tickets/")
    assert body(client.get("/tickets/api/session"))["role"] == "owner"
    # Setup is closed for good, to her and to anyone else.
    assert client.get("/tickets/setup").status_code == 404
    assert Client(platform.wsgi_app).get("/tickets/setup").status_code == 404


def test_setup_form_errors_are_shown_not_raised(platform: EmbeddedPlatform) -> None:
    client = Client(platform.wsgi_app)
    form = client.get("/tickets/setup")
    response = client.post(
        "/tickets/setup",
        data={
            "csrf_token": csrf_token(form),
            "name": "Ana",
            "email": "ana@example.com",
            "password": "short",
            "confirm": "different",
        },
    )
    assert response.status_code == 400
    assert "at least 12 characters" in response.text and "The passwords differ." in response.text


def test_forms_without_a_csrf_token_are_refused(platform: EmbeddedPlatform) -> None:
    client = Client(platform.wsgi_app)
    response = client.post(
        "/tickets/setup",
        data={
            "name": "Mallory",
            "email": "m@example.com",
            "password": PASSWORD,
            "confirm": PASSWORD,
        },
    )
    assert response.status_code == 400 and "Form expired" in response.text
    assert client.get("/tickets/setup").status_code == 200, "no owner was created"
    set_up_owner(client)
    assert client.post("/tickets/logout").status_code == 400
    assert client.get("/tickets/api/session").status_code == 200, "still signed in"


def test_wrong_password_is_refused_and_next_is_followed_only_on_this_site(
    platform: EmbeddedPlatform,
) -> None:
    set_up_owner(Client(platform.wsgi_app))
    client = Client(platform.wsgi_app)
    refused = sign_in(client, "ana@example.com", "wrong password!")
    assert refused.status_code == 401 and "do not match" in refused.text
    assert client.get("/tickets/api/session").status_code == 401
    assert sign_in(client, "nobody@example.com").status_code == 401
    accepted = sign_in(client, "ana@example.com", next_path="/billing/")
    assert accepted.headers["Location"] == "/billing/"
    elsewhere = sign_in(Client(platform.wsgi_app), "ana@example.com", next_path="//evil.example/")
    assert elsewhere.headers["Location"].endswith("/tickets/")


def test_one_session_is_honoured_by_every_service(platform: EmbeddedPlatform) -> None:
    client = Client(platform.wsgi_app)
    set_up_owner(client)
    for service in ("tickets", "billing", "notify", "training"):
        me = client.get(f"/{service}/api/session")
        assert me.status_code == 200 and body(me)["email"] == "ana@example.com", service
        assert client.get(f"/{service}/", follow_redirects=True).status_code == 200, service
    token = csrf_token(client.get("/billing/", follow_redirects=True))
    assert client.post("/tickets/logout", data={"csrf_token": token}).status_code == 302
    for service in ("tickets", "billing", "notify", "training"):
        assert client.get(f"/{service}/api/session").status_code == 401, service
        page = client.get(f"/{service}/", headers={"Accept": "text/html"})
        assert page.status_code == 302 and "/tickets/login?next=" in page.headers["Location"]


@pytest.mark.parametrize(
    ("role", "allowed", "forbidden"),
    [
        ("agent", ["tickets", "notify", "training"], ["billing"]),
        ("billing", ["tickets", "billing", "notify", "training"], []),
        ("trainee", ["tickets", "training"], ["billing", "notify"]),
    ],
)
def test_roles_are_enforced_by_each_service(
    platform: EmbeddedPlatform, role: str, allowed: list[str], forbidden: list[str]
) -> None:
    set_up_owner(Client(platform.wsgi_app))
    add_member(platform, f"{role}@example.com", role)
    client = Client(platform.wsgi_app)
    assert sign_in(client, f"{role}@example.com").status_code == 302
    for service in allowed:
        assert client.get(f"/{service}/", follow_redirects=True).status_code == 200, service
    for service in forbidden:
        page = client.get(f"/{service}/", headers={"Accept": "text/html"})
        assert page.status_code == 403, service
        assert "needs one of the roles" in page.text


def test_session_is_shared_between_separately_running_services(tmp_path: Path) -> None:
    """Two services built apart (as two gunicorn processes would be) trust the same cookie."""
    apps = {}
    for name in ("tickets", "billing"):
        settings = load_settings(name, env={}, data_dir=tmp_path)
        from cortesia.platform import migrate

        migrate(settings)
        apps[name] = service_module(name).create_app(settings, Database(settings.database_url))
    with Database(
        load_settings("tickets", env={}, data_dir=tmp_path).database_url
    ).transaction() as session:
        add_staff(session, "Ana", "ana@example.com", "owner", PASSWORD)
        add_staff(session, "Bia", "bia@example.com", "billing", PASSWORD)
    desk = apps["tickets"].test_client()
    form = desk.get("/login")
    desk.post(
        "/login",
        data={"csrf_token": csrf_token(form), "email": "bia@example.com", "password": PASSWORD},
    )
    cookie = desk.get_cookie("cortesia_session")
    assert (
        cookie is not None and cookie.http_only and cookie.same_site == "Lax" and cookie.path == "/"
    )
    billing = apps["billing"].test_client()
    assert billing.get("/api/session").status_code == 401
    billing.set_cookie("cortesia_session", cookie.value)
    assert body(billing.get("/api/session"))["email"] == "bia@example.com"
    billing.set_cookie("cortesia_session", cookie.value[:-2] + "xx")
    assert billing.get("/api/session").status_code == 401, "a tampered cookie is not trusted"


def test_the_owner_created_at_the_desk_reaches_training_through_the_bus(
    platform: EmbeddedPlatform,
) -> None:
    client = Client(platform.wsgi_app)
    set_up_owner(client)
    wait_until(
        lambda: "Ana Souza" in client.get("/training/").text, 15, "training to learn of the owner"
    )


def test_health_readiness_and_metrics_for_every_service(platform: EmbeddedPlatform) -> None:
    client = Client(platform.wsgi_app)
    for service in ("tickets", "billing", "notify", "training"):
        assert client.get(f"/{service}/healthz").json == {"status": "ok", "service": service}
        ready = client.get(f"/{service}/readyz")
        assert ready.status_code == 200 and body(ready)["checks"] == {"database": "ok", "bus": "ok"}
        metrics = client.get(f"/{service}/metrics")
        assert metrics.status_code == 200
        assert (
            f'http_requests_total{{endpoint="health.readyz",method="GET",service="{service}",status="200"}}'
            in metrics.text
        )
    response = client.get("/billing/healthz", headers={"X-Correlation-ID": "trace-123"})
    assert response.headers["X-Correlation-ID"] == "trace-123"


def test_secrets_are_generated_once_and_required_in_production(tmp_path: Path) -> None:
    first = session_secret(tmp_path, production=False, env={})
    assert len(first) >= 32 and session_secret(tmp_path, production=False, env={}) == first
    assert (tmp_path / "secret_key").stat().st_mode & 0o777 == 0o600
    with pytest.raises(ConfigurationError, match="CORTESIA_SECRET_KEY is required"):
        session_secret(tmp_path / "prod", production=True, env={})
    with pytest.raises(ConfigurationError, match="at least 32"):
        session_secret(tmp_path, production=True, env={"CORTESIA_SECRET_KEY": "short"})


def test_unknown_pages_get_a_clear_404(platform: EmbeddedPlatform) -> None:
    client = Client(platform.wsgi_app)
    assert client.get("/billing/api/nothing-here").status_code == 404
    assert body(client.get("/billing/api/nothing-here"))["error"] == "Not Found"


def test_the_shared_header_speaks_the_staff_members_language_on_every_service(
    platform: EmbeddedPlatform,
) -> None:
    client = Client(platform.wsgi_app)
    set_up_owner(client)
    portuguese = {"Accept-Language": "pt-BR,pt;q=0.9"}
    for service in ("tickets", "billing", "notify", "training"):
        page = client.get(f"/{service}/", headers=portuguese, follow_redirects=True)
        assert page.status_code == 200, service
        header = page.text.split("</header>")[0]
        for words in ("Atendimento", "Financeiro", "Notificações", "Treinamento", "Sair"):
            assert words in header, (service, words)
        assert '<html lang="pt-BR"' in page.text and "(dona)" in header, service
    # The switcher's choice, kept in the one session, holds on every service too.
    client.get("/tickets/desk/language/en", headers=portuguese)
    for service in ("billing", "training"):
        header = client.get(f"/{service}/", headers=portuguese, follow_redirects=True).text
        assert "Sign out" in header.split("</header>")[0] and "(owner)" in header, service
