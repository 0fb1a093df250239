"""Which language a staff page speaks, the same on every service's pages.

The staff member's own choice (the desk's switcher keeps it in the session cookie, which
every service on the one origin reads) comes first, then what the browser asks for (any
Portuguese is Brazilian here), then English. The shared layout's words are here too: the
header every staff page carries, whichever service drew it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, g, has_request_context, request, session

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


def role_names(language: str) -> dict[str, str]:
    """The staff roles' names (``role.owner``...) in ``language``, as the header says them:
    for a service's words to name a stored role the same way."""
    return {key: text for key, text in LAYOUT_WORDS[language].items() if key.startswith("role.")}


def page_language() -> str:
    """``staff_language`` in a request; English outside one (a script, a test), where
    there is no staff member to ask."""
    return staff_language() if has_request_context() else DEFAULT_LANGUAGE


def layout_context() -> dict[str, Any]:
    """What the shared layout reads: the page's language and the header's words."""
    language = page_language()
    return {"lang": language, "layout_words": LAYOUT_WORDS[language]}


class StaffWords:
    """A service's words for its staff pages, in each of ``STAFF_LANGUAGES``, keyed by
    name (``"log.title"``), and the ways its pages and views use them.

    English shows stored values as they are, in words (``on_hold`` reads "on hold"), so
    its table names none of them; another language names each one under
    ``group.value`` (``status.on_hold``)."""

    def __init__(self, words: Mapping[str, Mapping[str, str]]) -> None:
        self.words = words

    def say(self, key: str, **values: Any) -> str:
        """The sentence ``key`` in the page's language, with ``values`` filled in."""
        text = self.words[page_language()].get(key) or self.words[DEFAULT_LANGUAGE].get(key)
        text = text or key
        return text.format(**values) if values else text

    def count_of(self, key: str, count: int) -> str:
        """``key.one`` for one thing, else ``key.many`` with ``{count}`` filled in."""
        return self.say(f"{key}.one") if count == 1 else self.say(f"{key}.many", count=count)

    def name_of(self, group: str, value: Any) -> str:
        """A stored value (``name_of('status', 'on_hold')``) as the page's language
        shows it."""
        shown = "" if value is None else str(value)
        return self.words[page_language()].get(f"{group}.{shown}", shown.replace("_", " "))

    def page_context(self) -> dict[str, Any]:
        """What every page of the service reads: its language and the ways to its words."""
        return {
            "lang": page_language(),
            "t": self.say,
            "count_of": self.count_of,
            "name_of": self.name_of,
        }

    def speak_on(
        self, blueprint: Blueprint, more: Callable[[], dict[str, Any]] | None = None
    ) -> None:
        """Give every page ``blueprint`` renders the staff member's language and these
        words (and what ``more`` adds for the page)."""

        def context() -> dict[str, Any]:
            return {**self.page_context(), **(more() if more is not None else {})}

        blueprint.context_processor(context)
