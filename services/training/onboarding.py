"""From new hire to certified: enrolment, lessons, quizzes, scenarios, supervision, certification.

A staff member the desk adds as a trainee is enrolled with every reply held
for review. A lesson is done when it has been read, its quiz passed (80 % by
default) and, if it has a scenario, the trainee's reply to it passed the
checker with no blocking finding and was approved by the owner. A module is
passed when its required lessons are done.

Supervision is graduated: the share of the trainee's replies the desk holds
falls as modules are passed (100 % at enrolment, 25 % with all but the last),
and moves with the trainee's recent work at the desk: replies the checker finds
nothing blocking in, together with customers' good ratings, lower it further
(never below 10 %); poor replies or poor ratings raise it to at least 75 %. Each change is announced
(``training.review_policy_changed.v1``) with its reasons. When every module is passed the
trainee is certified (``training.trainee_certified.v1``) and nothing is held.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from services.training import checking, versions
from services.training.checker import ReplyContext
from services.training.content import Playbook
from services.training.models import Enrolment, LessonProgress
from services.training.performance import RecentWork, recent_work
from shared import clock
from shared.bus.outbox import record_event

PRODUCER = "training"
PASS_PERCENT = 80
FULL_SUPERVISION = 100
LEAST_SUPERVISION = 25
EARNED_SUPERVISION = 10
"""The least share held before certification, for a trainee whose recent work is excellent."""
CONCERNED_SUPERVISION = 75
JUDGED_AFTER_REPLIES = 5
JUDGED_AFTER_RATINGS = 3


class OnboardingError(ValueError):
    """A request the onboarding path cannot accept; the message says why."""


class NotEnrolled(LookupError):
    pass


@dataclass(frozen=True)
class LessonState:
    lesson: Playbook
    read: bool
    best_score: int
    has_scenario: bool
    scenario_status: str | None

    @property
    def quiz_passed(self) -> bool:
        return self.best_score >= PASS_PERCENT

    @property
    def done(self) -> bool:
        scenario_done = not self.has_scenario or self.scenario_status == "approved"
        return self.read and self.quiz_passed and scenario_done


@dataclass(frozen=True)
class ModuleState:
    name: str
    lessons: list[LessonState]

    @property
    def passed(self) -> bool:
        return all(state.done for state in self.lessons)


@dataclass(frozen=True)
class Progress:
    staff_id: int
    status: str
    share_held: int
    modules: list[ModuleState] = field(default_factory=list)

    @property
    def next_lesson(self) -> LessonState | None:
        for module in self.modules:
            for state in module.lessons:
                if not state.done:
                    return state
        return None

    @property
    def modules_passed(self) -> int:
        return sum(module.passed for module in self.modules)


@dataclass(frozen=True)
class QuizResult:
    score: int
    passed: bool
    correct: list[bool]
    explanations: list[dict[str, str]]


def enrol(session: Session, staff_id: int) -> Enrolment:
    """Enrol a trainee (again: nothing changes), every reply held for review."""
    enrolment = session.get(Enrolment, staff_id)
    if enrolment is not None:
        return enrolment
    enrolment = Enrolment(
        staff_id=staff_id,
        status="supervised",
        share_held=FULL_SUPERVISION,
        enrolled_at=clock.now(),
    )
    session.add(enrolment)
    session.flush()
    record_event(
        session,
        PRODUCER,
        "training.trainee_enrolled.v1",
        {"staff_id": staff_id, "share_held": FULL_SUPERVISION},
    )
    return enrolment


def _enrolment(session: Session, staff_id: int) -> Enrolment:
    enrolment = session.get(Enrolment, staff_id)
    if enrolment is None:
        raise NotEnrolled(f"Staff member {staff_id} is not enrolled in the onboarding path.")
    return enrolment


def curriculum(session: Session) -> list[tuple[str, list[Playbook]]]:
    """The required lessons in force, by module, in their order."""
    lessons = [
        c.playbook
        for c in versions.all_current(session)
        if c.playbook.kind == "lesson" and c.playbook.content.get("required", True)
    ]
    modules: dict[str, list[Playbook]] = {}
    for lesson in lessons:
        modules.setdefault(lesson.module or "other", []).append(lesson)
    for items in modules.values():
        items.sort(key=lambda lesson: int(lesson.content.get("order", 0)))
    return sorted(modules.items(), key=lambda module: _course_position(module[0]))


COURSE = (
    "foundations",
    "courtesy",
    "resolving",
    "channels-and-hours",
    "confidentiality",
    "billing",
    "care",
)
"""The modules in the order a new hire takes them: how to treat a customer first, then
how to close a problem, then when and how to reach people, what never to share, and
last the money and the managed customers' care."""


def _course_position(module: str) -> tuple[int, str]:
    # A module the course does not name yet comes after it, by name.
    return (COURSE.index(module), "") if module in COURSE else (len(COURSE), module)


def progress(session: Session, staff_id: int) -> Progress:
    enrolment = _enrolment(session, staff_id)
    rows = {
        row.lesson_id: row
        for row in session.execute(
            select(LessonProgress).where(LessonProgress.staff_id == staff_id)
        ).scalars()
    }
    modules = []
    for name, lessons in curriculum(session):
        states = []
        for lesson in lessons:
            row = rows.get(lesson.playbook_id)
            states.append(
                LessonState(
                    lesson=lesson,
                    read=bool(row and row.read_at),
                    best_score=row.best_score if row else 0,
                    has_scenario=bool(lesson.content.get("scenario")),
                    scenario_status=row.scenario_status if row else None,
                )
            )
        modules.append(ModuleState(name, states))
    return Progress(staff_id, enrolment.status, enrolment.share_held, modules)


def _lesson(session: Session, lesson_id: str) -> Playbook:
    lesson = versions.current(session, lesson_id).playbook
    if lesson.kind != "lesson":
        raise OnboardingError(f"{lesson_id} is a script, not a lesson.")
    return lesson


def _row(session: Session, staff_id: int, lesson_id: str) -> LessonProgress:
    _enrolment(session, staff_id)
    row = session.get(LessonProgress, (staff_id, lesson_id))
    if row is None:
        row = LessonProgress(staff_id=staff_id, lesson_id=lesson_id, quiz_attempts=0, best_score=0)
        session.add(row)
    return row


def mark_read(session: Session, staff_id: int, lesson_id: str) -> None:
    _lesson(session, lesson_id)
    row = _row(session, staff_id, lesson_id)
    row.read_at = row.read_at or clock.now()
    session.flush()
    review_supervision(session, staff_id)


def answer_quiz(
    session: Session, staff_id: int, lesson_id: str, answers: Sequence[int]
) -> QuizResult:
    questions = _lesson(session, lesson_id).content["quiz"]
    if len(answers) != len(questions):
        raise OnboardingError(f"The quiz has {len(questions)} questions; {len(answers)} answered.")
    correct = [
        answer == question["answer"] for answer, question in zip(answers, questions, strict=True)
    ]
    score = round(100 * sum(correct) / len(questions))
    row = _row(session, staff_id, lesson_id)
    row.quiz_attempts += 1
    row.best_score = max(row.best_score, score)
    session.flush()
    review_supervision(session, staff_id)
    return QuizResult(
        score=score,
        passed=score >= PASS_PERCENT,
        correct=correct,
        explanations=[dict(question["explanation"]) for question in questions],
    )


def submit_scenario(
    session: Session, staff_id: int, lesson_id: str, text: str, language: str | None = None
) -> tuple[str, list[dict[str, str]]]:
    """The trainee's reply to the lesson's simulated ticket: checked at once; with no
    blocking finding it goes to the owner, otherwise it comes back to be rewritten."""
    scenario = _lesson(session, lesson_id).content.get("scenario")
    if not scenario:
        raise OnboardingError(f"{lesson_id} has no scenario.")
    if not text.strip():
        raise OnboardingError("Write the reply you would send.")
    context = {
        key: scenario.get("context", {}).get(key, default)
        for key, default in (
            ("kind", "reply"),
            ("waited_past_sla", False),
            ("emergency", False),
            ("beyond_hosting", False),
        )
    }
    result = checking.checker(session).check(text, ReplyContext(**context), language)
    findings = [
        {"check": f.check, "severity": f.severity, "message": f.message, "evidence": f.evidence}
        for f in result.findings
    ]
    row = _row(session, staff_id, lesson_id)
    row.scenario_reply = text
    row.scenario_findings = json.dumps(findings)
    row.scenario_status = "returned" if result.blocking else "submitted"
    row.review_comment = (
        "The checker found something that would stop this reply; rewrite it."
        if result.blocking
        else None
    )
    session.flush()
    return row.scenario_status, findings


def review_scenario(
    session: Session, staff_id: int, lesson_id: str, *, approve: bool, comment: str | None
) -> None:
    """The owner's verdict on a submitted scenario reply: approved, or returned with a comment."""
    row = session.get(LessonProgress, (staff_id, lesson_id))
    if row is None or row.scenario_status != "submitted":
        raise OnboardingError(
            f"No scenario reply of staff member {staff_id} awaits review for {lesson_id}."
        )
    if not approve and not (comment or "").strip():
        raise OnboardingError("Say what to improve when returning a reply.")
    row.scenario_status = "approved" if approve else "returned"
    row.review_comment = (comment or "").strip() or None
    session.flush()
    review_supervision(session, staff_id)


def awaiting_review(session: Session) -> list[LessonProgress]:
    return list(
        session.execute(
            select(LessonProgress)
            .where(LessonProgress.scenario_status == "submitted")
            .order_by(LessonProgress.staff_id, LessonProgress.lesson_id)
        ).scalars()
    )


def share_for(modules_passed: int, modules: int) -> int:
    """The share of replies held: from 100 % down to 25 % as modules are passed, in steps of 5."""
    if modules == 0:
        return LEAST_SUPERVISION
    share = FULL_SUPERVISION - (FULL_SUPERVISION - LEAST_SUPERVISION) * modules_passed / modules
    return max(LEAST_SUPERVISION, int(5 * round(share / 5)))


def supervision_share(modules_passed: int, modules: int, work: RecentWork) -> tuple[int, str]:
    """The share of replies to hold, and why: modules passed, then the recent work."""
    share = share_for(modules_passed, modules)
    reasons = [f"{modules_passed} of {modules} modules passed"]
    clean_rate = work.clean_rate if work.replies >= JUDGED_AFTER_REPLIES else None
    rating = work.average_rating if len(work.ratings) >= JUDGED_AFTER_RATINGS else None
    if (clean_rate is not None and clean_rate < 0.6) or (rating is not None and rating < 3.0):
        share = max(share, CONCERNED_SUPERVISION)
        reasons.append(_work_summary(work) + ": more replies reviewed for now")
    elif clean_rate is not None and clean_rate >= 0.9 and rating is not None and rating >= 4.5:
        share = max(EARNED_SUPERVISION, share - 15)
        reasons.append(_work_summary(work) + ": fewer replies reviewed")
    return share, "; ".join(reasons)


def _work_summary(work: RecentWork) -> str:
    parts = [f"{work.clean_replies} of the last {work.replies} replies with no blocking finding"]
    if work.average_rating is not None:
        parts.append(f"customers' rating {work.average_rating:.1f} of 5")
    return ", ".join(parts)


def review_supervision(session: Session, staff_id: int) -> None:
    """Certify the trainee when every module is passed, else set the share held."""
    enrolment = session.get(Enrolment, staff_id)
    if enrolment is None or enrolment.status != "supervised":
        return
    state = progress(session, staff_id)
    if state.modules and state.modules_passed == len(state.modules):
        enrolment.status = "certified"
        enrolment.share_held = 0
        enrolment.certified_at = clock.now()
        record_event(
            session,
            PRODUCER,
            "training.trainee_certified.v1",
            {"staff_id": staff_id, "certified_at": enrolment.certified_at},
        )
        return
    share, reason = supervision_share(
        state.modules_passed, len(state.modules), recent_work(session, staff_id)
    )
    if share != enrolment.share_held:
        enrolment.share_held = share
        record_event(
            session,
            PRODUCER,
            "training.review_policy_changed.v1",
            {"staff_id": staff_id, "share_held": share, "reason": reason},
        )
