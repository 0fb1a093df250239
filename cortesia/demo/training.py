"""The trainee, mid-course: enrolled by training when the desk added her, the first module
passed a lesson a day in her first weeks, the next one under way (a scenario approved by
the owner, a quiz failed and not yet retaken), her replies at the desk still held for
review in the share training sets.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cortesia.demo import company
from cortesia.demo.story import COMPANY_CALENDAR, Story
from services.training import onboarding
from services.training.content import Playbook
from services.training.models import StaffMemberReplica

POLITE_SCENARIO_REPLY = (
    "Olá! Peço desculpas pelo transtorno e agradeço por nos avisar. Entendo como é "
    "frustrante ficar sem o site justo agora. Já estou verificando o que aconteceu e "
    "volto a falar com você ainda hoje, no horário comercial, com o que encontrei e o "
    "que faremos para que não se repita."
)


def _answers(lesson: Playbook, right: bool) -> list[int]:
    questions = lesson.content["quiz"]
    return [
        question["answer"] if right else (question["answer"] + 1) % len(question["options"])
        for question in questions
    ]


def tell(story: Story, joined: date) -> None:
    """The course so far, each part on its own day since the trainee ``joined``."""
    today = story.now().astimezone(COMPANY_CALENDAR.zone).date()

    def on(business_days_ago: int, hour: int) -> Iterator[tuple[Session, int, dict[str, Any]]]:
        day = max(COMPANY_CALENDAR.business_days_before(today, business_days_ago), joined)
        story.move_to(story.at(day, hour))
        with story.database("training").transaction() as session:
            trainee = session.execute(
                select(StaffMemberReplica).where(StaffMemberReplica.email == company.TRAINEE.email)
            ).scalar_one()
            yield session, trainee.staff_id, dict(onboarding.curriculum(session))
        story.deliver("training")

    with story.database("training").transaction() as session:
        first_module = len(dict(onboarding.curriculum(session))["foundations"])
    for index in range(first_module):
        for session, trainee, modules in on(7 + first_module - index, 15):
            lesson = modules["foundations"][index]
            onboarding.mark_read(session, trainee, lesson.playbook_id)
            onboarding.answer_quiz(session, trainee, lesson.playbook_id, _answers(lesson, True))
    for session, trainee, modules in on(6, 11):
        polite = modules["courtesy"][0]
        onboarding.mark_read(session, trainee, polite.playbook_id)
        onboarding.answer_quiz(session, trainee, polite.playbook_id, _answers(polite, False))
    for session, trainee, modules in on(5, 11):
        polite = modules["courtesy"][0]
        onboarding.answer_quiz(session, trainee, polite.playbook_id, _answers(polite, True))
        status, findings = onboarding.submit_scenario(
            session, trainee, polite.playbook_id, POLITE_SCENARIO_REPLY, "pt-BR"
        )
        if status != "submitted":
            raise RuntimeError(f"the checker returned the demo's scenario reply: {findings}")
    for session, trainee, modules in on(4, 16):
        onboarding.review_scenario(
            session,
            trainee,
            modules["courtesy"][0].playbook_id,
            approve=True,
            comment="Muito bom: pediu desculpas, disse o que vai fazer e quando.",
        )
    for session, trainee, modules in on(1, 15):
        empathy = modules["courtesy"][1]
        onboarding.mark_read(session, trainee, empathy.playbook_id)
        onboarding.answer_quiz(session, trainee, empathy.playbook_id, _answers(empathy, False))
    story.move_to(None)
