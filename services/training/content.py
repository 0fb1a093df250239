"""The founder's playbooks as files: lessons (with quizzes and scenarios) and scripts.

They live in ``playbooks/lessons/*.yaml`` and ``playbooks/scripts/*.yaml`` beside
this module, readable text (YAML with Markdown bodies) reviewed like code. This
module reads and validates them; training's database keeps their versions
(``versions.py``), starting from these files.

Staff-facing text is in English and Brazilian Portuguese; what a script says
to customers is also in Spanish.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import yaml

PLAYBOOKS = Path(__file__).with_name("playbooks")
STAFF_LANGUAGES = ("en", "pt-BR")
CUSTOMER_LANGUAGES = ("en", "pt-BR", "es")
KINDS = ("lesson", "script")
RULE_ID = re.compile(r"^P-[A-Z]+(?:-[A-Z]+)*$")
PLAYBOOK_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")
PLACEHOLDERS = frozenset(
    {
        "customer_name",
        "staff_name",
        "pay_by",
        "first_grace_on",
        "ticket_number",
        "plan_name",
        "invoice_number",
        "amount",
        "due_date",
        "new_time",
    }
)
"""What a script's words may leave for the desk to fill in."""


class PlaybookError(ValueError):
    """A playbook that does not fit the format; the message names the file and the field."""


@dataclass(frozen=True)
class Playbook:
    """One lesson or script: its id, what it is, and its content as written."""

    playbook_id: str
    kind: str
    rules: tuple[str, ...]
    content: Mapping[str, Any]

    @property
    def title(self) -> Mapping[str, str]:
        return dict(self.content["title"])

    @property
    def module(self) -> str | None:
        return self.content.get("module")

    @property
    def situation(self) -> str | None:
        return self.content.get("situation")


GIVEAWAYS = ("answer", "explanation")
"""What a quiz question says only to its author: which option is right and the explanation
that tells (a trainee reads the explanations once they have answered)."""


def without_answers(playbook: Playbook) -> Playbook:
    """The playbook as a learner reads it before answering: each quiz question and its
    options, nothing that says which option is right."""
    quiz = playbook.content.get("quiz")
    if not isinstance(quiz, list):
        return playbook
    questions = [
        {key: value for key, value in question.items() if key not in GIVEAWAYS} for question in quiz
    ]
    return replace(playbook, content={**playbook.content, "quiz": questions})


def parse_playbook(text: str, source: str = "playbook") -> Playbook:
    """A playbook from its YAML text, validated; ``PlaybookError`` says what is wrong."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PlaybookError(f"{source}: not valid YAML: {error}") from None
    if not isinstance(raw, dict):
        raise PlaybookError(f"{source}: a playbook is a mapping of fields")
    problems = list(_problems(raw))
    if problems:
        raise PlaybookError(f"{source}: " + "; ".join(problems))
    return Playbook(raw["id"], raw["kind"], tuple(raw["rules"]), raw)


def load_playbooks(folder: Path = PLAYBOOKS) -> list[Playbook]:
    playbooks = [
        parse_playbook(path.read_text(encoding="utf-8"), str(path.relative_to(folder)))
        for path in sorted(folder.glob("*/*.yaml"))
    ]
    ids = [p.playbook_id for p in playbooks]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise PlaybookError(f"playbook ids used twice: {', '.join(duplicates)}")
    return playbooks


def rules_taught(playbooks: Iterable[Playbook]) -> set[str]:
    return {rule for p in playbooks if p.kind == "lesson" for rule in p.rules}


def _problems(raw: Mapping[str, Any]) -> Iterable[str]:
    if not isinstance(raw.get("id"), str) or not re.fullmatch(
        r"[a-z0-9]+(?:-[a-z0-9]+)*", raw["id"]
    ):
        yield "id must be lower-case words joined by hyphens"
    if raw.get("kind") not in KINDS:
        yield f"kind must be one of {', '.join(KINDS)}"
        return
    rules = raw.get("rules")
    if (
        not isinstance(rules, list)
        or not rules
        or not all(isinstance(r, str) and RULE_ID.match(r) for r in rules)
    ):
        yield "rules must list the founder's rule ids (P-...)"
    yield from _texts(raw, "title", STAFF_LANGUAGES)
    if raw["kind"] == "lesson":
        yield from _lesson_problems(raw)
    else:
        yield from _script_problems(raw)


def _texts(raw: Mapping[str, Any], key: str, languages: Iterable[str]) -> Iterable[str]:
    value = raw.get(key)
    if not isinstance(value, Mapping):
        yield f"{key} must give the text in {', '.join(languages)}"
        return
    for language in languages:
        text = value.get(language)
        if not isinstance(text, str) or not text.strip():
            yield f"{key} has no {language} text"


def _lesson_problems(raw: Mapping[str, Any]) -> Iterable[str]:
    if not isinstance(raw.get("module"), str):
        yield "a lesson names its module"
    if not isinstance(raw.get("order"), int):
        yield "a lesson has its order in the module"
    for key in ("summary", "body"):
        yield from _texts(raw, key, STAFF_LANGUAGES)
    quiz = raw.get("quiz")
    if not isinstance(quiz, list) or not quiz:
        yield "a lesson has a quiz"
        return
    for number, question in enumerate(quiz, 1):
        where = f"quiz question {number}"
        if not isinstance(question, Mapping):
            yield f"{where} must be a mapping"
            continue
        yield from (f"{where}: {p}" for p in _texts(question, "question", STAFF_LANGUAGES))
        yield from (f"{where}: {p}" for p in _texts(question, "explanation", STAFF_LANGUAGES))
        options = question.get("options")
        if not isinstance(options, list) or len(options) < 2:
            yield f"{where} needs at least two options"
            continue
        for index, option in enumerate(options):
            if not isinstance(option, Mapping) or any(
                not str(option.get(language, "")).strip() for language in STAFF_LANGUAGES
            ):
                yield f"{where}: option {index} needs en and pt-BR text"
        answer = question.get("answer")
        if not isinstance(answer, int) or not 0 <= answer < len(options):
            yield f"{where}: answer must be the index of one of its options"
    scenario = raw.get("scenario")
    if scenario is not None:
        if not isinstance(scenario, Mapping):
            yield "scenario must be a mapping"
            return
        yield from (f"scenario: {p}" for p in _texts(scenario, "ticket", STAFF_LANGUAGES))
        if not isinstance(scenario.get("rubric"), list) or not scenario["rubric"]:
            yield "scenario needs a rubric"


def _script_problems(raw: Mapping[str, Any]) -> Iterable[str]:
    if not isinstance(raw.get("situation"), str):
        yield "a script names the situation it is for"
    yield from _texts(raw, "when", STAFF_LANGUAGES)
    steps = raw.get("steps")
    if not isinstance(steps, list) or not steps:
        yield "a script has steps"
        return
    for number, step in enumerate(steps, 1):
        where = f"step {number}"
        if not isinstance(step, Mapping):
            yield f"{where} must be a mapping"
            continue
        yield from (f"{where}: {p}" for p in _texts(step, "do", STAFF_LANGUAGES))
        if "say" in step:
            yield from (f"{where}: {p}" for p in _texts(step, "say", CUSTOMER_LANGUAGES))
            for language, text in (step.get("say") or {}).items():
                unknown = set(re.findall(r"{(\w+)}", str(text))) - PLACEHOLDERS
                if unknown:
                    yield f"{where}: unknown placeholders in {language}: {sorted(unknown)}"
