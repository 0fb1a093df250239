"""A lesson's quiz answers are the owner's: a trainee reads the questions and options through
the API, the lesson page and the library, never which option is right, the explanations that
tell, the source that holds them or a diff of it; the owner, who writes the quizzes, reads
them all."""

from __future__ import annotations

import html
import re

from flask import Flask

from services.training import versions
from shared.db import Database
from tests.support.staff import StaffSession
from tests.training.test_onboarding import OWNER, TRAINEE, hire_trainee

AGENT = {"id": 3, "name": "Caio", "email": "caio@example.com", "role": "agent"}
LESSON = "p-resolve"


def the_key(database: Database) -> list[tuple[int, dict[str, str]]]:
    """Each question's answer and explanation, as the owner wrote them."""
    with database.transaction() as session:
        quiz = versions.current(session, LESSON).playbook.content["quiz"]
    return [(int(q["answer"]), dict(q["explanation"])) for q in quiz]


def explanations(database: Database) -> list[str]:
    texts = [text for _, explanation in the_key(database) for text in explanation.values()]
    assert texts
    return texts


def gives_nothing_away(text: str, database: Database) -> None:
    unescaped = html.unescape(text)
    for explanation in explanations(database):
        assert explanation not in unescaped, explanation
    assert not re.search(r"\banswer:\s*\d", unescaped), "a line of the source"
    assert '"answer"' not in unescaped


def republish_with_another_answer(owner: StaffSession) -> None:
    source = owner.get(f"/api/playbooks/{LESSON}").get_json()["source"]
    edited = source.replace("answer: 0", "answer: 1", 1).replace("answer: 2", "answer: 1", 1)
    assert edited != source
    published = owner.send("PUT", f"/api/playbooks/{LESSON}", {"source": edited})
    assert published.status_code == 200, published.get_json()


def test_a_trainee_reads_a_lesson_through_the_api_without_its_answers(
    app: Flask, database: Database
) -> None:
    hire_trainee(database)
    trainee = StaffSession(app, TRAINEE)
    answer = trainee.get(f"/api/playbooks/{LESSON}")
    assert answer.status_code == 200
    lesson = answer.get_json()
    assert lesson["id"] == LESSON and lesson["kind"] == "lesson" and lesson["version"] == 1
    assert "source" not in lesson, "the YAML holds the answers"
    quiz = lesson["content"]["quiz"]
    assert len(quiz) == len(the_key(database))
    for question in quiz:
        assert set(question) == {"question", "options"}
        assert len(question["options"]) >= 2
    assert lesson["content"]["body"]["en"], "the lesson itself is all there"
    gives_nothing_away(answer.text, database)

    agent = StaffSession(app, AGENT)
    gives_nothing_away(agent.get(f"/api/playbooks/{LESSON}").text, database)


def test_the_owner_reads_the_answers_and_the_source(app: Flask, database: Database) -> None:
    owner = StaffSession(app, OWNER)
    lesson = owner.get(f"/api/playbooks/{LESSON}").get_json()
    assert [(q["answer"], q["explanation"]) for q in lesson["content"]["quiz"]] == the_key(database)
    assert "answer:" in lesson["source"]


def test_a_diff_of_a_lesson_is_the_owners_and_a_scripts_anyones(
    app: Flask, database: Database
) -> None:
    hire_trainee(database)
    owner, trainee = StaffSession(app, OWNER), StaffSession(app, TRAINEE)
    republish_with_another_answer(owner)
    refused = trainee.get(f"/api/playbooks/{LESSON}/diff?from=1&to=2")
    assert refused.status_code == 403
    gives_nothing_away(refused.text, database)
    assert (
        "+    answer: 1"
        in owner.get(f"/api/playbooks/{LESSON}/diff?from=1&to=2").get_json()["diff"]
    )
    assert trainee.get(f"/api/playbooks/{LESSON}").get_json()["version"] == 2
    gives_nothing_away(trainee.get(f"/api/playbooks/{LESSON}").text, database)

    script = owner.get("/api/playbooks/reactivation-first").get_json()["source"]
    owner.send("PUT", "/api/playbooks/reactivation-first", {"source": script + "\n# read again\n"})
    changes = trainee.get("/api/playbooks/reactivation-first/diff?from=1&to=2")
    assert changes.status_code == 200 and "+# read again" in changes.get_json()["diff"]


def test_the_pages_a_trainee_sees_embed_no_answers(app: Flask, database: Database) -> None:
    hire_trainee(database)
    owner, trainee = StaffSession(app, OWNER), StaffSession(app, TRAINEE)
    republish_with_another_answer(owner)

    lesson = trainee.get(f"/learn/{LESSON}")
    assert lesson.status_code == 200 and 'name="q0"' in lesson.text
    gives_nothing_away(lesson.text, database)
    portuguese = trainee.get(f"/learn/{LESSON}", headers={"Accept-Language": "pt-BR"})
    gives_nothing_away(portuguese.text, database)

    library = trainee.get(f"/playbooks/{LESSON}")
    assert library.status_code == 200 and 'name="source"' not in library.text
    assert f"/playbooks/{LESSON}/diff" not in library.text
    gives_nothing_away(library.text, database)
    assert trainee.get(f"/playbooks/{LESSON}/diff?from=1&to=2").status_code == 403

    owners_view = owner.get(f"/playbooks/{LESSON}")
    assert 'name="source"' in owners_view.text and "answer: 1" in owners_view.text
    assert f"/playbooks/{LESSON}/diff?from=1&amp;to=2" in owners_view.text
    diff = owner.get(f"/playbooks/{LESSON}/diff?from=1&to=2")
    assert diff.status_code == 200 and "answer: 1" in html.unescape(diff.text)


def test_the_explanations_come_once_the_quiz_is_answered(app: Flask, database: Database) -> None:
    hire_trainee(database)
    trainee = StaffSession(app, TRAINEE)
    key = the_key(database)
    wrong = {f"q{n}": str((answer + 1) % 2) for n, (answer, _) in enumerate(key)}
    graded = trainee.client.post(
        f"/learn/{LESSON}/quiz", data={**wrong, "csrf_token": trainee.token}
    )
    assert graded.status_code == 200 and "Score: 100%" not in graded.text
    assert all(explanation["en"] in html.unescape(graded.text) for _, explanation in key)
