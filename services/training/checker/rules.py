"""The founder's courtesy rules as checks a reply passes before it is sent.

Each check has a key ``<rule>:<check>`` (``P-POLITE:shouting``): the rule is
the founder's (FOUNDER_PRACTICES.md) and names the lesson that teaches it.
A check reads the reply (folded for matching), what the desk knows about the
ticket (``ReplyContext``), the customer directory and its settings from the
lexicon, and returns the spans it objects to (an empty span when what it
objects to is something missing). Checks are plain functions: deterministic,
explainable, no network.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from services.training.checker.lexicon import CheckSettings
from services.training.checker.text import Folded, Phrases, Span, fold, sentences


@dataclass(frozen=True)
class ReplyContext:
    """What the desk knows about the ticket the reply answers."""

    kind: str = "reply"
    """``resolution`` when the reply closes the ticket as solved."""
    waited_past_sla: bool = False
    emergency: bool = False
    beyond_hosting: bool = False
    """The customer asked about something outside hosting."""
    customer_id: int | None = None
    """The recipient, who may of course be named in their own reply."""


@dataclass(frozen=True)
class KnownCustomer:
    customer_id: int
    name: str
    email: str | None = None
    domain: str | None = None


class Directory:
    """The customers, compiled once into two patterns: their names, and their addresses and
    domains. A match names the customers it belongs to."""

    def __init__(self, customers: Iterable[KnownCustomer]) -> None:
        self.names: dict[str, set[int]] = {}
        self.addresses: dict[str, set[int]] = {}
        for customer in customers:
            for variant in _name_variants(customer.name):
                self.names.setdefault(variant, set()).add(customer.customer_id)
            for value in (customer.email, customer.domain):
                if value and value.strip():
                    self.addresses.setdefault(fold(value).strip(), set()).add(customer.customer_id)
        self._names = Phrases(self.names)
        self._addresses = (
            re.compile(
                r"(?<![\w.-])(?:"
                + "|".join(re.escape(a) for a in sorted(self.addresses, key=len, reverse=True))
                + r")(?![\w-])"
            )
            if self.addresses
            else None
        )

    def names_of_others(self, folded: Folded, recipient: int | None) -> list[Span]:
        return [
            span
            for span in self._names.all(folded)
            if self.names[" ".join(fold(span.text).split())] - {recipient}
        ]

    def addresses_of_others(self, folded: Folded, recipient: int | None) -> list[Span]:
        if self._addresses is None:
            return []
        return [
            folded.span(match.start(), match.end())
            for match in self._addresses.finditer(folded.text)
            if self.addresses[match.group()] - {recipient}
        ]


@dataclass(frozen=True)
class Reply:
    """A reply prepared for the checks: folded once, its context and directory beside it."""

    folded: Folded
    context: ReplyContext
    directory: Directory


Check = Callable[[Reply, "CompiledSettings"], list[Span]]
MISSING = Span(0, 0, "")


class CompiledSettings:
    """A check's settings with its phrase lists compiled once."""

    def __init__(self, settings: CheckSettings) -> None:
        self.settings = settings
        self._compiled: dict[str, Phrases] = {}
        self.peers: dict[str, CompiledSettings] = {}
        """Every check's settings, for a check that reads another's phrases."""

    @property
    def severity(self) -> str:
        return self.settings.severity

    def number(self, name: str, default: int) -> int:
        return int(self.settings.numbers.get(name, default))

    def phrases(self, *names: str) -> Phrases:
        """The named lists together; with no name, every language's list."""
        key = "+".join(names) or "*"
        if key not in self._compiled:
            words: Iterable[str] = (
                [w for name in names for w in self.settings.words(name)]
                if names
                else self.settings.every_language()
            )
            self._compiled[key] = Phrases(words)
        return self._compiled[key]


# -- P-POLITE ----------------------------------------------------------------------------


def missing_greeting(reply: Reply, settings: CompiledSettings) -> list[Span]:
    text = reply.folded.text
    opening = len(text) - len(text.lstrip()) + settings.number("opening_characters", 80)
    return [] if settings.phrases().first(reply.folded, 0, opening) else [MISSING]


def missing_closing(reply: Reply, settings: CompiledSettings) -> list[Span]:
    text = reply.folded.text.rstrip()
    start = max(0, len(text) - settings.number("closing_characters", 220))
    return [] if settings.phrases().first(reply.folded, start, len(text)) else [MISSING]


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")


def shouting(reply: Reply, settings: CompiledSettings) -> list[Span]:
    """Words in capitals, several in a row (the trade's acronyms neither count nor break a
    run), or marks like ``!!`` and ``?!``."""
    original = reply.folded.original
    acronyms = set(settings.phrases("all").phrases)
    needed = settings.number("capital_words_in_a_row", 3)
    found: list[Span] = []
    run: list[re.Match[str]] = []
    for match in _WORD.finditer(original):
        word = match.group()
        followed_by = original[match.end() : match.end() + 1]
        if fold(word) in acronyms or len(word) == 1 or followed_by == "(":
            continue  # acronyms, single letters and function names (SUM(...)) are not shouting
        if word.isupper():
            run.append(match)
            continue
        if len(run) >= needed:
            found.append(
                Span(run[0].start(), run[-1].end(), original[run[0].start() : run[-1].end()])
            )
        run = []
    if len(run) >= needed:
        found.append(Span(run[0].start(), run[-1].end(), original[run[0].start() : run[-1].end()]))
    marks = settings.number("marks_in_a_row", 2)
    for match in re.finditer(rf"[!?¡¿]{{{marks},}}", original):
        if set(match.group()) & {"!", "¡"}:
            found.append(Span(match.start(), match.end(), match.group()))
    return found


def phrases_found(reply: Reply, settings: CompiledSettings) -> list[Span]:
    """The first phrase of the lists that the reply contains (blame, condescension)."""
    span = settings.phrases().first(reply.folded)
    return [span] if span else []


def missing_apology(reply: Reply, settings: CompiledSettings) -> list[Span]:
    if not reply.context.waited_past_sla:
        return []
    return [] if settings.phrases().first(reply.folded) else [MISSING]


# -- P-NO-GOSSIP and P-CONFIDENTIAL --------------------------------------------------------

_LEGAL_SUFFIX = re.compile(r"\s+(ltda|s\.?a\.?|s\.?l\.?|me|eireli|sa de cv|s de rl|inc|llc)\.?$")


def _name_variants(name: str) -> list[str]:
    folded = fold(name).strip()
    bare = _LEGAL_SUFFIX.sub("", folded).strip()
    return [v for v in {folded, bare} if len(v) >= 4]


def other_customer_named(reply: Reply, _settings: CompiledSettings) -> list[Span]:
    return reply.directory.names_of_others(reply.folded, reply.context.customer_id)


def other_customer_data(reply: Reply, _settings: CompiledSettings) -> list[Span]:
    return reply.directory.addresses_of_others(reply.folded, reply.context.customer_id)


# -- P-TEACH, P-CHANNELS, P-ESCALATE -----------------------------------------------------

_LINK = re.compile(r"https?://\S+|www\.\S+|\b[\w-]+(?:\.[\w-]+)+/\S+")


def missing_reference(reply: Reply, settings: CompiledSettings) -> list[Span]:
    if not reply.context.beyond_hosting:
        return []
    if _LINK.search(reply.folded.original) or settings.phrases().first(reply.folded):
        return []
    return [MISSING]


def instant_promise(reply: Reply, settings: CompiledSettings) -> list[Span]:
    """An instant channel and an always-on word in one sentence, not said to be for
    emergencies only."""
    if reply.context.emergency:
        return []
    channels = settings.phrases("channels")
    always = settings.phrases("always")
    emergencies_only = settings.phrases("emergencies_only")
    found = []
    for start, end in sentences(reply.folded):
        if (
            channels.first(reply.folded, start, end)
            and always.first(reply.folded, start, end)
            and not emergencies_only.first(reply.folded, start, end)
        ):
            found.append(reply.folded.span(start, end))
    return found


def dead_end(reply: Reply, settings: CompiledSettings) -> list[Span]:
    span = settings.phrases("dead_ends").first(reply.folded)
    if span is None or settings.phrases("next_steps").first(reply.folded):
        return []
    return [span]


# -- P-RESOLVE ---------------------------------------------------------------------------


def missing_in_resolution(reply: Reply, settings: CompiledSettings) -> list[Span]:
    if reply.context.kind != "resolution":
        return []
    return [] if settings.phrases().first(reply.folded) else [MISSING]


# What a person did, said in the first person: "I replaced", "we've added", "troquei",
# "reinstalamos", "cambié", "hemos migrado". A fix is an action, not "it is solved now".
_ACTIONS = (
    re.compile(
        r"\b(?:i|we)(?:'ve|'d|\s+have|\s+had)?(?:\s+(?:also|then|just|now|already|quickly))?"
        r"\s+(?P<verb>[a-z]{3,}ed|put|set|made|ran|rebuilt|reset|wrote|rewrote|took|gave|"
        r"sent|cut|built|chose|redid|undid|paid|bound|split|swapped|reissued)\b"
    ),
    re.compile(r"\b(?P<verb>[a-z]{3,}(?:ei|amos|emos|imos))\b"),
    re.compile(r"\b(?:he|hemos|ha|han|tenho|temos)\s+(?P<verb>[a-z]{3,}(?:ado|ido))\b"),
)
_SPANISH_FIRST_PERSON = re.compile(r"\b(?P<verb>\w{3,}[éí])\b")
_FUTURE = re.compile(r"(?:remos|riamos)$")
"""Will do, would do: a promise, not an action done."""


def missing_fix(reply: Reply, settings: CompiledSettings) -> list[Span]:
    """A resolution must say what was done: an action phrase of the lexicon, or a verb in
    the first person that the lexicon does not list as no action (``not_actions``)."""
    if reply.context.kind != "resolution":
        return []
    if settings.phrases("en", "pt-BR", "es").first(reply.folded):
        return []
    not_actions = set(settings.phrases("not_actions").phrases)
    prevention = settings.peers["P-RESOLVE:prevention"].phrases()
    text, original = reply.folded.text, reply.folded.original.lower()
    for start, end in sentences(reply.folded):
        if prevention.first(reply.folded, start, end):
            continue  # what was done so it does not happen again is the prevention, not the fix
        verbs = [
            m.group("verb") for pattern in _ACTIONS for m in pattern.finditer(text, start, end)
        ]
        span = reply.folded.span(start, end)
        verbs += [
            fold(m.group("verb"))
            for m in _SPANISH_FIRST_PERSON.finditer(original, span.start, span.end)
        ]
        if any(verb not in not_actions and not _FUTURE.search(verb) for verb in verbs):
            return []
    return [MISSING]


@dataclass(frozen=True)
class CheckDefinition:
    key: str
    run: Check

    @property
    def rule(self) -> str:
        return self.key.split(":", 1)[0]

    @property
    def lesson(self) -> str:
        return self.rule.lower()


CHECKS: tuple[CheckDefinition, ...] = (
    CheckDefinition("P-RESOLVE:cause", missing_in_resolution),
    CheckDefinition("P-RESOLVE:fix", missing_fix),
    CheckDefinition("P-RESOLVE:prevention", missing_in_resolution),
    CheckDefinition("P-POLITE:greeting", missing_greeting),
    CheckDefinition("P-POLITE:closing", missing_closing),
    CheckDefinition("P-POLITE:shouting", shouting),
    CheckDefinition("P-POLITE:blame", phrases_found),
    CheckDefinition("P-POLITE:condescending", phrases_found),
    CheckDefinition("P-POLITE:apology", missing_apology),
    CheckDefinition("P-NO-GOSSIP:other-customer", other_customer_named),
    CheckDefinition("P-CONFIDENTIAL:other-customer-data", other_customer_data),
    CheckDefinition("P-TEACH:reference", missing_reference),
    CheckDefinition("P-CHANNELS:instant-promise", instant_promise),
    CheckDefinition("P-ESCALATE:dead-end", dead_end),
)
CHECK_KEYS = tuple(check.key for check in CHECKS)
