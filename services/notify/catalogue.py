"""The message catalogue: every kind of message notify sends, with its default texts.

Each kind is one file, ``messages/<kind>.yaml`` beside this module, reviewed like
code: who it is for (customers or staff), the event it is written from, whether the
customer may opt out of it, a sample payload, and its texts per channel and language
as Jinja templates. The owner's edits, kept in notify's database, are laid over these
files at rendering time (``rendering.render``); the files are the defaults.

Loading validates everything a file can get wrong on its own: the fields, the
languages the audience needs, the channels, the sample against the event's schema
and the templates' syntax. A ``CatalogueError`` names the file and each problem.

Kinds with no event (``periodic_report``, ``alert_delivery_failed``) are written
from a context notify builds itself; their sample holds that context under its name
(``report``, ``failure``) and ``CONTEXT_SCHEMAS`` gives its shape.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml
from jinja2 import Environment, TemplateSyntaxError
from marshmallow import Schema, fields, validate

from shared.events import REGISTRY
from shared.web.staff_language import STAFF_LANGUAGES

MESSAGES = Path(__file__).with_name("messages")

CHANNELS = ("email", "sms", "chat")
AUDIENCE_LANGUAGES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"customer": ("pt-BR", "es", "en"), "staff": ("pt-BR", "en")}
)
"""The languages every text of a kind must exist in, by audience (staff speak two)."""
LANGUAGES = ("pt-BR", "es", "en")
EMAIL_PARTS = ("subject", "text", "html")
FIELDS = ("kind", "audience", "event", "transactional", "description", "sample")
KIND_NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# Jinja's parser alone: enough to find syntax errors without depending on how the
# templates are rendered (filters and sandbox belong to ``rendering``).
_SYNTAX = Environment()


class CatalogueError(ValueError):
    """A message file that does not fit the format; the message names the file and problem."""


class UnknownKind(KeyError):
    """No message kind by that name in the catalogue."""


# -- the contexts of kinds written without an event ---------------------------------


class ReportTicket(Schema):
    reference = fields.String(required=True, allow_none=True)
    subject = fields.String(required=True)
    status = fields.String(required=True)
    """e.g. ``open``, ``waiting``, ``resolved``, ``closed`` (templates name the known ones)."""


class ReportIncident(Schema):
    title = fields.String(required=True)
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True, allow_none=True)
    """None while it is still going on."""


class ReportInvoice(Schema):
    number = fields.Integer(required=True, allow_none=True)
    total_minor = fields.Integer(required=True, validate=validate.Range(min=0))
    currency = fields.String(required=True, validate=validate.Length(equal=3))
    status = fields.String(required=True)
    """e.g. ``issued``, ``paid``, ``void``, ``overdue``."""


class ReportContext(Schema):
    """P-REPORT: one customer's period, for ``periodic_report``."""

    period_start = fields.Date(required=True)
    period_end = fields.Date(required=True)
    tickets = fields.List(fields.Nested(ReportTicket), required=True)
    incidents = fields.List(fields.Nested(ReportIncident), required=True)
    invoices = fields.List(fields.Nested(ReportInvoice), required=True)


class FailureContext(Schema):
    """A message notify could not deliver, for ``alert_delivery_failed``."""

    notification_id = fields.Integer(required=True)
    recipient = fields.String(required=True)
    """The address or number it was sent to."""
    channel = fields.String(required=True, validate=validate.OneOf(CHANNELS))
    kind = fields.String(required=True)
    reason = fields.String(required=True)


CONTEXT_SCHEMAS: Mapping[str, type[Schema]] = MappingProxyType(
    {"report": ReportContext, "failure": FailureContext}
)


# -- the catalogue ------------------------------------------------------------------


@dataclass(frozen=True)
class TemplateText:
    """One channel's text in one language, as Jinja source. Only email has a subject and
    an html body (the body alone: the shared layout wraps it)."""

    subject: str | None
    text: str
    html: str | None = None


# Identity equality: kinds come from one cached catalogue, and their mappings are
# read-only views that cannot be hashed.
@dataclass(frozen=True, eq=False)
class MessageKind:
    kind: str
    audience: str
    event: str | None
    transactional: bool
    """False for the messages a customer may opt out of; those carry an unsubscribe link."""
    description: str
    """What the message is and when it goes, for staff, in English."""
    descriptions: Mapping[str, str]
    """The description by language (``en`` among them)."""
    sample: Mapping[str, Any]
    """The event payload in its JSON form (read-only); see ``sample_payload``."""
    texts: Mapping[tuple[str, str], TemplateText]
    """Keyed by ``(channel, language)``."""

    def description_in(self, language: str) -> str:
        return self.descriptions.get(language, self.description)

    @property
    def channels(self) -> tuple[str, ...]:
        return tuple(c for c in CHANNELS if any(channel == c for channel, _ in self.texts))

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages every text of this kind exists in (by its audience)."""
        return AUDIENCE_LANGUAGES[self.audience]

    def languages_for(self, channel: str) -> tuple[str, ...]:
        return tuple(language for c, language in self.texts if c == channel)

    def sample_payload(self) -> dict[str, Any]:
        """A fresh, mutable copy of the sample, ready for a schema's ``load``."""
        thawed: dict[str, Any] = _thaw(self.sample)
        return thawed


@dataclass(frozen=True, eq=False)
class Catalogue:
    directory: Path
    by_name: Mapping[str, MessageKind]

    def kind(self, name: str) -> MessageKind:
        try:
            return self.by_name[name]
        except KeyError:
            raise UnknownKind(f"no message kind {name!r} in {self.directory}") from None

    def kinds(self) -> list[MessageKind]:
        return [self.by_name[name] for name in sorted(self.by_name)]

    def for_event(self, event_type: str) -> list[MessageKind]:
        """Every kind written from ``event_type``; the dispatcher picks among them (e.g. a
        new ticket gives the customer's acknowledgement and one of the two staff alerts)."""
        return [kind for kind in self.kinds() if kind.event == event_type]


@lru_cache(maxsize=8)
def load_catalogue(directory: Path = MESSAGES) -> Catalogue:
    """Every ``*.yaml`` in ``directory`` (files starting with ``_`` are shared pieces such
    as the html layout), validated; cached per directory."""
    kinds: dict[str, MessageKind] = {}
    for path in sorted(directory.glob("*.yaml")):
        if path.name.startswith("_"):
            continue
        kind = parse_kind(path.read_text(encoding="utf-8"), path.name, expected_name=path.stem)
        kinds[kind.kind] = kind
    if not kinds:
        raise CatalogueError(f"{directory}: no message files (*.yaml)")
    return Catalogue(directory, MappingProxyType(kinds))


def parse_kind(text: str, source: str, expected_name: str | None = None) -> MessageKind:
    """One message kind from its YAML text; ``CatalogueError`` lists what is wrong."""
    try:
        raw = yaml.load(text, Loader=_JsonFormLoader)
    except yaml.YAMLError as error:
        raise CatalogueError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise CatalogueError(f"{source}: a message file is a mapping of fields")
    problems = list(_problems(raw, expected_name))
    if problems:
        raise CatalogueError(f"{source}: " + "; ".join(problems))
    descriptions = _descriptions(raw["description"])
    texts = {
        (channel, language): _template_text(channel, content)
        for channel in CHANNELS
        for language, content in (raw.get(channel) or {}).items()
    }
    return MessageKind(
        kind=raw["kind"],
        audience=raw["audience"],
        event=raw["event"],
        transactional=raw["transactional"],
        description=descriptions["en"],
        descriptions=MappingProxyType(descriptions),
        sample=_freeze(raw["sample"]),
        texts=MappingProxyType(texts),
    )


def _descriptions(description: str | Mapping[str, str]) -> dict[str, str]:
    """A kind's description by language: a plain line is English."""
    if isinstance(description, str):
        return {"en": description.strip()}
    return {language: line.strip() for language, line in description.items()}


# -- validation ---------------------------------------------------------------------


class _JsonFormLoader(yaml.SafeLoader):
    """YAML without its implicit timestamps: a sample's dates stay the ISO strings they
    are on the bus, so the sample is exactly an event's JSON form."""


_JsonFormLoader.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def _problems(raw: Mapping[str, Any], expected_name: str | None) -> Iterable[str]:
    name = raw.get("kind")
    if not isinstance(name, str) or not KIND_NAME.match(name):
        yield "kind must be a lower-case name with underscores"
    elif expected_name is not None and name != expected_name:
        yield f"kind {name!r} does not match the file name (expected {expected_name!r})"
    audience = raw.get("audience")
    if audience not in AUDIENCE_LANGUAGES:
        yield f"audience must be one of {', '.join(AUDIENCE_LANGUAGES)}, got {audience!r}"
    if not isinstance(raw.get("transactional"), bool):
        yield "transactional must be true or false"
    description = raw.get("description")
    in_languages = description if isinstance(description, dict) else {"en": description}
    if "en" not in in_languages or any(
        language not in STAFF_LANGUAGES
        or not isinstance(line, str)
        or not line.strip()
        or "\n" in line.strip()
        for language, line in in_languages.items()
    ):
        yield (
            "description must be one line for staff, or one line in each of "
            f"{', '.join(STAFF_LANGUAGES)} (en at least)"
        )
    if "event" not in raw:
        yield "event is missing (null for kinds written without an event)"
    else:
        yield from _sample_problems(raw.get("event"), raw.get("sample"))
    for key in raw:
        if key not in FIELDS and key not in CHANNELS:
            yield f"unknown field or channel {key!r} (channels: {', '.join(CHANNELS)})"
    if "email" not in raw:
        yield "every kind has an email text"
    required = AUDIENCE_LANGUAGES.get(audience) if isinstance(audience, str) else None
    if required is not None:
        for channel in CHANNELS:
            if channel in raw:
                yield from _channel_problems(channel, raw[channel], required)


def _sample_problems(event: Any, sample: Any) -> Iterable[str]:
    if not isinstance(sample, Mapping) or not sample:
        yield "sample must be a mapping (the event payload, or the context of a kind without one)"
        return
    if event is None:
        for name, value in sample.items():
            schema = CONTEXT_SCHEMAS.get(name)
            if schema is None:
                yield (
                    f"sample of a kind without an event holds its context by name "
                    f"({', '.join(CONTEXT_SCHEMAS)}), not {name!r}"
                )
            elif errors := schema().validate(value if isinstance(value, Mapping) else {}):
                yield f"sample {name} is not valid: {errors}"
        return
    if not isinstance(event, str) or event not in REGISTRY:
        yield f"unknown event type {event!r}"
        return
    errors = REGISTRY.schema_for(event)().validate(sample)
    if errors:
        yield f"sample is not valid for {event}: {errors}"


def _channel_problems(channel: str, texts: Any, required: tuple[str, ...]) -> Iterable[str]:
    if not isinstance(texts, Mapping):
        yield f"{channel} must map languages to texts"
        return
    missing = [language for language in required if language not in texts]
    if missing:
        yield (
            f"{channel} is missing {', '.join(missing)} (this audience needs {', '.join(required)})"
        )
    for language, content in texts.items():
        where = f"{channel} {language}"
        if language not in LANGUAGES:
            yield f"{where}: unknown language (languages: {', '.join(LANGUAGES)})"
            continue
        if channel == "email":
            yield from _email_problems(where, content)
        elif not isinstance(content, str) or not content.strip():
            yield f"{where}: must be the message's text"
        else:
            yield from _syntax_problems(where, content)


def _email_problems(where: str, content: Any) -> Iterable[str]:
    if not isinstance(content, Mapping):
        yield f"{where}: must give subject, text and (optionally) html"
        return
    for part in content:
        if part not in EMAIL_PARTS:
            yield f"{where}: unknown part {part!r} (parts: {', '.join(EMAIL_PARTS)})"
    for part in ("subject", "text"):
        value = content.get(part)
        if not isinstance(value, str) or not value.strip():
            yield f"{where}: email without {part}"
    if "html" in content and (not isinstance(content["html"], str) or not content["html"].strip()):
        yield f"{where}: html, when given, must be the body's html"
    for part in EMAIL_PARTS:
        value = content.get(part)
        if isinstance(value, str):
            yield from _syntax_problems(f"{where} {part}", value)


def _syntax_problems(where: str, source: str) -> Iterable[str]:
    try:
        _SYNTAX.parse(source)
    except TemplateSyntaxError as error:
        yield f"{where}: template syntax error on line {error.lineno}: {error.message}"


def _template_text(channel: str, content: Any) -> TemplateText:
    if channel == "email":
        return TemplateText(
            subject=content["subject"].strip(), text=content["text"], html=content.get("html")
        )
    return TemplateText(subject=None, text=content.strip())


def _freeze(value: Any) -> Any:
    if isinstance(value, Mapping):
        return MappingProxyType({key: _freeze(item) for key, item in value.items()})
    if isinstance(value, list | tuple):
        return tuple(_freeze(item) for item in value)
    return value


def _thaw(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {key: _thaw(item) for key, item in value.items()}
    if isinstance(value, tuple):
        return [_thaw(item) for item in value]
    return value
