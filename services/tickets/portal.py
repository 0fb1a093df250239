"""The customer portal: sign in by an emailed link, open a request, follow its
conversation, answer, and rate the resolution.

Customers are not staff: their identity is an address proven by a sign-in link, kept
in the session under a key of its own, never Flask-Login's staff user. Pages speak the
customer's language (billing's record of them, else the browser's, else Portuguese),
and the switcher on every page overrides it. What a customer may see goes through
``portal_access`` (P-CONFIDENTIAL) on every page and every form.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import wraps
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel.dates import format_skeleton
from flask import (
    Blueprint,
    Flask,
    current_app,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from sqlalchemy.orm import Session

from services.tickets import attachments, lifecycle, portal_access, resolution
from services.tickets.lifecycle import EMERGENCIES, MAX_BODY, NewTicket, NotFound, TicketError
from services.tickets.models import Attachment, Message, Ticket
from shared.db import Database
from shared.events.contracts import DEPARTMENTS, LANGUAGES
from shared.logging import get_logger

portal = Blueprint("portal", __name__, url_prefix="/portal", template_folder="templates")
log = get_logger(__name__)

SESSION_EMAIL = "portal_email"
"""The signed-in customer's address; only redeeming a sign-in link sets it."""
SESSION_LANGUAGE = "portal_language"
"""The language the customer picked with the switcher, over any other choice."""
DEFAULT_TIMEZONE = "America/Sao_Paulo"
_TEMPLATES = "tickets/portal"
NO_EMERGENCY = "none"
SUBJECT_LIMIT = 300
COMMENT_LIMIT = 5000
RATINGS = (1, 2, 3, 4, 5)
LANGUAGE_NAMES = {"pt-BR": "Português", "es": "Español", "en": "English"}
"""Each language in its own words, for the switcher."""
_LOCALES = {"pt-BR": "pt_BR", "es": "es", "en": "en"}

F = TypeVar("F", bound=Callable[..., Any])

WORDS: dict[str, dict[str, str]] = {
    "pt-BR": {
        "portal": "Central do cliente",
        "languages": "Idioma",
        "signed_in_as": "Você entrou como",
        "sign_out": "Sair",
        "sign_in_title": "Entre para acompanhar seus chamados",
        "sign_in_intro": (
            "Informe seu e-mail e enviaremos um link para você entrar. Não precisa de senha."
        ),
        "email_label": "Seu e-mail",
        "send_link": "Enviar link de acesso",
        "invalid_email": "Informe um e-mail válido, como nome@exemplo.com.",
        "too_many": (
            "Já enviamos 5 links de acesso para este endereço na última hora. "
            "Use o mais recente ou tente de novo mais tarde."
        ),
        "inbox_title": "Confira seu e-mail",
        "inbox_text": "Estamos enviando um link de acesso para {email}.",
        "inbox_rules": "O link funciona uma única vez, dentro de 30 minutos.",
        "inbox_hint": (
            "Pode levar um minuto para chegar. Não encontrou? Veja a caixa de spam "
            "ou confira se o endereço está certo."
        ),
        "inbox_again": "Pedir outro link",
        "link_title": "Este link não pode ser usado",
        "link:unknown": (
            "Não reconhecemos este link de acesso. Confira se ele foi copiado inteiro "
            "ou peça um novo abaixo."
        ),
        "link:used": (
            "Este link de acesso já foi usado: cada link funciona uma única vez. "
            "Peça um novo abaixo."
        ),
        "link:expired": (
            "Este link de acesso expirou: os links valem por 30 minutos. Peça um novo abaixo."
        ),
        "your_tickets": "Seus chamados",
        "new_ticket": "Abrir um chamado",
        "no_tickets": "Você ainda não tem chamados. Se precisar de ajuda, é só abrir um.",
        "reference": "Referência",
        "subject": "Assunto",
        "status": "Situação",
        "updated": "Última atualização",
        "opened": "Aberto em",
        "status:new": "Recebido",
        "status:open": "Em andamento",
        "status:waiting": "Aguardando sua resposta",
        "status:on_hold": "Em espera",
        "status:resolved": "Resolvido",
        "status:closed": "Encerrado",
        "subject_label": "Assunto",
        "subject_hint": "Em poucas palavras, por exemplo: “O site da loja não abre”.",
        "description_label": "Descreva o que está acontecendo",
        "description_hint": (
            "Conte qual site ou endereço foi afetado, desde quando e o que aparece na tela, "
            "como uma mensagem de erro."
        ),
        "department_label": "Qual equipe deve cuidar disso?",
        "department:support": "Suporte técnico",
        "department:billing": "Cobrança e pagamentos",
        "department:sales": "Planos e vendas",
        "emergency_legend": "Algo parou de funcionar?",
        "emergency_hint": (
            "Emergências são atendidas a qualquer hora, inclusive à noite e nos fins de semana. "
            "O restante é respondido em horário comercial."
        ),
        "emergency:none": "Não, não é uma emergência",
        "emergency:none:help": "Algo precisa de atenção, mas o site e o e-mail estão funcionando.",
        "emergency:site_down": "Meu site está fora do ar",
        "emergency:site_down:help": (
            "Os visitantes não conseguem abrir o site ou veem um erro no lugar das páginas."
        ),
        "emergency:email_down": "Meu e-mail parou de funcionar",
        "emergency:email_down:help": (
            "Não consigo enviar nem receber mensagens nos endereços do meu domínio."
        ),
        "emergency:data_at_risk": "Posso perder arquivos ou dados",
        "emergency:data_at_risk:help": (
            "Arquivos ou bancos de dados sumiram, estão corrompidos "
            "ou algo está prestes a apagá-los."
        ),
        "emergency:security": "Acho que invadiram meu site ou conta",
        "emergency:security:help": (
            "O site mostra páginas que não são suas, saem e-mails em seu nome "
            "ou uma senha foi trocada sem você saber."
        ),
        "send_ticket": "Enviar chamado",
        "subject_required": "Escreva um assunto curto.",
        "subject_too_long": "O assunto está longo demais (no máximo 300 caracteres).",
        "description_required": "Descreva o que está acontecendo.",
        "too_long": "O texto está longo demais.",
        "department_invalid": "Escolha uma das equipes.",
        "emergency_invalid": "Escolha uma das opções.",
        "form_problems": "Confira os campos indicados abaixo.",
        "ticket_received": "Recebemos seu chamado. Também vamos avisar você por e-mail.",
        "back": "Voltar aos seus chamados",
        "conversation": "Conversa",
        "you": "Você",
        "team": "Equipe de suporte",
        "reply_label": "Sua resposta",
        "send_reply": "Enviar resposta",
        "reply_required": "Escreva sua mensagem antes de enviar.",
        "attach": "Anexar arquivos (até 10 MB cada)",
        "attached_too_big": (
            "Estes arquivos passam de 10 MB e não foram anexados: {names}. "
            "Mande um link para eles, por favor."
        ),
        "reply_sent": "Sua mensagem foi adicionada ao chamado.",
        "closed_note": (
            "Este chamado está encerrado. Se precisar de mais ajuda, abra um novo chamado "
            "e cite a referência deste."
        ),
        "resolution": "Como resolvemos",
        "cause": "O que causou",
        "fix": "O que fizemos",
        "prevention": "Como evitamos que aconteça de novo",
        "rate_title": "Como foi o nosso atendimento?",
        "rating_legend": "Sua nota, de 1 (muito ruim) a 5 (excelente)",
        "rating:1": "Muito ruim",
        "rating:2": "Ruim",
        "rating:3": "Razoável",
        "rating:4": "Bom",
        "rating:5": "Excelente",
        "comment_label": "Quer nos contar algo mais? (opcional)",
        "send_rating": "Enviar avaliação",
        "change_rating": "Mudar sua avaliação",
        "your_rating": "Sua avaliação",
        "rating_invalid": "Escolha uma nota de 1 a 5.",
        "comment_too_long": "O comentário está longo demais (no máximo 5000 caracteres).",
        "not_rateable": "Um chamado pode ser avaliado depois de resolvido.",
        "rated": "Obrigado pela sua avaliação!",
        "not_found_title": "Chamado não encontrado",
        "not_found_text": (
            "Não encontramos este chamado entre os seus. Confira se você entrou com o "
            "e-mail que usou para falar com a gente."
        ),
    },
    "es": {
        "portal": "Atención al cliente",
        "languages": "Idioma",
        "signed_in_as": "Sesión iniciada como",
        "sign_out": "Cerrar sesión",
        "sign_in_title": "Inicie sesión para seguir sus solicitudes",
        "sign_in_intro": (
            "Escriba su correo y le enviaremos un enlace para iniciar sesión. "
            "No hace falta contraseña."
        ),
        "email_label": "Su correo electrónico",
        "send_link": "Enviarme el enlace",
        "invalid_email": "Escriba un correo válido, como nombre@ejemplo.com.",
        "too_many": (
            "Ya enviamos 5 enlaces a esta dirección en la última hora. "
            "Use el más reciente o vuelva a intentarlo más tarde."
        ),
        "inbox_title": "Revise su correo",
        "inbox_text": "Estamos enviando un enlace para iniciar sesión a {email}.",
        "inbox_rules": "El enlace funciona una sola vez, dentro de los próximos 30 minutos.",
        "inbox_hint": (
            "Puede tardar un minuto en llegar. ¿No lo ve? Revise la carpeta de spam "
            "o compruebe que la dirección sea correcta."
        ),
        "inbox_again": "Pedir otro enlace",
        "link_title": "Este enlace no se puede usar",
        "link:unknown": (
            "No reconocemos este enlace. Compruebe que se haya copiado completo "
            "o pida uno nuevo aquí abajo."
        ),
        "link:used": (
            "Este enlace ya se usó: cada enlace funciona una sola vez. Pida uno nuevo aquí abajo."
        ),
        "link:expired": (
            "Este enlace venció: los enlaces valen 30 minutos. Pida uno nuevo aquí abajo."
        ),
        "your_tickets": "Sus solicitudes",
        "new_ticket": "Abrir una solicitud",
        "no_tickets": "Todavía no tiene solicitudes. Si necesita ayuda, abra una.",
        "reference": "Referencia",
        "subject": "Asunto",
        "status": "Estado",
        "updated": "Última actualización",
        "opened": "Abierta el",
        "status:new": "Recibida",
        "status:open": "En curso",
        "status:waiting": "Esperando su respuesta",
        "status:on_hold": "En espera",
        "status:resolved": "Resuelta",
        "status:closed": "Cerrada",
        "subject_label": "Asunto",
        "subject_hint": "En pocas palabras, por ejemplo: «El sitio de la tienda no abre».",
        "description_label": "Describa lo que está pasando",
        "description_hint": (
            "Cuéntenos qué sitio o dirección está afectado, desde cuándo y qué ve en la "
            "pantalla, como un mensaje de error."
        ),
        "department_label": "¿Qué equipo debe atenderla?",
        "department:support": "Soporte técnico",
        "department:billing": "Facturación y pagos",
        "department:sales": "Planes y ventas",
        "emergency_legend": "¿Algo dejó de funcionar?",
        "emergency_hint": (
            "Las emergencias se atienden a cualquier hora, también de noche y los fines de "
            "semana. Lo demás se responde en horario de atención."
        ),
        "emergency:none": "No, no es una emergencia",
        "emergency:none:help": "Algo necesita atención, pero el sitio y el correo funcionan.",
        "emergency:site_down": "Mi sitio web está caído",
        "emergency:site_down:help": (
            "Los visitantes no pueden abrir el sitio o ven un error en lugar de las páginas."
        ),
        "emergency:email_down": "Mi correo dejó de funcionar",
        "emergency:email_down:help": (
            "No puedo enviar ni recibir mensajes en las direcciones de mi dominio."
        ),
        "emergency:data_at_risk": "Puedo perder archivos o datos",
        "emergency:data_at_risk:help": (
            "Faltan archivos o bases de datos, están dañados o algo está por borrarlos."
        ),
        "emergency:security": "Creo que entraron a mi sitio o cuenta",
        "emergency:security:help": (
            "El sitio muestra páginas que no son suyas, salen correos en su nombre "
            "o alguien cambió una contraseña sin que usted lo supiera."
        ),
        "send_ticket": "Enviar solicitud",
        "subject_required": "Escriba un asunto corto.",
        "subject_too_long": "El asunto es demasiado largo (300 caracteres como máximo).",
        "description_required": "Describa lo que está pasando.",
        "too_long": "El texto es demasiado largo.",
        "department_invalid": "Elija uno de los equipos.",
        "emergency_invalid": "Elija una de las opciones.",
        "form_problems": "Revise los campos indicados abajo.",
        "ticket_received": "Recibimos su solicitud. También le avisaremos por correo.",
        "back": "Volver a sus solicitudes",
        "conversation": "Conversación",
        "you": "Usted",
        "team": "Equipo de soporte",
        "reply_label": "Su respuesta",
        "send_reply": "Enviar respuesta",
        "reply_required": "Escriba su mensaje antes de enviarlo.",
        "attach": "Adjuntar archivos (hasta 10 MB cada uno)",
        "attached_too_big": (
            "Estos archivos superan 10 MB y no se adjuntaron: {names}. "
            "Envíenos un enlace, por favor."
        ),
        "reply_sent": "Su mensaje se agregó a la solicitud.",
        "closed_note": (
            "Esta solicitud está cerrada. Si necesita más ayuda, abra una nueva "
            "y mencione la referencia de esta."
        ),
        "resolution": "Cómo lo resolvimos",
        "cause": "Qué lo causó",
        "fix": "Qué hicimos",
        "prevention": "Cómo evitamos que vuelva a pasar",
        "rate_title": "¿Qué le pareció nuestra atención?",
        "rating_legend": "Su nota, de 1 (muy mala) a 5 (excelente)",
        "rating:1": "Muy mala",
        "rating:2": "Mala",
        "rating:3": "Regular",
        "rating:4": "Buena",
        "rating:5": "Excelente",
        "comment_label": "¿Quiere contarnos algo más? (opcional)",
        "send_rating": "Enviar valoración",
        "change_rating": "Cambiar su valoración",
        "your_rating": "Su valoración",
        "rating_invalid": "Elija una nota del 1 al 5.",
        "comment_too_long": "El comentario es demasiado largo (5000 caracteres como máximo).",
        "not_rateable": "Una solicitud se puede valorar cuando está resuelta.",
        "rated": "¡Gracias por su valoración!",
        "not_found_title": "Solicitud no encontrada",
        "not_found_text": (
            "No encontramos esta solicitud entre las suyas. Compruebe que inició sesión con "
            "el correo que usó para escribirnos."
        ),
    },
    "en": {
        "portal": "Customer support",
        "languages": "Language",
        "signed_in_as": "Signed in as",
        "sign_out": "Sign out",
        "sign_in_title": "Sign in to follow your requests",
        "sign_in_intro": (
            "Enter your email address and we will send you a link to sign in. No password needed."
        ),
        "email_label": "Your email address",
        "send_link": "Email me a sign-in link",
        "invalid_email": "Enter a valid email address, like name@example.com.",
        "too_many": (
            "We already sent 5 sign-in links to this address in the last hour. "
            "Use the most recent one, or try again later."
        ),
        "inbox_title": "Check your inbox",
        "inbox_text": "We are sending a sign-in link to {email}.",
        "inbox_rules": "The link works once, within 30 minutes.",
        "inbox_hint": (
            "It can take a minute to arrive. Not there? Look in your spam folder, "
            "or check that the address is right."
        ),
        "inbox_again": "Ask for another link",
        "link_title": "This link cannot be used",
        "link:unknown": (
            "We do not recognise this sign-in link. Check that it was copied whole, "
            "or ask for a new one below."
        ),
        "link:used": (
            "This sign-in link was already used: each link works only once. "
            "Ask for a new one below."
        ),
        "link:expired": (
            "This sign-in link has expired: links work for 30 minutes. Ask for a new one below."
        ),
        "your_tickets": "Your requests",
        "new_ticket": "Open a new request",
        "no_tickets": "You have no requests yet. If you need help, open one.",
        "reference": "Reference",
        "subject": "Subject",
        "status": "Status",
        "updated": "Last update",
        "opened": "Opened",
        "status:new": "Received",
        "status:open": "In progress",
        "status:waiting": "Waiting for your answer",
        "status:on_hold": "On hold",
        "status:resolved": "Resolved",
        "status:closed": "Closed",
        "subject_label": "Subject",
        "subject_hint": "In a few words, for example: “The shop's website does not open”.",
        "description_label": "Describe what is happening",
        "description_hint": (
            "Tell us which site or address is affected, since when, and what you see on the "
            "screen, such as an error message."
        ),
        "department_label": "Which team should look at it?",
        "department:support": "Technical support",
        "department:billing": "Billing and payments",
        "department:sales": "Plans and sales",
        "emergency_legend": "Has something stopped working?",
        "emergency_hint": (
            "Emergencies are answered at any hour, nights and weekends included. "
            "Everything else is answered during business hours."
        ),
        "emergency:none": "No, it is not an emergency",
        "emergency:none:help": "Something needs attention, but your site and email are working.",
        "emergency:site_down": "My website is down",
        "emergency:site_down:help": (
            "Visitors cannot open your site, or they see an error instead of your pages."
        ),
        "emergency:email_down": "My email has stopped working",
        "emergency:email_down:help": (
            "You cannot send or receive messages at your domain's addresses."
        ),
        "emergency:data_at_risk": "I may lose files or data",
        "emergency:data_at_risk:help": (
            "Files or databases are missing or damaged, or something is about to erase them."
        ),
        "emergency:security": "I think someone broke into my site or account",
        "emergency:security:help": (
            "Your site shows pages you did not make, email goes out in your name, "
            "or a password was changed without you knowing."
        ),
        "send_ticket": "Send request",
        "subject_required": "Write a short subject.",
        "subject_too_long": "The subject is too long (300 characters at most).",
        "description_required": "Describe what is happening.",
        "too_long": "The text is too long.",
        "department_invalid": "Choose one of the teams.",
        "emergency_invalid": "Choose one of the options.",
        "form_problems": "Check the fields marked below.",
        "ticket_received": "We received your request. We will keep you posted by email too.",
        "back": "Back to your requests",
        "conversation": "Conversation",
        "you": "You",
        "team": "Support team",
        "reply_label": "Your reply",
        "send_reply": "Send reply",
        "reply_required": "Write your message before sending it.",
        "attach": "Attach files (up to 10 MB each)",
        "attached_too_big": (
            "These files are over 10 MB and were not attached: {names}. "
            "Please send us a link to them."
        ),
        "reply_sent": "Your message was added to the request.",
        "closed_note": (
            "This request is closed. If you need more help, open a new request and mention "
            "this one's reference."
        ),
        "resolution": "How we solved it",
        "cause": "What caused it",
        "fix": "What we did",
        "prevention": "How we keep it from happening again",
        "rate_title": "How did we do?",
        "rating_legend": "Your rating, from 1 (very bad) to 5 (excellent)",
        "rating:1": "Very bad",
        "rating:2": "Bad",
        "rating:3": "Fair",
        "rating:4": "Good",
        "rating:5": "Excellent",
        "comment_label": "Anything else you would like to tell us? (optional)",
        "send_rating": "Send rating",
        "change_rating": "Change your rating",
        "your_rating": "Your rating",
        "rating_invalid": "Choose a rating from 1 to 5.",
        "comment_too_long": "The comment is too long (5000 characters at most).",
        "not_rateable": "A request can be rated once it is resolved.",
        "rated": "Thank you for your rating!",
        "not_found_title": "Request not found",
        "not_found_text": (
            "We could not find this request among yours. Check that you signed in with the "
            "address you used to write to us."
        ),
    },
}

LINK_REFUSED_STATUS = {"unknown": 404, "used": 410, "expired": 410}


def init_portal(app: Flask) -> None:
    """Serve the customer portal from ``app`` (the tickets service)."""
    app.register_blueprint(portal)


# -- who and in which language ------------------------------------------------------


@contextmanager
def _transaction() -> Iterator[Session]:
    database: Database = current_app.extensions["cortesia.database"]
    with database.transaction() as db_session:
        yield db_session


def signed_in_email() -> str | None:
    email = session.get(SESSION_EMAIL)
    return email if isinstance(email, str) and email else None


def _customer_profile() -> tuple[str | None, str]:
    """(language, timezone) billing knows the signed-in customer by, once per request."""
    if "portal_profile" not in g:
        language, timezone = None, DEFAULT_TIMEZONE
        email = signed_in_email()
        if email is not None:
            with _transaction() as db_session:
                customer = portal_access.customer_with_email(db_session, email)
                if customer is not None:
                    language, timezone = customer.language, customer.timezone
        g.portal_profile = (language, timezone)
    profile: tuple[str | None, str] = g.portal_profile
    return profile


def page_language() -> str:
    chosen = session.get(SESSION_LANGUAGE)
    if chosen in LANGUAGES:
        return str(chosen)
    known, _ = _customer_profile()
    if known in LANGUAGES:
        return str(known)
    return request.accept_languages.best_match(LANGUAGES) or LANGUAGES[0]


def _words() -> Mapping[str, str]:
    return WORDS[page_language()]


def _when(moment: datetime | None) -> str:
    """A moment as the customer reads it: their language, their clock."""
    if moment is None:
        return ""
    _, timezone = _customer_profile()
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TIMEZONE)
    moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    locale = _LOCALES[page_language()]
    day = format_skeleton("yMMMd", moment, tzinfo=zone, locale=locale)
    return f"{day}, {format_skeleton('Hm', moment, tzinfo=zone, locale=locale)}"


@portal.before_request
def _know_the_customer() -> None:
    # Read before any page opens its own transaction: SQLite takes the write lock at the
    # first statement, and a second transaction inside the first would wait on it.
    _customer_profile()


@portal.context_processor
def _page_context() -> dict[str, Any]:
    language = page_language()
    # After a form's POST the page's own address is not one to come back to by GET.
    here = request.script_root + request.full_path.rstrip("?")
    return {
        "lang": language,
        "words": WORDS[language],
        "languages": LANGUAGE_NAMES,
        "customer_email": signed_in_email(),
        "here": here if request.method == "GET" else None,
        "when": _when,
    }


def _portal_prefix() -> str:
    return f"{request.script_root}{portal.url_prefix}"


def safe_next(target: str | None) -> str | None:
    """``target`` if it is a path of this portal on this site, else None: a sign-in
    link must never send a customer elsewhere (an open redirect helps phishing)."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or target.startswith("//"):
        return None
    prefix = _portal_prefix()
    if parts.path != prefix and not parts.path.startswith(prefix + "/"):
        return None
    if ".." in unquote(parts.path).split("/"):
        return None
    return target


def customer_required(view: F) -> F:
    """Customer pages: a visitor who has not signed in is sent to sign in, and back."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        if signed_in_email() is None:
            if request.method == "GET":
                back = request.script_root + request.full_path.rstrip("?")
            elif "ticket_id" in kwargs:
                back = url_for("portal.ticket", ticket_id=kwargs["ticket_id"])
            else:
                back = None
            return redirect(url_for("portal.home", next=back))
        return view(*args, **kwargs)

    return cast(F, guarded)


def _email() -> str:
    email = signed_in_email()
    assert email is not None, "guarded by customer_required"
    return email


def _actor() -> str:
    return f"customer:{_email()}"


# -- signing in -----------------------------------------------------------------------


@portal.get("/")
def home() -> Any:
    email = signed_in_email()
    if email is None:
        return _sign_in_page(next_path=safe_next(request.args.get("next")))
    with _transaction() as db_session:
        tickets = portal_access.visible_tickets(db_session, email)
        page = render_template(f"{_TEMPLATES}/list.html", tickets=tickets)
    return page


def _sign_in_page(
    *, next_path: str | None, error: str | None = None, email: str = "", status: int = 200
) -> Any:
    return render_template(
        f"{_TEMPLATES}/sign_in.html", next_path=next_path, error=error, email=email
    ), status


@portal.post("/link")
def request_link() -> Any:
    typed = request.form.get("email", "").strip()
    next_path = safe_next(request.form.get("next"))
    words = _words()
    public_url: str = current_app.extensions["cortesia.settings"].public_url
    try:
        with _transaction() as db_session:
            portal_access.request_link(
                db_session, typed, page_language(), public_url, next_path=next_path
            )
    except portal_access.InvalidEmail:
        return _sign_in_page(
            next_path=next_path, error=words["invalid_email"], email=typed, status=422
        )
    except portal_access.TooManyLinks:
        log.info("portal.link_rate_limited")
        return _sign_in_page(next_path=next_path, error=words["too_many"], email=typed, status=429)
    # The same page whether or not the address is known: it tells nobody who is a customer.
    return render_template(f"{_TEMPLATES}/check_inbox.html", email=typed, next_path=next_path)


@portal.get("/sign-in/<token>")
def sign_in(token: str) -> Any:
    try:
        with _transaction() as db_session:
            email = portal_access.redeem(db_session, token)
    except portal_access.PortalAccessError as refused:
        return render_template(
            f"{_TEMPLATES}/link_refused.html", reason=refused.reason
        ), LINK_REFUSED_STATUS.get(refused.reason, 400)
    language = session.get(SESSION_LANGUAGE)
    # A fresh session: nothing of whoever used this browser before carries over.
    session.clear()
    session[SESSION_EMAIL] = email
    if language in LANGUAGES:
        session[SESSION_LANGUAGE] = language
    session.permanent = True
    g.pop("portal_profile", None)
    log.info("portal.signed_in")
    return redirect(safe_next(request.args.get("next")) or url_for("portal.home"))


@portal.post("/sign-out")
def sign_out() -> Any:
    session.pop(SESSION_EMAIL, None)
    return redirect(url_for("portal.home"))


@portal.get("/language/<code>")
def choose_language(code: str) -> Any:
    if code in LANGUAGES:
        session[SESSION_LANGUAGE] = code
    return redirect(safe_next(request.args.get("next")) or url_for("portal.home"))


# -- requests -------------------------------------------------------------------------


@portal.route("/tickets/new", methods=["GET", "POST"])
@customer_required
def new_ticket() -> Any:
    values = {
        "subject": request.form.get("subject", ""),
        "description": request.form.get("description", ""),
        "department": request.form.get("department", "support"),
        "emergency": request.form.get("emergency", NO_EMERGENCY),
    }
    if request.method == "GET":
        return _new_ticket_page(values, {})
    errors = _ticket_form_errors(values)
    if errors:
        return _new_ticket_page(values, errors, status=422)
    emergency = None if values["emergency"] == NO_EMERGENCY else values["emergency"]
    email = _email()
    try:
        with _transaction() as db_session:
            # Named here rather than left to the desk's exact match on the address, so a
            # new ticket belongs to the customer the portal shows it under.
            customer = portal_access.customer_with_email(db_session, email)
            opened = lifecycle.open_ticket(
                db_session,
                NewTicket(
                    subject=values["subject"],
                    body=values["description"],
                    requester_email=email,
                    customer_id=customer.customer_id if customer else None,
                    department=values["department"],
                    emergency_kind=emergency,
                    channel="portal",
                    language=page_language(),
                ),
                actor=_actor(),
            )
            ticket_id = opened.id
    except TicketError as refused:
        return _new_ticket_page(values, {"form": str(refused)}, status=422)
    flash(_words()["ticket_received"])
    return redirect(url_for("portal.ticket", ticket_id=ticket_id), code=303)


def _ticket_form_errors(values: Mapping[str, str]) -> dict[str, str]:
    words = _words()
    errors: dict[str, str] = {}
    subject = values["subject"].strip()
    if not subject:
        errors["subject"] = words["subject_required"]
    elif len(subject) > SUBJECT_LIMIT:
        errors["subject"] = words["subject_too_long"]
    description = values["description"].strip()
    if not description:
        errors["description"] = words["description_required"]
    elif len(description) > MAX_BODY:
        errors["description"] = words["too_long"]
    if values["department"] not in DEPARTMENTS:
        errors["department"] = words["department_invalid"]
    if values["emergency"] != NO_EMERGENCY and values["emergency"] not in EMERGENCIES:
        errors["emergency"] = words["emergency_invalid"]
    return errors


def _new_ticket_page(
    values: Mapping[str, str], errors: Mapping[str, str], status: int = 200
) -> Any:
    return render_template(
        f"{_TEMPLATES}/new_ticket.html",
        values=values,
        errors=errors,
        departments=DEPARTMENTS,
        emergencies=(NO_EMERGENCY, *EMERGENCIES),
    ), status


@portal.get("/tickets/<int:ticket_id>")
@customer_required
def ticket(ticket_id: int) -> Any:
    return _ticket_page(ticket_id)


@portal.post("/tickets/<int:ticket_id>/reply")
@customer_required
def reply(ticket_id: int) -> Any:
    body = request.form.get("body", "")
    words = _words()
    with _transaction() as db_session:
        found = _visible_or_none(db_session, ticket_id)
        if found is None:
            return _not_found()
        error = None
        if found.status == "closed":
            error = words["closed_note"]
        elif not body.strip():
            error = words["reply_required"]
        elif len(body.strip()) > MAX_BODY:
            error = words["too_long"]
        else:
            try:
                kept = lifecycle.customer_message(db_session, found, body, _actor())
                db_session.flush()
                too_big = _keep_files(db_session, found.id, kept.id)
            except TicketError as refused:
                error = str(refused)
    if error is not None:
        return _ticket_page(ticket_id, reply_error=error, reply_body=body, status=422)
    if too_big:
        flash(words["attached_too_big"].format(names=", ".join(too_big)))
    flash(words["reply_sent"])
    return redirect(url_for("portal.ticket", ticket_id=ticket_id), code=303)


@portal.post("/tickets/<int:ticket_id>/rate")
@customer_required
def rate(ticket_id: int) -> Any:
    typed = request.form.get("rating", "").strip()
    comment = request.form.get("comment", "")
    words = _words()
    with _transaction() as db_session:
        found = _visible_or_none(db_session, ticket_id)
        if found is None:
            return _not_found()
        rating = int(typed) if typed.isdigit() else None
        error = None
        if found.resolved_at is None:
            error = words["not_rateable"]
        elif rating not in RATINGS:
            error = words["rating_invalid"]
        elif len(comment.strip()) > COMMENT_LIMIT:
            error = words["comment_too_long"]
        else:
            assert rating is not None
            try:
                resolution.rate(db_session, found, rating, comment)
            except TicketError as refused:
                error = str(refused)
    if error is not None:
        return _ticket_page(
            ticket_id, rate_error=error, rate_value=typed, rate_comment=comment, status=422
        )
    flash(words["rated"])
    return redirect(url_for("portal.ticket", ticket_id=ticket_id, _anchor="rate"), code=303)


def _keep_files(db_session: Session, ticket_id: int, message_id: int) -> list[str]:
    """The files sent with the form; the names of those left out for their size."""
    too_big = []
    for upload in request.files.getlist("files"):
        if not upload.filename:
            continue
        data = upload.read(attachments.MAX_ATTACHMENT + 1)
        if not attachments.keep(
            db_session, ticket_id, message_id, upload.filename, upload.mimetype, data
        ):
            too_big.append(upload.filename)
    return too_big


@portal.get("/attachments/<int:attachment_id>")
@customer_required
def attachment(attachment_id: int) -> Any:
    with _transaction() as db_session:
        kept = db_session.get(Attachment, attachment_id)
        message = db_session.get(Message, kept.message_id) if kept else None
        # Only a file of a message the customer can read, on a ticket that is theirs.
        if (
            kept is None
            or message is None
            or message.internal
            or message.state != "sent"
            or _visible_or_none(db_session, kept.ticket_id) is None
        ):
            return _not_found()
        return attachments.download(kept)


def _visible_or_none(db_session: Session, ticket_id: int) -> Ticket | None:
    try:
        return portal_access.visible_ticket(db_session, _email(), ticket_id)
    except NotFound:
        return None


def _ticket_page(ticket_id: int, status: int = 200, **form: Any) -> Any:
    with _transaction() as db_session:
        found = _visible_or_none(db_session, ticket_id)
        if found is None:
            return _not_found()
        messages = portal_access.conversation(db_session, found)
        page = render_template(
            f"{_TEMPLATES}/ticket.html",
            ticket=found,
            messages=messages,
            staff_names=portal_access.staff_names(db_session, messages),
            files=attachments.by_message(db_session, found.id),
            rating=portal_access.rating_of(db_session, found),
            resolved=found.resolved_at is not None and found.status in ("resolved", "closed"),
            ratings=RATINGS,
            **form,
        )
    return page, status


def _not_found() -> Any:
    # The same page whether the ticket is someone else's or does not exist (P-CONFIDENTIAL).
    return render_template(f"{_TEMPLATES}/not_found.html"), 404
