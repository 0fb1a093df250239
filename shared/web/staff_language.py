"""Which language a staff page speaks, the same on every service's pages.

The staff member's own choice (the desk's switcher keeps it in the session cookie, which
every service on the one origin reads) comes first, then what the browser asks for (any
Portuguese is Brazilian here), then English. The shared layout's words are here too: the
header every staff page carries, whichever service drew it.
"""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, request, session

STAFF_LANGUAGES = ("en", "pt-BR")
SESSION_LANGUAGE = "staff_language"
"""The language the staff member picked with the switcher, over the browser's."""
DEFAULT_LANGUAGE = "en"
_REQUEST_LANGUAGE = "staff_language"
"""Where ``flask.g`` keeps the request's language once it is worked out."""

LAYOUT_WORDS: dict[str, dict[str, str]] = {
    "en": {
        "services": "Services",
        "desk": "Desk",
        "billing": "Billing",
        "notifications": "Notifications",
        "training": "Training",
        "sign_out": "Sign out",
        "role.owner": "owner",
        "role.agent": "agent",
        "role.billing": "billing",
        "role.trainee": "trainee",
    },
    "pt-BR": {
        "services": "Serviços",
        "desk": "Atendimento",
        "billing": "Financeiro",
        "notifications": "Notificações",
        "training": "Treinamento",
        "sign_out": "Sair",
        "role.owner": "dona",
        "role.agent": "atendente",
        "role.billing": "financeiro",
        "role.trainee": "em treinamento",
    },
}


def _spoken(tag: str) -> str | None:
    primary = tag.replace("_", "-").split("-")[0].lower()
    if primary == "pt":
        return "pt-BR"
    if primary == "en":
        return "en"
    return None


def staff_language() -> str:
    """The staff member's choice, else the first of the browser's languages we speak.

    Worked out once per request: a page asks for it with every label it shows (a queue
    page, some 300 times), and parsing the browser's languages each time showed."""
    language: str | None = g.get(_REQUEST_LANGUAGE)
    if language is None:
        language = _requested_language()
        setattr(g, _REQUEST_LANGUAGE, language)
    return language


def choose_staff_language(code: str) -> None:
    """Keep ``code`` as this staff member's language, from this request on."""
    if code in STAFF_LANGUAGES:
        session[SESSION_LANGUAGE] = code
        g.pop(_REQUEST_LANGUAGE, None)


def _requested_language() -> str:
    chosen = session.get(SESSION_LANGUAGE)
    if chosen in STAFF_LANGUAGES:
        return str(chosen)
    for tag, quality in request.accept_languages:
        spoken = _spoken(tag) if quality > 0 else None
        if spoken is not None:
            return spoken
    return DEFAULT_LANGUAGE


def layout_context() -> dict[str, Any]:
    """What the shared layout reads: the page's language and the header's words."""
    language = staff_language() if has_request_context() else DEFAULT_LANGUAGE
    return {"lang": language, "layout_words": LAYOUT_WORDS[language]}
