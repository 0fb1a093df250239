"""Rendering a message kind into the words one recipient reads.

``render(kind, channel, languages, context, overrides)`` picks the text (the owner's
edit before the catalogue's file, in the recipient's first language that has one,
English last), renders it in a sandbox and returns all of it, or raises
``RenderFailure`` with the reason: a message is never sent half-rendered.

The rendering context
---------------------
Templates see these names (the caller builds them; ``sample_context`` builds one from
a kind's sample for the live preview):

``recipient``
    ``{name, email, language, timezone}``: who reads it. ``name`` may be None (the
    templates then greet without it); ``timezone`` is an IANA name, and every moment
    is shown in it.
``company``
    ``{name, support_email, portal_url}``.
``data``
    The event's payload loaded through its schema (``REGISTRY.schema_for(event)().load``):
    dates are ``date``, datetimes aware ``datetime``, optional fields None. An empty
    mapping for kinds written without an event.
``links``
    ``{ticket, survey, preferences, unsubscribe}``, any of them None (missing ones are
    filled in as None). ``ticket`` points at the portal for customers and at the desk
    for staff.
``report`` / ``failure``
    For ``periodic_report`` and ``alert_delivery_failed``: the context of
    ``catalogue.CONTEXT_SCHEMAS``, loaded through its schema.
``language``
    Set by ``render``: the language being rendered (the filters format in it).

Filters, in the rendering language: ``money(minor_units, currency)``,
``day(date, format="long")``, ``weekday(date)``, ``moment(datetime)`` (date, time and
zone name in the recipient's timezone), ``clock(datetime)`` (the time alone there) and
``paragraphs`` (blank-line paragraphs as html paragraphs; unchanged in text).

Text and sms are not escaped; html is autoescaped and wrapped in the shared layout
(``messages/_layout.html``: the company's name, the body, and a footer with the
preferences link and, for kinds a customer may opt out of, the unsubscribe link).
The email's plain text gets the same footer. Printing a None is a failure too
(an optional field shown without a check would read "Hello None").
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_date, format_time, get_timezone_name
from babel.numbers import format_currency, get_currency_precision
from jinja2 import StrictUndefined, Template, pass_context
from jinja2.runtime import Context
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup, escape

from services.notify.catalogue import (
    CHANNELS,
    CONTEXT_SCHEMAS,
    MESSAGES,
    MessageKind,
    TemplateText,
)
from shared.events import REGISTRY

LAST_RESORT = "en"
SMS_LIMIT = 300
LAYOUT = MESSAGES / "_layout.html"
LINK_NAMES = ("ticket", "survey", "preferences", "unsubscribe")

Overrides = Mapping[tuple[str, str, str], TemplateText]
"""The owner's edits, keyed ``(kind, channel, language)``."""

FOOTER: Mapping[str, Mapping[str, str]] = {
    "pt-BR": {
        "preferences": "Escolher quais mensagens e canais você recebe",
        "unsubscribe": "Não quero mais receber este tipo de mensagem",
    },
    "es": {
        "preferences": "Elegir qué mensajes y canales recibe",
        "unsubscribe": "No quiero recibir más este tipo de mensajes",
    },
    "en": {
        "preferences": "Choose which messages and channels you receive",
        "unsubscribe": "Stop receiving this kind of message",
    },
}
"""The footer's words, shared by the html layout and the plain-text email."""


class RenderFailure(Exception):
    """A template that could not be rendered; ``reason`` names kind, channel, language
    and what went wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Rendered:
    language: str
    subject: str | None
    text: str
    html: str | None
    fell_back_from: str | None
    """The first-choice language when another one was used (a missing translation)."""


def render(
    kind: MessageKind,
    channel: str,
    languages: Sequence[str],
    context: Mapping[str, Any],
    overrides: Overrides | None = None,
    *,
    layout: str | None = None,
) -> Rendered:
    """``kind`` for ``channel`` in the first of ``languages`` (the recipient's order of
    preference) that has a text, English last. ``layout`` replaces the html layout's
    source (the owner's edit of it)."""
    if channel not in CHANNELS:
        raise RenderFailure(f"{kind.kind}: unknown channel {channel!r}")
    language, source, first_choice = _choose(kind, channel, languages, overrides or {})
    where = f"{kind.kind} {channel} {language}"
    values = _values(context, language)
    subject = None
    html = None
    if channel == "email":
        if source.subject is None:
            raise RenderFailure(f"{where}: the email has no subject")
        subject = _one_line(_render(source.subject, values, html=False, where=f"{where} subject"))
    text = _render(source.text, values, html=False, where=f"{where} text").strip()
    if channel == "email":
        text += _text_footer(kind, values)
        if source.html is not None:
            body = _render(source.html, values, html=True, where=f"{where} html")
            page = {
                **values,
                "content": Markup(body),
                "subject": subject,
                "transactional": kind.transactional,
                "audience": kind.audience,
                "footer": FOOTER[_footer_language(language)],
            }
            html = _render(layout or default_layout(), page, html=True, where=f"{where} layout")
    if channel == "sms":
        # Phones' character sets know the plain space, not the narrow and no-break ones
        # the locale data puts in times and amounts.
        text = text.translate(_PLAIN_SPACES)
    if channel == "sms" and len(text) > SMS_LIMIT:
        raise RenderFailure(
            f"{where}: the sms is {len(text)} characters, over the limit of {SMS_LIMIT}"
        )
    fell_back_from = first_choice if first_choice not in (None, language) else None
    return Rendered(language, subject, text, html, fell_back_from)


def sample_context(
    kind: MessageKind,
    company: Mapping[str, Any] | None = None,
    recipient_language: str = "pt-BR",
) -> dict[str, Any]:
    """A full context from ``kind``'s sample, a sample recipient and sample links: what
    the staff UI's live preview renders."""
    payload = kind.sample_payload()
    firm = {**SAMPLE_COMPANY, **(company or {})}
    portal = str(firm["portal_url"]).rstrip("/")
    context: dict[str, Any] = {
        "recipient": _sample_recipient(kind, payload, recipient_language),
        "company": firm,
        "links": {
            "ticket": f"{portal}/tickets/{payload.get('ticket_id', 1042)}",
            "survey": f"{portal}/survey/sample",
            "preferences": f"{portal}/preferences",
            "unsubscribe": f"{portal}/unsubscribe/sample",
        },
        "data": {},
    }
    if kind.event is None:
        for name, value in payload.items():
            context[name] = CONTEXT_SCHEMAS[name]().load(value)
    else:
        context["data"] = REGISTRY.schema_for(kind.event)().load(payload)
    return context


SAMPLE_COMPANY: Mapping[str, str] = {
    "name": "Cortesia Hosting",
    "support_email": "suporte@cortesia.example",
    "portal_url": "https://portal.cortesia.example",
}

_SAMPLE_PEOPLE: Mapping[str, tuple[str, str, str]] = {
    "pt-BR": ("Ana Souza", "ana@padariadaana.example", "America/Sao_Paulo"),
    "es": ("Lucía Fernández", "lucia@estudiofernandez.example", "America/Argentina/Buenos_Aires"),
    "en": ("Emma Clarke", "emma@clarkedesign.example", "Europe/London"),
}
_SAMPLE_STAFF = ("Marina Lopes", "marina@cortesia.example", "America/Sao_Paulo")


def _sample_recipient(
    kind: MessageKind, payload: Mapping[str, Any], language: str
) -> dict[str, Any]:
    if kind.audience == "staff":
        name, email, timezone = _SAMPLE_STAFF
    else:
        # A billing event names the customer; the sample person fills in the rest.
        name, email, timezone = _SAMPLE_PEOPLE.get(language, _SAMPLE_PEOPLE[LAST_RESORT])
        name = payload.get("customer_name") or payload.get("requester_name") or name
        email = payload.get("email") or payload.get("requester_email") or email
        timezone = payload.get("timezone") or timezone
    return {"name": name, "email": email, "language": language, "timezone": timezone}


@lru_cache(maxsize=1)
def default_layout() -> str:
    return LAYOUT.read_text(encoding="utf-8")


# -- choosing the text --------------------------------------------------------------


def _choose(
    kind: MessageKind, channel: str, languages: Sequence[str], overrides: Overrides
) -> tuple[str, TemplateText, str | None]:
    """The language used, its text, and the recipient's first choice (normalised)."""
    known = {language for c, language in kind.texts if c == channel}
    known |= {language for k, c, language in overrides if k == kind.kind and c == channel}
    wanted = [_normalise(language, known) for language in languages]
    first_choice = wanted[0] if wanted else None
    for language in [*wanted, LAST_RESORT]:
        if language is None:
            continue
        override = overrides.get((kind.kind, channel, language))
        if override is not None:
            return language, override, first_choice
        text = kind.texts.get((channel, language))
        if text is not None:
            return language, text, first_choice
    tried = ", ".join(dict.fromkeys([*(w or "?" for w in wanted), LAST_RESORT]))
    raise RenderFailure(f"{kind.kind}: no {channel} text in {tried}")


def _normalise(language: str, known: set[str]) -> str | None:
    """``pt_br`` or ``PT-BR`` is ``pt-BR``; ``es-AR`` is ``es`` when only ``es`` exists
    (a regional variant is the same choice, not a fallback)."""
    cleaned = language.replace("_", "-").strip()
    by_lower = {k.lower(): k for k in known}
    if cleaned.lower() in by_lower:
        return by_lower[cleaned.lower()]
    primary = cleaned.split("-")[0].lower()
    for candidate in sorted(known):
        if candidate.split("-")[0].lower() == primary:
            return candidate
    return cleaned or None


def _values(context: Mapping[str, Any], language: str) -> dict[str, Any]:
    links = {name: None for name in LINK_NAMES}
    links.update(context.get("links") or {})
    return {"data": {}, **context, "links": links, "language": language}


_PLAIN_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " "})
_LINE_BREAKS = re.compile(r"[ \t]*[\r\n]+[ \t]*")


def _one_line(subject: str) -> str:
    """A subject is one line: a template's line breaks become spaces (a header with a
    newline would be refused, or worse, split)."""
    return _LINE_BREAKS.sub(" ", subject).strip()


def _footer_language(language: str) -> str:
    return language if language in FOOTER else LAST_RESORT


def _text_footer(kind: MessageKind, values: Mapping[str, Any]) -> str:
    words = FOOTER[_footer_language(values["language"])]
    links = values["links"]
    lines = []
    if links.get("preferences"):
        lines.append(f"{words['preferences']}: {links['preferences']}")
    if not kind.transactional and links.get("unsubscribe"):
        lines.append(f"{words['unsubscribe']}: {links['unsubscribe']}")
    # "-- " is the signature separator: mail clients show what follows as a footer.
    return "\n\n-- \n" + "\n".join(lines) if lines else ""


# -- the sandbox --------------------------------------------------------------------


def _render(source: str, values: Mapping[str, Any], *, html: bool, where: str) -> str:
    try:
        return _compiled(source, html).render(values)
    # Owner-edited templates can fail in any way (syntax, an undefined name, a filter
    # given the wrong value, the sandbox refusing access): all of it is one failure.
    except Exception as error:
        raise RenderFailure(f"{where}: {type(error).__name__}: {error}") from error


@lru_cache(maxsize=4096)
def _compiled(source: str, html: bool) -> Template:
    return (_HTML if html else _TEXT).from_string(source)


def _printable(value: Any) -> Any:
    if value is None:
        raise ValueError(
            "a value shown in the message is None (an optional field printed "
            "without checking it first)"
        )
    return value


def _environment(html: bool) -> SandboxedEnvironment:
    environment = SandboxedEnvironment(
        undefined=StrictUndefined,
        autoescape=html,
        finalize=_printable,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    filters: dict[str, Callable[..., Any]] = {
        "money": _money,
        "day": _day,
        "weekday": _weekday,
        "moment": _moment,
        "clock": _clock,
        "paragraphs": _html_paragraphs if html else _text_paragraphs,
    }
    environment.filters.update(filters)
    return environment


# -- filters ------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _locale(language: str) -> Locale:
    return Locale.parse(language, sep="-")


def _context_locale(context: Context) -> Locale:
    return _locale(str(context.get("language") or LAST_RESORT))


def _context_zone(context: Context) -> ZoneInfo:
    recipient = context.get("recipient") or {}
    name = recipient.get("timezone") if isinstance(recipient, Mapping) else None
    if not name:
        return ZoneInfo("UTC")
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"the recipient's timezone {name!r} is not a known zone") from None


def _as_moment(context: Context, value: Any, filter_name: str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        raise TypeError(f"{filter_name}() needs a datetime, got {value!r}")
    if value.tzinfo is None:
        raise ValueError(f"{filter_name}() needs a datetime with its timezone, got {value!r}")
    return value.astimezone(_context_zone(context))


def _as_date(context: Context, value: Any, filter_name: str) -> date:
    if isinstance(value, datetime):
        return _as_moment(context, value, filter_name).date()
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        return _as_date(context, parsed, filter_name)
    if not isinstance(value, date):
        raise TypeError(f"{filter_name}() needs a date, got {value!r}")
    return value


@pass_context
def _money(context: Context, minor_units: Any, currency: Any) -> str:
    if isinstance(minor_units, bool) or not isinstance(minor_units, int):
        raise TypeError(f"money() needs an amount in whole minor units, got {minor_units!r}")
    if not isinstance(currency, str) or len(currency) != 3:
        raise TypeError(f"money() needs a three-letter currency code, got {currency!r}")
    amount = Decimal(minor_units).scaleb(-get_currency_precision(currency.upper()))
    return format_currency(amount, currency.upper(), locale=_context_locale(context))


@pass_context
def _day(context: Context, value: Any, format: str = "long") -> str:
    return format_date(_as_date(context, value, "day"), format, locale=_context_locale(context))


@pass_context
def _weekday(context: Context, value: Any) -> str:
    return format_date(_as_date(context, value, "weekday"), "EEEE", locale=_context_locale(context))


@pass_context
def _moment(context: Context, value: Any) -> str:
    local = _as_moment(context, value, "moment")
    locale = _context_locale(context)
    when = str(locale.datetime_formats["long"]).format(
        format_time(local, "short", locale=locale), format_date(local, "long", locale=locale)
    )
    return f"{when} ({get_timezone_name(local, 'long', locale=locale)})"


@pass_context
def _clock(context: Context, value: Any) -> str:
    local = _as_moment(context, value, "clock")
    return format_time(local, "short", locale=_context_locale(context))


def _text_paragraphs(value: Any) -> str:
    return str(value).strip()


def _html_paragraphs(value: Any) -> Markup:
    text = str(value).replace("\r\n", "\n").strip()
    paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
    return Markup("\n").join(
        Markup("<p>{}</p>").format(Markup("<br>\n").join(escape(line) for line in p.split("\n")))
        for p in paragraphs
    )


_TEXT = _environment(html=False)
_HTML = _environment(html=True)
