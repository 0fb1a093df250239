"""Matching phrases in a reply: whole words, any case, with or without accents.

A reply is folded once (lower case, accents removed) with a map from each
folded character back to the original, so a match can be shown to staff as
the words they wrote.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass


def fold(text: str) -> str:
    """Lower case without accents: what phrases are written in and matched against."""
    return Folded(text).text


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    """Offsets into the original reply."""
    text: str


class Folded:
    """A reply folded for matching, remembering where each character came from."""

    def __init__(self, original: str) -> None:
        self.original = original
        characters: list[str] = []
        origins: list[int] = []
        for index, character in enumerate(original):
            for part in unicodedata.normalize("NFKD", character.lower()):
                if not unicodedata.combining(part):
                    characters.append(part)
                    origins.append(index)
        self.text = "".join(characters)
        self._origins = origins

    def span(self, start: int, end: int) -> Span:
        if start >= end:
            return Span(0, 0, "")
        first = self._origins[start]
        last = self._origins[end - 1] + 1
        return Span(first, last, self.original[first:last])


def _token_pattern(token: str) -> str:
    if token == "*":
        return r"\w+"
    if token.endswith("*"):
        return re.escape(token[:-1]) + r"\w*"
    return re.escape(token)


class Phrases:
    """A set of folded phrases compiled into one whole-word pattern.

    ``"desculp*"`` matches any word that starts with ``desculp``; a lone ``*``
    stands for any one word (``"because you *"``). Words may be separated by any
    white space, line breaks included.
    """

    def __init__(self, phrases: Iterable[str]) -> None:
        alternatives = sorted(
            {fold(p).strip() for p in phrases if p.strip()}, key=len, reverse=True
        )
        self.phrases = tuple(alternatives)
        parts = [r"\s+".join(_token_pattern(t) for t in p.split()) for p in alternatives]
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")(?!\w)") if parts else None

    def __bool__(self) -> bool:
        return self._pattern is not None

    def first(self, folded: Folded, start: int = 0, end: int | None = None) -> Span | None:
        if self._pattern is None:
            return None
        match = self._pattern.search(folded.text, start, len(folded.text) if end is None else end)
        return folded.span(match.start(), match.end()) if match else None

    def all(self, folded: Folded) -> list[Span]:
        if self._pattern is None:
            return []
        return [folded.span(m.start(), m.end()) for m in self._pattern.finditer(folded.text)]


SENTENCE_END = re.compile(r"[.!?;\n]+")


def sentences(folded: Folded) -> list[tuple[int, int]]:
    """(start, end) of each sentence of the folded text."""
    bounds, start = [], 0
    for match in SENTENCE_END.finditer(folded.text):
        if match.start() > start:
            bounds.append((start, match.start()))
        start = match.end()
    if start < len(folded.text):
        bounds.append((start, len(folded.text)))
    return bounds
