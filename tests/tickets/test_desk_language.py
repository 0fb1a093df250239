"""The staff desk in English or Brazilian Portuguese: the browser's language, the staff
member's own choice with the switcher, and every word the pages use known in both."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from flask import Flask

from services.tickets import lifecycle
from services.tickets.desk_pages import VIEWS
from services.tickets.escalation import ACTIONS
from services.tickets.lifecycle import CHANNELS, EMERGENCIES, NewTicket
from services.tickets.models import STATUSES, StaffMember
from services.tickets.sla import SlaStatus
from services.tickets.staff_words import WORDS
from shared.db import Database
from shared.events.contracts import DEPARTMENTS, TICKET_PRIORITIES
from shared.web.auth import ROLES
from shared.web.staff_language import SESSION_LANGUAGE
from tests.support.staff import StaffSession
from tests.tickets.test_desk import GOOD_REPLY, RUDE_REPLY

HTML = {"Accept": "text/html"}
PORTUGUESE = {"Accept": "text/html", "Accept-Language": "pt-BR"}
TEMPLATES = Path(__file__).parents[2] / "services" / "tickets" / "templates" / "tickets"


def session_of(app: Flask, member: StaffMember) -> StaffSession:
    return StaffSession(
        app, {"id": member.id, "name": member.name, "email": member.email, "role": member.role}
    )


def open_ticket(database: Database) -> int:
    with database.transaction() as session:
        ticket = lifecycle.open_ticket(
            session,
            NewTicket(
                subject="Site fora do ar",
                body="Meu site não abre desde hoje cedo.",
                requester_email="carla@loja.example",
            ),
            "customer:carla@loja.example",
        )
        return ticket.id


def test_every_desk_page_speaks_portuguese_when_the_browser_asks(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    ticket_id = open_ticket(database)
    owner = session_of(app, staff["owner"])
    expected = {
        "/desk/": ["Fila", "Mostrar", "Filtrar", "1 chamado.", "Responsável", "novo"],
        f"/desk/tickets/{ticket_id}": [
            "Responder",
            "Nota interna",
            "Resolver (P-RESOLVE)",
            "Enviar resposta",
            "Primeira resposta",
            "Situação",
            "aguardando o cliente",
            "em espera",
            "Responsável",
        ],
        "/desk/reviews": ["Respostas para revisar", "Nenhuma resposta aguardando revisão."],
        "/desk/settings": ["Metas de SLA (minutos úteis)", "Respostas prontas", "urgente"],
        "/desk/my-day": ["Meu dia", "Meus chamados em aberto", "Atraso (P-LATE)"],
        "/desk/new": ["Novo chamado", "O que o cliente disse", "site fora do ar"],
        "/desk/maintenance": ["Janelas de manutenção", "Agendar uma janela", "Início", "Término"],
        "/staff": ["Equipe", "Adicionar alguém", "atendente", "em treinamento"],
        "/audit": ["Registro de auditoria", "Quando"],
    }
    for path, phrases in expected.items():
        page = owner.get(path, headers=PORTUGUESE)
        assert page.status_code == 200, path
        assert '<html lang="pt-BR">' in page.text, path
        for phrase in phrases:
            assert phrase in page.text, (path, phrase)
        assert "Queue</a>" not in page.text and "My day</a>" not in page.text, path
    ticket_page = owner.get(f"/desk/tickets/{ticket_id}", headers=PORTUGUESE).text
    assert "Send reply" not in ticket_page and "Internal note" not in ticket_page
    live_words = re.search(r"const words = (\{.*?\});", ticket_page)
    assert live_words is not None, "the live checker's words"
    assert json.loads(live_words[1])["viewing"] == "{name} também está com este chamado aberto."


def test_english_by_default_and_for_a_browser_that_prefers_it(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    ticket_id = open_ticket(database)
    agent = session_of(app, staff["agent"])
    for headers in (HTML, {**HTML, "Accept-Language": "en-US,pt-BR;q=0.5"}):
        page = agent.get(f"/desk/tickets/{ticket_id}", headers=headers)
        assert page.status_code == 200
        assert '<html lang="en">' in page.text
        assert "Send reply" in page.text and "Internal note" in page.text
        assert "Resolve (P-RESOLVE)" in page.text and "Responder" not in page.text
    european = agent.get("/desk/", headers={**HTML, "Accept-Language": "pt-PT,en;q=0.8"})
    assert '<html lang="pt-BR">' in european.text, "any Portuguese reads the Brazilian desk"
    other = agent.get("/desk/", headers={**HTML, "Accept-Language": "de-DE,fr;q=0.9"})
    assert '<html lang="en">' in other.text and "<h1>Queue</h1>" in other.text


def test_english_names_stored_values_in_words(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    ticket_id = open_ticket(database)
    page = session_of(app, staff["agent"]).get(f"/desk/tickets/{ticket_id}", headers=HTML).text
    # A new ticket has no next response due yet; its status choices include "on hold".
    assert "not applicable" in page and ">on hold</option>" in page
    assert "not_applicable" not in page.replace('sla-not_applicable"', "")
    assert ">on_hold</option>" not in page


def test_the_views_own_messages_follow_the_page_language(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    ticket_id = open_ticket(database)
    agent = session_of(app, staff["agent"])
    stopped = agent.client.post(
        f"/desk/tickets/{ticket_id}/reply",
        data={"body": RUDE_REPLY, "csrf_token": agent.token},
        headers=PORTUGUESE,
    )
    assert stopped.status_code == 422
    assert "A resposta não foi enviada" in stopped.text
    assert "The reply was not sent" not in stopped.text
    sent = agent.client.post(
        f"/desk/tickets/{ticket_id}/reply",
        data={"body": GOOD_REPLY, "csrf_token": agent.token},
        headers=PORTUGUESE,
        follow_redirects=True,
    )
    assert "Resposta enviada." in sent.text
    wrong = agent.client.post(
        "/desk/my-day/referral",
        data={"customer_id": "", "referred": "x", "csrf_token": agent.token},
        headers=PORTUGUESE,
    )
    assert wrong.status_code == 422 and "Escolha o cliente." in wrong.text
    english = agent.client.post(
        "/desk/my-day/referral",
        data={"customer_id": "", "referred": "x", "csrf_token": agent.token},
        headers=HTML,
    )
    assert english.status_code == 422 and "Choose the customer." in english.text


def test_the_switcher_keeps_the_choice_over_the_browser(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    agent = session_of(app, staff["agent"])
    queue = agent.get("/desk/?view=mine", headers=HTML)
    assert 'href="/desk/language/pt-BR?next=/desk/?view%3Dmine"' in queue.text
    assert 'hreflang="en" lang="en" aria-current="true"' in queue.text

    chosen = agent.get("/desk/language/pt-BR?next=/desk/my-day")
    assert chosen.status_code == 302 and chosen.headers["Location"] == "/desk/my-day"
    with agent.client.session_transaction() as session:
        assert session[SESSION_LANGUAGE] == "pt-BR"
    day = agent.get("/desk/my-day", headers=HTML)
    assert '<html lang="pt-BR">' in day.text and "<h1>Meu dia</h1>" in day.text
    assert 'hreflang="pt-BR" lang="pt-BR" aria-current="true"' in day.text

    agent.get("/desk/language/en", headers=HTML)
    back = agent.get("/desk/my-day", headers=PORTUGUESE)
    assert '<html lang="en">' in back.text and "<h1>My day</h1>" in back.text

    unknown = agent.get("/desk/language/xx?next=/desk/my-day")
    assert unknown.status_code == 302
    assert '<html lang="en">' in agent.get("/desk/my-day", headers=PORTUGUESE).text


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/desk/",
        "//evil.example/desk/",
        "/\\evil.example",
        "/\t/evil.example",
        "desk/",
        "javascript:alert(1)",
    ],
)
def test_the_switcher_refuses_to_send_anyone_off_site(
    app: Flask, database: Database, staff: dict[str, StaffMember], target: str
) -> None:
    agent = session_of(app, staff["agent"])
    answer = agent.client.get("/desk/language/pt-BR", query_string={"next": target})
    assert answer.status_code == 302
    assert answer.headers["Location"] == "/desk/", "back to the queue instead"
    with agent.client.session_transaction() as session:
        assert session[SESSION_LANGUAGE] == "pt-BR", "the choice itself still counts"


def test_signing_in_and_setting_up_in_portuguese(app: Flask, database: Database) -> None:
    visitor = app.test_client()
    setup = visitor.get("/setup", headers=PORTUGUESE)
    assert setup.status_code == 200 and '<html lang="pt-BR">' in setup.text
    assert "Configurar o Cortesia" in setup.text and "Seu nome" in setup.text
    assert "Repita a senha" in setup.text and "Criar a conta da dona" in setup.text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', setup.text)
    assert token is not None
    refused = visitor.post(
        "/setup",
        data={"name": "", "email": "", "password": "", "confirm": "", "csrf_token": token[1]},
        headers=PORTUGUESE,
    )
    assert refused.status_code == 400 and "Preencha este campo." in refused.text

    english = app.test_client().get("/setup", headers=HTML)
    assert "Set up Cortesia" in english.text and "Repeat the password" in english.text
    asked = app.test_client().get("/password", headers=PORTUGUESE)
    assert "Definir uma nova senha" in asked.text and "Enviar um link por e-mail" in asked.text


def _keys_in_templates() -> set[str]:
    keys: set[str] = set()
    for template in TEMPLATES.glob("**/*.html"):
        if "portal" in template.relative_to(TEMPLATES).parts:
            continue
        text = template.read_text(encoding="utf-8")
        keys.update(re.findall(r"(?<![\w.])t\('([^']+)'", text))
        keys.update(re.findall(r"(?<![\w.])t\('[^']+' if [^)]*? else '([^']+)'", text))
        keys.update(re.findall(r"(?<!url_for\()'([a-z]+\.[a-z_]+)'", text))
    return keys


def test_every_word_the_desk_uses_is_there_in_both_languages() -> None:
    used = _keys_in_templates()
    assert "ticket.first_response" in used and "queue.held_many" in used, "the scan finds keys"
    english, portuguese = WORDS["en"], WORDS["pt-BR"]
    assert used <= set(english), sorted(used - set(english))
    assert set(english) <= set(portuguese), sorted(set(english) - set(portuguese))
    for key, text in english.items():
        placeholders = set(re.findall(r"{(\w+)}", text))
        assert placeholders == set(re.findall(r"{(\w+)}", portuguese[key])), key

    shown = {
        "status": STATUSES,
        "priority": TICKET_PRIORITIES,
        "department": DEPARTMENTS,
        "view": VIEWS,
        "sla": [status.value for status in SlaStatus],
        "emergency": EMERGENCIES,
        "channel": CHANNELS,
        "action": ACTIONS,
        "role": ROLES,
        "care": ("email", "call", "referral", "late"),
        "target": ("first_response_minutes", "next_response_minutes", "resolution_minutes"),
    }
    for group, values in shown.items():
        for value in values:
            assert f"{group}.{value}" in portuguese, f"{group}.{value}"
    named_only_in_portuguese = set(portuguese) - set(english)
    assert all(key.split(".")[0] in {*shown, "billing"} for key in named_only_in_portuguese)
