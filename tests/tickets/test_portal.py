"""The customer portal: sign in by an emailed link, open a request, follow the
conversation, answer and rate it; each customer sees only their own tickets
(P-CONFIDENTIAL), never an internal note or an unsent reply, in their own language."""

from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

import services.tickets as tickets
from services.tickets import lifecycle, replying, resolution, review
from services.tickets.lifecycle import NewTicket
from services.tickets.models import Attachment, Message, PortalToken, Rating, StaffMember, Ticket
from services.tickets.portal import init_portal
from services.tickets.replicas import billing_state
from shared.config import load_settings
from shared.db import Database
from tests.tickets.conftest import announced, feed

CARLA = "carla@loja.example"
BRUNO = "bruno@oficina.example"
CSRF_FIELD = re.compile(r'name="csrf_token" value="[^"]*"')
GOOD_REPLY = (
    "Olá Carla,\n\nObrigada por avisar. O problema foi causado por um certificado vencido; "
    "já instalei um novo e o site voltou. Para evitar que se repita, passamos a monitorar "
    "as renovações.\n\nQualquer coisa, estou à disposição.\nAbraços,\nBia"
)


def no_sla(_ticket: Ticket, _at: datetime) -> tuple[bool | None, bool | None]:
    return True, True


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Flask:
    app = tickets.create_app(load_settings("tickets", env={}, data_dir=tmp_path), database)
    if "portal" not in app.blueprints:
        init_portal(app)
    return app


class Visitor:
    """Someone's browser on the portal: its cookie, and the pages' CSRF token for forms."""

    def __init__(self, app: Flask, database: Database, language: str = "pt-BR") -> None:
        self.client: FlaskClient = app.test_client()
        self.database = database
        self.public_url: str = app.extensions["cortesia.settings"].public_url
        self.headers = {"Accept-Language": language}

    def get(self, path: str, **kwargs: Any) -> Any:
        return self.client.get(path, headers=self.headers, **kwargs)

    def token(self) -> str:
        page = self.get("/portal/")
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert match, "every page with a form carries the CSRF token"
        return match.group(1)

    def post(self, path: str, data: dict[str, str], *, csrf: bool = True) -> Any:
        form = {**data, "csrf_token": self.token()} if csrf else data
        return self.client.post(path, data=form, headers=self.headers)

    def ask_for_link(self, email: str, next_path: str | None = None) -> Any:
        data = {"email": email} if next_path is None else {"email": email, "next": next_path}
        return self.post("/portal/link", data)

    def last_link(self) -> str:
        """The path of the last sign-in link the desk asked notify to email."""
        link = announced(self.database, "tickets.portal_link_requested.v1")[-1]["link"]
        assert link.startswith(f"{self.public_url}/portal/sign-in/")
        return str(link).removeprefix(self.public_url)

    def sign_in(self, email: str) -> None:
        assert self.ask_for_link(email).status_code == 200
        followed = self.get(self.last_link())
        assert followed.status_code == 302, followed.text
        assert followed.headers["Location"] == "/portal/"

    def open_ticket(self, **fields: str) -> Any:
        form = {
            "subject": "Site fora do ar",
            "description": "Meu site não abre desde hoje cedo.",
            "department": "support",
            "emergency": "none",
            **fields,
        }
        return self.post("/portal/tickets/new", form)


def carla_is_a_customer(database: Database) -> None:
    feed(
        database,
        billing_state,
        "billing.customer_created.v1",
        {
            "customer_id": 5,
            "customer_name": "Carla Dias",
            "email": "Carla@Loja.example",
            "language": "pt-BR",
            "timezone": "America/Sao_Paulo",
            "currency": "BRL",
            "managed": True,
        },
    )


def desk_opens(database: Database, email: str, subject: str, **extra: Any) -> int:
    with database.transaction() as session:
        request = NewTicket(
            subject=subject, body="Escrevi por e-mail.", requester_email=email, **extra
        )
        return lifecycle.open_ticket(session, request, "system").id


def desk_resolves(database: Database, ticket_id: int, staff: StaffMember) -> None:
    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        member = session.get(StaffMember, staff.id)
        assert member is not None
        resolution.resolve(
            session,
            ticket,
            member,
            cause="certificado vencido",
            fix="certificado novo instalado",
            prevention="monitorar as renovações",
            survey_url="https://x/rate",
            sla_outcome=no_sla,
        )


def ticket_id_from(response: Any) -> int:
    assert response.status_code == 303, response.text
    match = re.fullmatch(r"/portal/tickets/(\d+)", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


def same_but_for_the_address(page: str, ticket_id: int) -> str:
    page = CSRF_FIELD.sub('name="csrf_token" value=""', page)
    return page.replace(f"/tickets/{ticket_id}", "/tickets/N")


def counts(database: Database) -> tuple[int, int, int]:
    with database.transaction() as session:
        return (
            session.execute(select(func.count()).select_from(Ticket)).scalar_one(),
            session.execute(select(func.count()).select_from(Message)).scalar_one(),
            session.execute(select(func.count()).select_from(Rating)).scalar_one(),
        )


# -- the journey ----------------------------------------------------------------------


def test_a_customer_signs_in_by_link_opens_a_request_follows_it_and_rates_it(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla_is_a_customer(database)
    carla = Visitor(app, database, language="en-US,en;q=0.9")
    signing_in = carla.get("/portal/")
    assert signing_in.status_code == 200 and 'name="email"' in signing_in.text

    asked = carla.ask_for_link("  Carla@Loja.example ")
    assert asked.status_code == 200 and "Check your inbox" in asked.text
    (requested,) = announced(database, "tickets.portal_link_requested.v1")
    assert (requested["email"], requested["customer_id"], requested["name"]) == (
        CARLA,
        5,
        "Carla Dias",
    )
    assert requested["language"] == "en", "the email speaks the page's language"
    expires_at = datetime.fromisoformat(requested["expires_at"])
    assert timedelta(minutes=29) < expires_at - datetime.now(UTC) <= timedelta(minutes=30)
    token = carla.last_link().rsplit("/", 1)[1]
    with database.transaction() as session:
        (kept,) = session.execute(select(PortalToken)).scalars()
        assert kept.token_hash != token and token not in kept.token_hash, "only its hash"

    followed = carla.get(carla.last_link())
    assert followed.status_code == 302 and followed.headers["Location"] == "/portal/"
    listing = carla.get("/portal/")
    assert "Seus chamados" in listing.text and CARLA in listing.text, (
        "signed in, she reads the language billing knows her by"
    )

    opened = carla.open_ticket(
        subject="Site da loja fora do ar",
        description="Desde as 8h ninguém consegue abrir a loja.",
        department="support",
        emergency="site_down",
    )
    ticket_id = ticket_id_from(opened)
    (event,) = announced(database, "tickets.ticket_opened.v1")
    assert event["ticket_id"] == ticket_id and event["customer_id"] == 5
    assert (event["emergency"], event["priority"]) == (True, "urgent")
    assert (event["requester_email"], event["language"]) == (CARLA, "pt-BR")
    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        assert (ticket.channel, ticket.emergency_kind) == ("portal", "site_down")
        first = session.execute(select(Message).where(Message.ticket_id == ticket_id)).scalar_one()
        assert first.body == "Desde as 8h ninguém consegue abrir a loja."

    page = carla.get(f"/portal/tickets/{ticket_id}")
    assert page.status_code == 200
    assert "Recebemos seu chamado" in page.text, "told it arrived"
    assert "Desde as 8h ninguém consegue abrir a loja." in page.text
    listing = carla.get("/portal/")
    assert "Site da loja fora do ar" in listing.text and "Recebido" in listing.text

    replied = carla.post(f"/portal/tickets/{ticket_id}/reply", {"body": "Agora dá erro 502."})
    assert replied.status_code == 303
    with database.transaction() as session:
        agent = session.get(StaffMember, staff["agent"].id)
        assert agent is not None
        ticket = lifecycle.get_ticket(session, ticket_id)
        assert ticket.status == "open"
        assert replying.reply(session, ticket, agent, GOOD_REPLY).outcome == "sent"
    page = carla.get(f"/portal/tickets/{ticket_id}")
    assert "Agora dá erro 502." in page.text and "certificado vencido;" in page.text
    assert "Aguardando sua resposta" in page.text and "Bia" in page.text
    assert 'id="rate"' not in page.text, "nothing to rate before it is resolved"

    desk_resolves(database, ticket_id, staff["agent"])
    page = carla.get(f"/portal/tickets/{ticket_id}")
    assert 'id="rate"' in page.text and "Resolvido" in page.text
    for said in ("certificado novo instalado", "monitorar as renovações", "Como resolvemos"):
        assert said in page.text

    rated = carla.post(f"/portal/tickets/{ticket_id}/rate", {"rating": "4", "comment": "Rápido"})
    assert rated.status_code == 303
    assert rated.headers["Location"] == f"/portal/tickets/{ticket_id}#rate"
    (rating,) = announced(database, "tickets.ticket_rated.v1")
    assert (rating["ticket_id"], rating["rating"], rating["comment"]) == (ticket_id, 4, "Rápido")
    assert rating["staff_id"] == staff["agent"].id
    page = carla.get(f"/portal/tickets/{ticket_id}")
    assert "4/5" in page.text and "Mudar sua avaliação" in page.text

    carla.post(f"/portal/tickets/{ticket_id}/rate", {"rating": "5", "comment": ""})
    assert [r["rating"] for r in announced(database, "tickets.ticket_rated.v1")] == [4, 5]
    with database.transaction() as session:
        (kept_rating,) = session.execute(select(Rating)).scalars()
        assert (kept_rating.rating, kept_rating.comment) == (5, None), "replaced"

    assert carla.post("/portal/sign-out", {}).status_code == 302
    after = carla.get(f"/portal/tickets/{ticket_id}")
    assert after.status_code == 302
    assert after.headers["Location"] == f"/portal/?next=/portal/tickets/{ticket_id}"


def test_a_new_address_is_verified_by_following_the_link(app: Flask, database: Database) -> None:
    bruno = Visitor(app, database)
    bruno.sign_in(BRUNO)
    (requested,) = announced(database, "tickets.portal_link_requested.v1")
    assert (requested["customer_id"], requested["name"]) == (None, None)
    ticket_id = ticket_id_from(bruno.open_ticket(subject="Quero um plano maior"))
    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        assert (ticket.requester_email, ticket.customer_id) == (BRUNO, None)
        assert ticket.language == "pt-BR"


def test_the_answer_to_a_link_request_is_the_same_for_any_address(
    app: Flask, database: Database
) -> None:
    carla_is_a_customer(database)
    visitor = Visitor(app, database)
    known = visitor.ask_for_link(CARLA)
    unknown = visitor.ask_for_link("ninguem@nada.example")
    assert known.status_code == unknown.status_code == 200
    assert CSRF_FIELD.sub("", known.text).replace(CARLA, "X") == CSRF_FIELD.sub(
        "", unknown.text
    ).replace("ninguem@nada.example", "X")
    assert len(announced(database, "tickets.portal_link_requested.v1")) == 2


# -- P-CONFIDENTIAL -------------------------------------------------------------------


def test_each_customer_sees_only_their_own_tickets(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla_is_a_customer(database)
    carlas = desk_opens(database, CARLA, "Certificado do domínio")
    colleagues = desk_opens(database, "ti@loja.example", "Backup da loja", customer_id=5)
    bruno_s = desk_opens(database, BRUNO, "DNS da oficina")
    desk_resolves(database, carlas, staff["agent"])
    desk_resolves(database, bruno_s, staff["agent"])

    carla, bruno = Visitor(app, database), Visitor(app, database)
    carla.sign_in(CARLA)
    bruno.sign_in(BRUNO)
    carla_list, bruno_list = carla.get("/portal/").text, bruno.get("/portal/").text
    assert "Certificado do domínio" in carla_list and "Backup da loja" in carla_list, (
        "hers, and her company's by the customer billing knows by her address"
    )
    assert "DNS da oficina" not in carla_list
    assert "DNS da oficina" in bruno_list
    assert "Certificado do domínio" not in bruno_list and "Backup da loja" not in bruno_list

    before = counts(database)

    def tried(ticket_id: int) -> list[tuple[int, str]]:
        answers = [
            bruno.get(f"/portal/tickets/{ticket_id}"),
            bruno.post(f"/portal/tickets/{ticket_id}/reply", {"body": "Olá?"}),
            bruno.post(f"/portal/tickets/{ticket_id}/rate", {"rating": "1"}),
        ]
        # The page links back to its own address (the language switcher) and carries a
        # CSRF token stamped with the second; nothing else may tell a ticket that exists
        # from one that does not.
        return [(a.status_code, same_but_for_the_address(a.text, ticket_id)) for a in answers]

    nobody = tried(9999)
    assert [status for status, _ in nobody] == [404, 404, 404]
    for ticket_id in (carlas, colleagues):
        assert tried(ticket_id) == nobody, "the same as none at all"
    assert bruno.get(f"/portal/tickets/{carlas}").status_code == 404
    assert carla.get(f"/portal/tickets/{bruno_s}").status_code == 404
    assert counts(database) == before, "nothing changed"
    assert announced(database, "tickets.ticket_rated.v1") == []
    assert carla.get(f"/portal/tickets/{colleagues}").status_code == 200


def test_internal_notes_and_unsent_replies_never_reach_the_customer(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla_is_a_customer(database)
    ticket_id = desk_opens(database, CARLA, "Site lento")
    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        agent = session.get(StaffMember, staff["agent"].id)
        trainee = session.get(StaffMember, staff["trainee"].id)
        owner = session.get(StaffMember, staff["owner"].id)
        assert agent is not None and trainee is not None and owner is not None
        lifecycle.add_note(session, ticket, agent, "NOTA INTERNA: cliente difícil.")
        held = replying.reply(session, ticket, trainee, GOOD_REPLY.replace("Bia", "Duda retida"))
        returned = replying.reply(
            session, ticket, trainee, GOOD_REPLY.replace("Bia", "Duda devolvida")
        )
        assert held.outcome == returned.outcome == "held"
        assert returned.message is not None
        review.return_to_author(session, returned.message.id, owner, "Mais curto, por favor.")
    carla = Visitor(app, database)
    carla.sign_in(CARLA)
    page = carla.get(f"/portal/tickets/{ticket_id}")
    assert page.status_code == 200 and "Escrevi por e-mail." in page.text
    for hidden in ("NOTA INTERNA", "Duda retida", "Duda devolvida", "Mais curto"):
        assert hidden not in page.text, hidden


# -- sign-in links --------------------------------------------------------------------


def test_a_used_an_expired_or_an_unknown_link_is_refused_with_a_clear_page(
    app: Flask, database: Database
) -> None:
    carla = Visitor(app, database)
    carla.sign_in(CARLA)
    used_link = carla.last_link()
    carla.post("/portal/sign-out", {})
    again = carla.get(used_link)
    assert again.status_code == 410 and "já foi usado" in again.text
    assert carla.get("/portal/tickets/1").status_code == 302, "not signed in by it"

    carla.ask_for_link(CARLA)
    stale_link = carla.last_link()
    with database.transaction() as session:
        session.execute(
            update(PortalToken)
            .where(PortalToken.used_at.is_(None))
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    expired = carla.get(stale_link)
    assert expired.status_code == 410 and "expirou" in expired.text
    assert 'name="email"' in expired.text, "with a way to ask for a new one"

    unknown = carla.get("/portal/sign-in/made-up-token")
    assert unknown.status_code == 404 and "Não reconhecemos" in unknown.text


def test_an_address_gets_at_most_five_links_an_hour(app: Flask, database: Database) -> None:
    visitor = Visitor(app, database, language="en")
    for _ in range(5):
        assert visitor.ask_for_link(CARLA).status_code == 200
    refused = visitor.ask_for_link(CARLA)
    assert refused.status_code == 429
    assert "5 sign-in links to this address in the last hour" in refused.text
    assert len(announced(database, "tickets.portal_link_requested.v1")) == 5
    assert visitor.ask_for_link(BRUNO).status_code == 200, "each address has its own limit"


def test_a_link_returns_the_customer_to_the_page_they_asked_for_and_nowhere_else(
    app: Flask, database: Database
) -> None:
    carla_is_a_customer(database)
    ticket_id = desk_opens(database, CARLA, "Certificado do domínio")
    carla = Visitor(app, database)
    redirected = carla.get(f"/portal/tickets/{ticket_id}")
    assert redirected.status_code == 302
    form = carla.get(redirected.headers["Location"])
    assert f'name="next" value="/portal/tickets/{ticket_id}"' in form.text
    carla.ask_for_link(CARLA, next_path=f"/portal/tickets/{ticket_id}")
    link = carla.last_link()
    assert link.endswith(f"?next=/portal/tickets/{ticket_id}")
    landed = carla.get(link)
    assert landed.headers["Location"] == f"/portal/tickets/{ticket_id}"

    for elsewhere in ("https://evil.example/", "//evil.example/portal/", "/desk/", "/portal/../x"):
        carla.ask_for_link(CARLA, next_path=elsewhere)
        link = carla.last_link()
        assert "next=" not in link, elsewhere
        crafted = carla.get(f"{link}?next={elsewhere}")
        assert crafted.headers["Location"] == "/portal/", elsewhere


# -- bad input ------------------------------------------------------------------------


def test_bad_input_is_answered_with_the_form_and_its_message_never_a_500(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla = Visitor(app, database, language="en")
    bad_address = carla.ask_for_link("not-an-address")
    assert bad_address.status_code == 422 and "Enter a valid email address" in bad_address.text
    carla.sign_in(CARLA)

    no_subject = carla.open_ticket(subject="   ")
    assert no_subject.status_code == 422 and "Write a short subject." in no_subject.text
    assert "Meu site não abre desde hoje cedo." in no_subject.text, "what was typed stays"
    odd_kind = carla.open_ticket(emergency="meteor_strike")
    assert odd_kind.status_code == 422 and "Choose one of the options." in odd_kind.text
    odd_team = carla.open_ticket(department="legal")
    assert odd_team.status_code == 422 and "Choose one of the teams." in odd_team.text
    no_csrf = carla.post("/portal/tickets/new", {"subject": "x", "description": "y"}, csrf=False)
    assert no_csrf.status_code == 400
    assert counts(database)[0] == 0, "no ticket opened"

    ticket_id = ticket_id_from(carla.open_ticket())
    empty = carla.post(f"/portal/tickets/{ticket_id}/reply", {"body": " "})
    assert empty.status_code == 422 and "Write your message before sending it." in empty.text
    early = carla.post(f"/portal/tickets/{ticket_id}/rate", {"rating": "5"})
    assert early.status_code == 422 and "once it is resolved" in early.text
    desk_resolves(database, ticket_id, staff["agent"])
    for rating in ("0", "9", "", "four", "-1", "3.5"):
        refused = carla.post(f"/portal/tickets/{ticket_id}/rate", {"rating": rating})
        assert refused.status_code == 422, rating
        assert "Choose a rating from 1 to 5." in refused.text, rating
    long_comment = carla.post(
        f"/portal/tickets/{ticket_id}/rate", {"rating": "4", "comment": "x" * 5001}
    )
    assert long_comment.status_code == 422 and "5000 characters" in long_comment.text
    no_csrf = carla.post(f"/portal/tickets/{ticket_id}/rate", {"rating": "5"}, csrf=False)
    assert no_csrf.status_code == 400
    assert announced(database, "tickets.ticket_rated.v1") == []


# -- languages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "language", "says"),
    [
        ("pt-BR,pt;q=0.9", "pt-BR", ("Entre para acompanhar seus chamados", "Seus chamados")),
        ("es-AR,es;q=0.9", "es", ("Inicie sesión para seguir sus solicitudes", "Sus solicitudes")),
        ("en-GB,en;q=0.8", "en", ("Sign in to follow your requests", "Your requests")),
    ],
)
def test_each_language_renders_from_the_browsers_choice(
    app: Flask, database: Database, accept: str, language: str, says: tuple[str, str]
) -> None:
    visitor = Visitor(app, database, language=accept)
    signing_in = visitor.get("/portal/")
    assert signing_in.status_code == 200
    assert says[0] in signing_in.text and f'<html lang="{language}">' in signing_in.text
    visitor.sign_in(BRUNO)
    visitor.open_ticket()
    listing = visitor.get("/portal/")
    assert says[1] in listing.text and f'<html lang="{language}">' in listing.text
    (ticket_id,) = re.findall(r'href="/portal/tickets/(\d+)"', listing.text)
    assert visitor.get(f"/portal/tickets/{ticket_id}").status_code == 200
    assert visitor.get("/portal/tickets/new").status_code == 200


def test_the_customers_own_language_comes_first_and_the_switcher_overrides_it(
    app: Flask, database: Database
) -> None:
    carla_is_a_customer(database)
    carla = Visitor(app, database, language="en-US,en;q=0.9")
    carla.sign_in(CARLA)
    assert "Seus chamados" in carla.get("/portal/").text, "billing knows she speaks Portuguese"
    switched = carla.get("/portal/language/es?next=/portal/tickets/new")
    assert switched.headers["Location"] == "/portal/tickets/new"
    assert "Abrir una solicitud" in carla.get("/portal/tickets/new").text
    assert carla.get("/portal/language/en?next=https://evil.example/").headers["Location"] == (
        "/portal/"
    )
    assert "Your requests" in carla.get("/portal/").text


def test_customers_attach_files_only_they_and_staff_can_download(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla_is_a_customer(database)
    carlas = desk_opens(database, CARLA, "Erro no site")
    carla, bruno = Visitor(app, database), Visitor(app, database)
    carla.sign_in(CARLA)
    bruno.sign_in(BRUNO)
    page = carla.get(f"/portal/tickets/{carlas}").text
    token = page.split('name="csrf_token" value="')[1].split('"')[0]
    sent = carla.client.post(
        f"/portal/tickets/{carlas}/reply",
        data={
            "body": "Segue o print.",
            "csrf_token": token,
            "files": [(io.BytesIO(b"\x89PNG fake"), "tela.png")],
        },
        content_type="multipart/form-data",
    )
    assert sent.status_code == 303
    with database.transaction() as session:
        (kept,) = session.execute(select(Attachment)).scalars()
        kept_id = kept.id
    assert "tela.png" in carla.get(f"/portal/tickets/{carlas}").text
    download = carla.get(f"/portal/attachments/{kept_id}")
    assert download.status_code == 200 and download.data == b"\x89PNG fake"
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert bruno.get(f"/portal/attachments/{kept_id}").status_code == 404, "P-CONFIDENTIAL"
    assert bruno.get("/portal/attachments/9999").status_code == 404


def test_a_signed_in_customer_reaches_no_staff_page_or_api(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla_is_a_customer(database)
    desk_opens(database, BRUNO, "DNS da oficina")
    carla = Visitor(app, database)
    carla.sign_in(CARLA)
    for path in (
        "/api/tickets",
        "/api/tickets?q=oficina",
        "/desk/",
        "/desk/?q=oficina",
        "/api/reviews",
    ):
        answer = carla.client.get(path, headers={"Accept": "application/json"})
        assert answer.status_code == 401, path
        assert "oficina" not in answer.get_data(as_text=True).lower()
