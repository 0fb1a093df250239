"""The playbook files: every founder's rule taught, every situation scripted, all in shape."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from services.training.checker.rules import CHECKS
from services.training.content import (
    CUSTOMER_LANGUAGES,
    PlaybookError,
    load_playbooks,
    parse_playbook,
    rules_taught,
)

PRACTICES = Path(__file__).parents[3] / "shared" / "FOUNDER_PRACTICES.md"
SITUATIONS = {
    "angry_customer",
    "service_down",
    "cannot_solve",
    "reactivation_first",
    "reactivation_second",
    "cancellation",
    "running_late",
    "beyond_hosting",
    "other_customer_question",
    "upsell_temptation",
    "weekly_checkin",
    "invoice_dispute",
}
FOUNDER_RULES = {
    "P-STABLE", "P-REFERRAL", "P-ONE-GRACE", "P-RESERVE", "P-TEACH", "P-DIRECT", "P-EMPATHY",
    "P-REACH", "P-EASE", "P-RESOLVE", "P-POLITE", "P-LATE", "P-NO-GOSSIP", "P-INVOICE",
    "P-ESCALATE", "P-RIGHT-SIZE", "P-BACKUP", "P-DATA", "P-RESPECT", "P-CONFIDENTIAL",
    "P-HOURS", "P-CHANNELS", "P-FIRM", "P-CADENCE", "P-REPORT", "P-OWN-IT",
}  # fmt: skip


def test_every_founders_rule_is_taught_by_a_lesson() -> None:
    if PRACTICES.exists():  # beside the checkout, where the founder's text is kept
        assert set(re.findall(r"\*\*(P-[A-Z-]+)\*\*", PRACTICES.read_text())) == FOUNDER_RULES
    playbooks = load_playbooks()
    assert rules_taught(playbooks) >= FOUNDER_RULES
    lessons = {p.playbook_id for p in playbooks if p.kind == "lesson"}
    assert {check.lesson for check in CHECKS} <= lessons, "each finding links to its lesson"


def test_every_situation_has_its_script_with_words_for_customers_in_three_languages() -> None:
    scripts = [p for p in load_playbooks() if p.kind == "script"]
    assert {s.situation for s in scripts} == SITUATIONS
    for script in scripts:
        spoken = [step["say"] for step in script.content["steps"] if "say" in step]
        assert spoken, f"{script.playbook_id} says nothing to the customer"
        assert all(set(CUSTOMER_LANGUAGES) <= set(say) for say in spoken)


def test_a_playbook_out_of_shape_is_refused_with_the_reason() -> None:
    with pytest.raises(PlaybookError, match="not valid YAML"):
        parse_playbook("id: [unclosed", "broken.yaml")
    with pytest.raises(PlaybookError, match="kind must be one of"):
        parse_playbook("id: x\nkind: poem\nrules: [P-POLITE]\n")
    lesson = (
        "id: p-x\nkind: lesson\nmodule: m\norder: 1\nrules: [P-POLITE]\n"
        "title: {en: T, pt-BR: T}\nsummary: {en: S, pt-BR: S}\nbody: {en: B}\n"
        "quiz:\n  - question: {en: Q, pt-BR: Q}\n"
        "    options: [{en: a, pt-BR: a}, {en: b, pt-BR: b}]\n"
        "    answer: 5\n    explanation: {en: E, pt-BR: E}\n"
    )
    with pytest.raises(PlaybookError) as refused:
        parse_playbook(lesson, "p-x.yaml")
    assert "body has no pt-BR text" in str(refused.value)
    assert "answer must be the index" in str(refused.value)
