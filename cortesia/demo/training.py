"""The trainee, mid-course: enrolled by training when the desk added her, the first module
passed, the next one under way (a scenario approved by the owner, a quiz failed and not
yet retaken), her replies at the desk still held for review in the share training sets.
"""

from __future__ import annotations

from sqlalchemy import select

from cortesia.demo import company
from cortesia.demo.story import Story
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


def tell(story: Story) -> None:
    with story.database("training").transaction() as session:
        trainee = session.execute(
            select(StaffMemberReplica).where(StaffMemberReplica.email == company.TRAINEE.email)
        ).scalar_one()
        owner_reviews: list[str] = []
        modules = dict(onboarding.curriculum(session))
        for lesson in modules["foundations"]:
            onboarding.mark_read(session, trainee.staff_id, lesson.playbook_id)
            onboarding.answer_quiz(
                session, trainee.staff_id, lesson.playbook_id, _answers(lesson, True)
            )
        polite, empathy, *_ = modules["courtesy"]
        onboarding.mark_read(session, trainee.staff_id, polite.playbook_id)
        onboarding.answer_quiz(
            session, trainee.staff_id, polite.playbook_id, _answers(polite, False)
        )
        onboarding.answer_quiz(
            session, trainee.staff_id, polite.playbook_id, _answers(polite, True)
        )
        status, findings = onboarding.submit_scenario(
            session, trainee.staff_id, polite.playbook_id, POLITE_SCENARIO_REPLY, "pt-BR"
        )
        if status != "submitted":
            raise RuntimeError(f"the checker returned the demo's scenario reply: {findings}")
        owner_reviews.append(polite.playbook_id)
        for lesson_id in owner_reviews:
            onboarding.review_scenario(
                session,
                trainee.staff_id,
                lesson_id,
                approve=True,
                comment="Muito bom: pediu desculpas, disse o que vai fazer e quando.",
            )
        onboarding.mark_read(session, trainee.staff_id, empathy.playbook_id)
        onboarding.answer_quiz(
            session, trainee.staff_id, empathy.playbook_id, _answers(empathy, False)
        )
    story.deliver("training")
