"""How well the checker agrees with people: precision and recall per check on a labelled set.

The set is JSON lines, one reply each, with the checks a person expects it to
trip (``tests/data/replies/*.jsonl``), and a customer directory to check
against (``tests/data/customers.json``). ``cortesia training evaluate-checker``
prints the table; the suite holds the blocking checks to their targets.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from services.training.checker import CHECK_KEYS, KnownCustomer, ReplyChecker, ReplyContext

PRECISION_TARGET = 0.9
RECALL_TARGET = 0.85


@dataclass(frozen=True)
class LabelledReply:
    reply_id: str
    language: str
    text: str
    context: ReplyContext
    expected: frozenset[str]


def load_replies(paths: Iterable[Path]) -> list[LabelledReply]:
    replies = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            raw = json.loads(line)
            unknown = set(raw["expected"]) - set(CHECK_KEYS)
            if unknown:
                raise ValueError(f"{path}:{number}: unknown checks {sorted(unknown)}")
            replies.append(
                LabelledReply(
                    reply_id=raw["id"],
                    language=raw["language"],
                    text=raw["text"],
                    context=ReplyContext(**raw["context"]),
                    expected=frozenset(raw["expected"]),
                )
            )
    return replies


def load_directory(path: Path) -> list[KnownCustomer]:
    return [KnownCustomer(**entry) for entry in json.loads(path.read_text(encoding="utf-8"))]


@dataclass
class Tally:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0


@dataclass
class Evaluation:
    replies: int = 0
    by_check: dict[str, Tally] = field(default_factory=lambda: {k: Tally() for k in CHECK_KEYS})
    by_language: Counter[str] = field(default_factory=Counter)
    mistakes: list[tuple[str, str, str]] = field(default_factory=list)
    """(reply id, check, "missed" or "wrong")."""
    seconds: list[float] = field(default_factory=list)

    def misses_target(self, severities: dict[str, str]) -> list[str]:
        """The blocking checks below the precision or recall target."""
        return [
            key
            for key, tally in self.by_check.items()
            if severities.get(key) == "block"
            and (tally.precision < PRECISION_TARGET or tally.recall < RECALL_TARGET)
        ]

    def as_dict(self) -> dict[str, Any]:
        return {
            "replies": self.replies,
            "languages": dict(self.by_language),
            "checks": {
                key: {
                    "precision": round(t.precision, 3),
                    "recall": round(t.recall, 3),
                    "tp": t.true_positives,
                    "fp": t.false_positives,
                    "fn": t.false_negatives,
                }
                for key, t in self.by_check.items()
            },
        }


def evaluate(checker: ReplyChecker, replies: Iterable[LabelledReply]) -> Evaluation:
    result = Evaluation()
    for reply in replies:
        started = time.perf_counter()
        found = checker.check(reply.text, reply.context, reply.language).keys()
        result.seconds.append(time.perf_counter() - started)
        result.replies += 1
        result.by_language[reply.language] += 1
        for key in CHECK_KEYS:
            tally = result.by_check[key]
            if key in found and key in reply.expected:
                tally.true_positives += 1
            elif key in found:
                tally.false_positives += 1
                result.mistakes.append((reply.reply_id, key, "wrong"))
            elif key in reply.expected:
                tally.false_negatives += 1
                result.mistakes.append((reply.reply_id, key, "missed"))
    return result


def report(result: Evaluation, severities: dict[str, str]) -> str:
    lines = [
        f"{result.replies} labelled replies ("
        + ", ".join(f"{lang} {n}" for lang, n in sorted(result.by_language.items()))
        + ")",
        "",
        f"{'check':38} {'severity':8} {'precision':>9} {'recall':>7} {'tp':>4} {'fp':>4} {'fn':>4}",
    ]
    for key, tally in result.by_check.items():
        severity = severities.get(key, "?")
        flag = ""
        if severity == "block" and (
            tally.precision < PRECISION_TARGET or tally.recall < RECALL_TARGET
        ):
            flag = "  below target"
        lines.append(
            f"{key:38} {severity:8} {tally.precision:9.3f} {tally.recall:7.3f} "
            f"{tally.true_positives:4} {tally.false_positives:4} {tally.false_negatives:4}{flag}"
        )
    lines.append("")
    lines.append(
        f"Targets for blocking checks: precision >= {PRECISION_TARGET}, recall >= {RECALL_TARGET}."
    )
    if result.seconds:
        ordered = sorted(result.seconds)
        p50, p99 = (ordered[min(len(ordered) - 1, int(q * len(ordered)))] for q in (0.5, 0.99))
        lines.append(
            f"Check time per reply: p50 {p50 * 1000:.2f} ms, p99 {p99 * 1000:.2f} ms, "
            f"max {ordered[-1] * 1000:.2f} ms."
        )
    return "\n".join(lines)
