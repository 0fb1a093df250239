"""The reply checker: the founder's courtesy rules applied to a reply before it is sent.

    checker = ReplyChecker(default_lexicon(), directory)
    result = checker.check(text, ReplyContext(kind="resolution", customer_id=7))
    result.blocking  # any finding whose severity is "block"

Checks are in ``rules.py``, their words and numbers in ``lexicon.yaml`` (tuned
by the owner), what they say in ``messages.py``. A ``ReplyChecker`` compiles
its lexicon and directory once; build a new one when either changes.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from services.training.checker.language import LANGUAGES, detect_language
from services.training.checker.lexicon import Lexicon, default_lexicon
from services.training.checker.messages import message
from services.training.checker.rules import (
    CHECK_KEYS,
    CHECKS,
    CompiledSettings,
    Directory,
    KnownCustomer,
    Reply,
    ReplyContext,
)
from services.training.checker.text import Folded

__all__ = [
    "CHECK_KEYS",
    "LANGUAGES",
    "CheckResult",
    "Finding",
    "KnownCustomer",
    "ReplyChecker",
    "ReplyContext",
    "default_lexicon",
]


@dataclass(frozen=True)
class Finding:
    check: str
    """``<rule>:<check>``, e.g. ``P-POLITE:shouting``."""
    rule: str
    severity: str
    message: str
    why: str
    lesson: str
    """The id of the lesson that teaches the rule."""
    start: int
    end: int
    evidence: str
    """The words objected to; empty when what is objected to is something missing."""


@dataclass(frozen=True)
class CheckResult:
    language: str
    findings: tuple[Finding, ...]

    @property
    def blocking(self) -> bool:
        return any(finding.severity == "block" for finding in self.findings)

    def keys(self) -> set[str]:
        return {finding.check for finding in self.findings}


class ReplyChecker:
    def __init__(self, lexicon: Lexicon, directory: Iterable[KnownCustomer] = ()) -> None:
        self._settings = {key: CompiledSettings(lexicon[key]) for key in CHECK_KEYS}
        for compiled in self._settings.values():
            compiled.peers = self._settings
        self._directory = Directory(directory)

    def check(
        self, text: str, context: ReplyContext | None = None, language: str | None = None
    ) -> CheckResult:
        context = context or ReplyContext()
        language = language if language in LANGUAGES else detect_language(text)
        reply = Reply(folded=Folded(text), context=context, directory=self._directory)
        findings = []
        for check in CHECKS:
            settings = self._settings[check.key]
            if settings.severity == "off":
                continue
            for span in check.run(reply, settings):
                findings.append(
                    Finding(
                        check=check.key,
                        rule=check.rule,
                        severity=settings.severity,
                        message=message(check.key, "finding", language),
                        why=message(check.key, "why", language),
                        lesson=check.lesson,
                        start=span.start,
                        end=span.end,
                        evidence=span.text,
                    )
                )
        return CheckResult(language=language, findings=tuple(findings))


def default_checker(directory: Iterable[KnownCustomer] = ()) -> ReplyChecker:
    return ReplyChecker(default_lexicon(), directory)
