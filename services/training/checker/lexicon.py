"""The checker's tunable part: per check, its severity, its phrases and its numbers.

The defaults live in ``lexicon.yaml`` beside this file; the owner's changes
(stored by training, see ``settings.py``) are laid over them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any

import yaml

DEFAULTS = Path(__file__).with_name("lexicon.yaml")
SEVERITIES = ("block", "warn", "off")


class LexiconError(ValueError):
    """A lexicon entry that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class CheckSettings:
    severity: str
    phrases: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Phrase lists by name: a language (``en``, ``pt-BR``, ``es``), ``all``, or a role
    (``dead_ends``, ``next_steps``...) for checks that combine lists."""
    numbers: Mapping[str, int] = field(default_factory=dict)

    def words(self, name: str) -> tuple[str, ...]:
        return self.phrases.get(name, ())

    def every_language(self) -> tuple[str, ...]:
        return tuple(p for name in ("en", "pt-BR", "es", "all") for p in self.words(name))


Lexicon = Mapping[str, CheckSettings]


def parse_settings(key: str, raw: Mapping[str, Any]) -> CheckSettings:
    severity = raw.get("severity", "warn")
    if severity not in SEVERITIES:
        raise LexiconError(f"{key}: severity must be one of {', '.join(SEVERITIES)}.")
    phrases = raw.get("phrases") or {}
    numbers = raw.get("numbers") or {}
    if not isinstance(phrases, Mapping) or not isinstance(numbers, Mapping):
        raise LexiconError(f"{key}: phrases and numbers must be mappings.")
    for name, value in numbers.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise LexiconError(f"{key}: {name} must be a whole number of at least 1.")
    lists = {}
    for name, words in phrases.items():
        if not isinstance(words, list) or not all(isinstance(w, str) for w in words):
            raise LexiconError(f"{key}: the phrases under {name} must be a list of text.")
        lists[str(name)] = tuple(w.strip() for w in words if w.strip())
    return CheckSettings(severity=severity, phrases=lists, numbers=dict(numbers))


@cache
def default_lexicon() -> dict[str, CheckSettings]:
    raw = yaml.safe_load(DEFAULTS.read_text(encoding="utf-8"))
    return {key: parse_settings(key, value or {}) for key, value in raw.items()}


def with_overrides(base: Lexicon, overrides: Mapping[str, Mapping[str, Any]]) -> Lexicon:
    """``base`` with the owner's changes: per check, any of severity, phrases, numbers."""
    merged = dict(base)
    for key, change in overrides.items():
        if key not in merged:
            raise LexiconError(f"There is no check {key}.")
        current = merged[key]
        tuned = parse_settings(
            key,
            {
                "severity": change.get("severity", current.severity),
                "phrases": {**_lists(current.phrases), **(change.get("phrases") or {})},
                "numbers": {**current.numbers, **(change.get("numbers") or {})},
            },
        )
        merged[key] = replace(current, **vars(tuned))
    return merged


def _lists(phrases: Mapping[str, tuple[str, ...]]) -> dict[str, list[str]]:
    return {name: list(words) for name, words in phrases.items()}
