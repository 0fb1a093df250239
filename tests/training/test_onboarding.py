"""From new hire to certified: enrolment from the desk's event, lessons, quizzes, scenarios
graded by the checker and reviewed by the owner, graduated supervision, certification."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from flask import Flask
from sqlalchemy import select

from services.training import onboarding, versions
from services.training.subscribers import staff_directory
from shared.bus.subscriber import Outcome, process_message
from shared.bus.tables import outbox
from shared.db import Database
from shared.events import REGISTRY, Envelope
from tests.support.staff import StaffSession

TRAINEE = {"id": 7, "name": "Duda", "email": "duda@example.com", "role": "trainee"}
OWNER = {"id": 1, "name": "Ana", "email": "ana@example.com", "role": "owner"}
GOOD_REPLY = (
    "Hi Carla,\n\nI'm sorry for the wait. The problem was caused by an expired certificate. "
    "I replaced it with a new one. To prevent it from happening again, we now monitor every "
    "renewal. "
    "The official guide is at https://example.com/guide.\n\nBest regards,\nDuda"
)


def hire_trainee(database: Database) -> None:
    event = "tickets.staff_added.v1"
    payload = {"staff_id": 7, "name": "Duda", "email": "duda@example.com", "role": "trainee"}
    envelope = Envelope(event, "tickets", REGISTRY.dump(event, payload))
    assert process_message(database, staff_directory, envelope.to_json()).outcome is Outcome.HANDLED


def events(database: Database, event_type: str) -> list[dict[str, Any]]:
    with database.transaction() as session:
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == event_type).order_by(outbox.c.id)
        ).scalars()
        return [json.loads(body)["payload"] for body in bodies]


def right_answers(database: Database, lesson_id: str) -> list[int]:
    with database.transaction() as session:
        quiz = versions.current(session, lesson_id).playbook.content["quiz"]
    return [question["answer"] for question in quiz]


def test_a_trainee_goes_from_enrolled_to_certified(database: Database) -> None:
    hire_trainee(database)
    hire_trainee(database)  # the bus may deliver twice: still one enrolment
    assert events(database, "training.trainee_enrolled.v1") == [{"staff_id": 7, "share_held": 100}]

    with database.transaction() as session:
        modules = onboarding.curriculum(session)
    lessons = [lesson for _, items in modules for lesson in items]
    assert len(modules) == 7 and len(lessons) == 26
    for lesson in lessons:
        lesson_id = lesson.playbook_id
        answers = right_answers(database, lesson_id)
        with database.transaction() as session:
            onboarding.mark_read(session, 7, lesson_id)
            result = onboarding.answer_quiz(session, 7, lesson_id, answers)
            assert result.passed and result.score == 100
            if lesson.content.get("scenario"):
                status, findings = onboarding.submit_scenario(session, 7, lesson_id, GOOD_REPLY)
                assert status == "submitted", (lesson_id, findings)
        if lesson.content.get("scenario"):
            with database.transaction() as session:
                onboarding.review_scenario(session, 7, lesson_id, approve=True, comment=None)

    shares = [e["share_held"] for e in events(database, "training.review_policy_changed.v1")]
    assert shares == sorted(shares, reverse=True) and 25 <= shares[-1] < 100
    (certified,) = events(database, "training.trainee_certified.v1")
    assert certified["staff_id"] == 7
    with database.transaction() as session:
        state = onboarding.progress(session, 7)
    assert state.status == "certified" and state.share_held == 0 and state.next_lesson is None


def test_a_failed_quiz_explains_and_a_blocking_scenario_reply_comes_back(
    database: Database,
) -> None:
    hire_trainee(database)
    wrong = [(a + 1) % 3 for a in right_answers(database, "p-resolve")]
    with database.transaction() as session:
        result = onboarding.answer_quiz(session, 7, "p-resolve", wrong)
        assert not result.passed and result.correct == [False] * len(wrong)
        assert all(text["en"] for text in result.explanations)
        status, findings = onboarding.submit_scenario(session, 7, "p-resolve", "FIXED. DONE NOW.")
        assert status == "returned"
        assert {f["check"] for f in findings} >= {"P-POLITE:shouting", "P-RESOLVE:cause"}
        with pytest.raises(onboarding.OnboardingError, match="awaits review"):
            onboarding.review_scenario(session, 7, "p-resolve", approve=True, comment=None)
        with pytest.raises(onboarding.OnboardingError, match="questions"):
            onboarding.answer_quiz(session, 7, "p-resolve", [0])
    with database.transaction() as session:
        assert onboarding.progress(session, 7).share_held == 100


def test_every_module_of_the_playbooks_has_a_name_in_both_languages() -> None:
    from services.training.portal import WORDS

    lessons = Path(__file__).parents[2] / "services" / "training" / "playbooks" / "lessons"
    modules = {yaml.safe_load(path.read_text())["module"] for path in lessons.glob("*.yaml")}
    for language, words in WORDS.items():
        assert {f"module:{m}" for m in modules} <= set(words), language


def test_the_course_runs_in_its_own_order_and_names_every_module(database: Database) -> None:
    lessons = Path(__file__).parents[2] / "services" / "training" / "playbooks" / "lessons"
    modules = {yaml.safe_load(path.read_text())["module"] for path in lessons.glob("*.yaml")}
    assert modules == set(onboarding.COURSE), "every module has its place in the course"
    with database.transaction() as session:
        taken = [name for name, _ in onboarding.curriculum(session)]
    assert taken == list(onboarding.COURSE)
    assert taken[:2] == ["foundations", "courtesy"]


def test_supervision_falls_in_steps_as_modules_are_passed() -> None:
    assert [onboarding.share_for(n, 7) for n in range(8)] == [100, 90, 80, 70, 55, 45, 35, 25]


def test_the_trainee_portal_and_the_owners_review(app: Flask, database: Database) -> None:
    hire_trainee(database)
    trainee = StaffSession(app, TRAINEE)
    page = trainee.get("/learn/", headers={"Accept-Language": "pt-BR"})
    assert page.status_code == 200 and "Sua trilha de integração" in page.text
    assert "<h2>Fundamentos" in page.text and "<h2>Canais e horários" in page.text
    english = trainee.get("/learn/").text
    assert "<h2>Foundations" in english and "<h2>Channels and hours" in english
    lesson = trainee.get("/learn/p-resolve")
    assert lesson.status_code == 200 and "<h1>Cause, fix, prevention</h1>" in lesson.text
    assert "<p>" in lesson.text, "the body's Markdown is rendered"

    form = {f"q{n}": str(a) for n, a in enumerate(right_answers(database, "p-resolve"))}
    form["csrf_token"] = trainee.token
    answered = trainee.client.post("/learn/p-resolve/quiz", data=form)
    assert answered.status_code == 200 and "Score: 100%" in answered.text
    missing = trainee.client.post("/learn/p-resolve/quiz", data={"csrf_token": trainee.token})
    assert missing.status_code == 422

    reply = {"reply": GOOD_REPLY.replace("Carla", "Marta"), "csrf_token": trainee.token}
    submitted = trainee.client.post("/learn/p-resolve/scenario", data=reply)
    assert submitted.status_code == 200 and "Submitted: the owner reviews" in submitted.text
    assert trainee.get("/learn/reviews").status_code == 403
    assert trainee.get("/learn/no-such-lesson").status_code == 404

    owner = StaffSession(app, OWNER)
    waiting = owner.get("/learn/reviews")
    assert "Marta" in waiting.text
    empty = owner.client.post(
        "/learn/reviews/7/p-resolve", data={"verdict": "return", "csrf_token": owner.token}
    )
    assert empty.status_code == 303  # returning needs a comment: nothing changed
    approved = owner.client.post(
        "/learn/reviews/7/p-resolve", data={"verdict": "approve", "csrf_token": owner.token}
    )
    assert approved.status_code == 303
    with database.transaction() as session:
        (state,) = [
            s for m in onboarding.progress(session, 7).modules for s in m.lessons
            if s.lesson.playbook_id == "p-resolve"
        ]  # fmt: skip
    assert state.scenario_status == "approved" and state.quiz_passed and not state.read
