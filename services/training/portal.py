"""The trainee portal: the path, each lesson with its quiz and scenario; the owner's reviews.

Pages in English or Portuguese, as the browser asks. The trainee reads a
lesson, answers its quiz (explanations shown after answering) and writes a
reply to its simulated ticket, which the checker grades at once; the owner
approves it or returns it with a comment.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from markdown_it import MarkdownIt
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from services.training import onboarding, versions
from services.training.content import without_answers
from services.training.models import Enrolment, StaffMemberReplica
from shared.db import Database
from shared.web import current_staff, roles_required
from shared.web.staff_language import staff_language

portal = Blueprint("portal", __name__, url_prefix="/learn", template_folder="templates")
_markdown = MarkdownIt("commonmark", {"html": False})
"""Lesson bodies are Markdown; raw HTML in them is shown as text, never run."""

WORDS = {
    "en": {
        "path": "Your onboarding path",
        "held": "Replies held for review",
        "certified": "Certified: your replies go straight to customers.",
        "next": "Next step",
        "read": "I have read this lesson",
        "quiz": "Quiz",
        "answer": "Check my answers",
        "scenario": "Practice ticket",
        "reply": "Your reply",
        "send": "Submit for review",
        "done": "done",
        "todo": "to do",
        "score": "Score",
        "passed": "Passed",
        "again": "Not yet: read the explanations and try again.",
        "reviews": "Practice replies to review",
        "status:submitted": "Submitted: the owner reviews it next.",
        "status:approved": "Approved by the owner.",
        "status:returned": "Returned: see the comment and write it again.",
        "not_enrolled": "Not enrolled in the onboarding path.",
        "module:foundations": "Foundations",
        "module:courtesy": "Courtesy",
        "module:resolving": "Resolving",
        "module:confidentiality": "Confidentiality",
        "module:channels-and-hours": "Channels and hours",
        "module:care": "Care of the customers",
        "module:billing": "Billing",
    },
    "pt-BR": {
        "path": "Sua trilha de integração",
        "held": "Respostas retidas para revisão",
        "certified": "Certificado: suas respostas vão direto aos clientes.",
        "next": "Próximo passo",
        "read": "Li esta lição",
        "quiz": "Questionário",
        "answer": "Conferir respostas",
        "scenario": "Chamado de treino",
        "reply": "Sua resposta",
        "send": "Enviar para revisão",
        "done": "feito",
        "todo": "a fazer",
        "score": "Nota",
        "passed": "Aprovado",
        "again": "Ainda não: leia as explicações e tente de novo.",
        "reviews": "Respostas de treino para revisar",
        "status:submitted": "Enviada: a dona revisa em seguida.",
        "status:approved": "Aprovada pela dona.",
        "status:returned": "Devolvida: veja o comentário e escreva de novo.",
        "not_enrolled": "Fora da trilha de integração.",
        "module:foundations": "Fundamentos",
        "module:courtesy": "Cortesia",
        "module:resolving": "Resolver",
        "module:confidentiality": "Confidencialidade",
        "module:channels-and-hours": "Canais e horários",
        "module:care": "Cuidado com os clientes",
        "module:billing": "Cobrança",
    },
}


def text_in(value: Any, language: str) -> str:
    if isinstance(value, dict):
        return str(value.get(language) or value.get("en") or "")
    return str(value or "")


@portal.app_template_filter("localised")
def _localised(value: Any) -> str:
    return text_in(value, staff_language())


@portal.app_template_filter("markdown")
def _render_markdown(value: str) -> Markup:
    return Markup(_markdown.render(value))


@contextmanager
def _transaction() -> Iterator[Session]:
    database: Database = current_app.extensions["cortesia.database"]
    with database.transaction() as session:
        yield session


def _trainee_id() -> int:
    staff = current_staff()
    assert staff is not None
    return int(staff.id)


@portal.get("/")
@roles_required("trainee")
def path() -> Any:
    language = staff_language()
    with _transaction() as session:
        try:
            state = onboarding.progress(session, _trainee_id())
        except onboarding.NotEnrolled:
            state = None
        staff = current_staff()
        trainees = _trainees(session) if staff is not None and staff.role == "owner" else []
    return render_template(
        "training/path.html", state=state, words=WORDS[language], lang=language, trainees=trainees
    )


def _trainees(session: Session) -> list[tuple[StaffMemberReplica | None, onboarding.Progress]]:
    rows = []
    for enrolment in session.execute(select(Enrolment).order_by(Enrolment.staff_id)).scalars():
        rows.append(
            (
                session.get(StaffMemberReplica, enrolment.staff_id),
                onboarding.progress(session, enrolment.staff_id),
            )
        )
    return rows


@portal.get("/<lesson_id>")
@roles_required("trainee")
def lesson(lesson_id: str) -> Any:
    return _lesson_page(lesson_id)


def _lesson_page(lesson_id: str, quiz: onboarding.QuizResult | None = None, **extra: Any) -> Any:
    language = staff_language()
    with _transaction() as session:
        try:
            current = versions.current(session, lesson_id)
        except versions.UnknownPlaybook:
            abort(404, description=f"There is no lesson {lesson_id}.")
        if current.playbook.kind != "lesson":
            abort(404, description=f"{lesson_id} is not a lesson.")
        state = None
        try:
            progress = onboarding.progress(session, _trainee_id())
            state = next(
                (
                    s
                    for m in progress.modules
                    for s in m.lessons
                    if s.lesson.playbook_id == lesson_id
                ),
                None,
            )
        except onboarding.NotEnrolled:
            progress = None
    return render_template(
        "training/lesson.html",
        lesson=current.playbook,
        # Which option is right is for the grading; the page shows the explanations of
        # a quiz once it is answered, from the result.
        content=without_answers(current.playbook).content,
        state=state,
        enrolled=progress is not None,
        quiz=quiz,
        words=WORDS[language],
        lang=language,
        **extra,
    )


@portal.post("/<lesson_id>/read")
@roles_required("trainee")
def read(lesson_id: str) -> Any:
    with _transaction() as session:
        _or_404(lambda: onboarding.mark_read(session, _trainee_id(), lesson_id))
    return redirect(url_for("portal.lesson", lesson_id=lesson_id) + "#quiz")


@portal.post("/<lesson_id>/quiz")
@roles_required("trainee")
def quiz(lesson_id: str) -> Any:
    with _transaction() as session:
        current = _or_404(lambda: versions.current(session, lesson_id))
    questions = current.playbook.content.get("quiz", [])
    values = [request.form.get(f"q{number}", "") for number in range(len(questions))]
    if not all(value.isdigit() for value in values):
        flash(WORDS[staff_language()]["again"])
        return _lesson_page(lesson_id), 422
    answers = [int(value) for value in values]
    with _transaction() as session:
        result = _or_404(lambda: onboarding.answer_quiz(session, _trainee_id(), lesson_id, answers))
    return _lesson_page(lesson_id, quiz=result, answers=answers)


@portal.post("/<lesson_id>/scenario")
@roles_required("trainee")
def scenario(lesson_id: str) -> Any:
    text = request.form.get("reply", "")
    try:
        with _transaction() as session:
            status, findings = onboarding.submit_scenario(
                session, _trainee_id(), lesson_id, text, staff_language()
            )
    except onboarding.OnboardingError as error:
        flash(str(error))
        return _lesson_page(lesson_id, draft=text), 422
    except (onboarding.NotEnrolled, versions.UnknownPlaybook) as error:
        abort(404, description=str(error.args[0]))
    return _lesson_page(lesson_id, findings=findings, scenario_status=status, draft=text)


@portal.get("/reviews")
@roles_required()
def reviews() -> Any:
    language = staff_language()
    with _transaction() as session:
        waiting = [
            (
                row,
                session.get(StaffMemberReplica, row.staff_id),
                json.loads(row.scenario_findings or "[]"),
            )
            for row in onboarding.awaiting_review(session)
        ]
    return render_template(
        "training/reviews.html", waiting=waiting, words=WORDS[language], lang=language
    )


@portal.post("/reviews/<int:staff_id>/<lesson_id>")
@roles_required()
def review(staff_id: int, lesson_id: str) -> Any:
    approve = request.form.get("verdict") == "approve"
    with _transaction() as session:
        try:
            onboarding.review_scenario(
                session, staff_id, lesson_id, approve=approve, comment=request.form.get("comment")
            )
        except onboarding.OnboardingError as error:
            flash(str(error))
            return redirect(url_for("portal.reviews")), 303
        except onboarding.NotEnrolled as error:
            abort(404, description=str(error))
    flash("Approved." if approve else "Returned with your comment.")
    return redirect(url_for("portal.reviews"), 303)


def _or_404(action: Any) -> Any:
    try:
        return action()
    except (onboarding.NotEnrolled, versions.UnknownPlaybook) as error:
        abort(404, description=str(error.args[0]))
    except onboarding.OnboardingError as error:
        abort(422, description=str(error))
