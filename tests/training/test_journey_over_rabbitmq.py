"""A new hire's path over a real RabbitMQ with PostgreSQL: the desk adds a trainee, training
enrols them from the event on the wire, the trainee's first replies and ratings come back
from the desk, and the trainee is certified; an independent pika client sees each of
training's announcements."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

import services.tickets as tickets
import services.training as training
from services.tickets.staff import add_staff
from services.training import onboarding
from services.training.coaching import desk_activity
from services.training.models import Enrolment, ReplyCheckRecord
from services.training.subscribers import staff_directory
from shared.bus.consumer import SubscriberConsumer
from shared.bus.outbox import record_event
from shared.bus.relay import OutboxRelay
from shared.db import Database
from shared.migrations import upgrade
from tests.support.probe import wait_until
from tests.support.wire import Running, WireObserver
from tests.training.test_onboarding import GOOD_REPLY, right_answers

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

ANNOUNCEMENTS = (
    "training.trainee_enrolled.v1",
    "training.review_policy_changed.v1",
    "training.trainee_certified.v1",
)


def test_a_trainee_is_enrolled_coached_and_certified_over_the_broker(
    rabbit: Any, postgres_server: Any, running: Running, unique_name: str
) -> None:
    desk_url = postgres_server.create_database(f"tickets_{unique_name}")
    training_url = postgres_server.create_database(f"training_{unique_name}")
    upgrade(tickets.MIGRATIONS, desk_url)
    upgrade(training.MIGRATIONS, training_url)
    desk, school = Database(desk_url), Database(training_url)
    training.after_migrate(school)

    observer = WireObserver(rabbit.url, *ANNOUNCEMENTS)

    for subscriber in (staff_directory, desk_activity):
        consumer = SubscriberConsumer(school, subscriber, rabbit.url, heartbeat_seconds=10)
        running.start(consumer)
        consumer.ready.wait(30)
    running.start(OutboxRelay(desk, rabbit.url, heartbeat_seconds=10, name="tickets"))
    running.start(OutboxRelay(school, rabbit.url, heartbeat_seconds=10, name="training"))

    with desk.transaction() as session:
        staff_id = add_staff(session, "Duda", "duda@example.com", "trainee", "a long passphrase").id
    (enrolled,) = observer.until("training.trainee_enrolled.v1")
    assert enrolled["payload"] == {"staff_id": staff_id, "share_held": 100}

    # Five clean replies, held for review, and three happy customers lower the share held.
    with desk.transaction() as session:
        for ticket_id in range(1, 6):
            checked = {"ticket_id": ticket_id, "staff_id": staff_id, "customer_id": 4}
            record_event(
                session,
                "tickets",
                "tickets.reply_checked.v1",
                {**checked, "outcome": "held", "findings": [], "checked_at": datetime.now(UTC)},
            )
        for ticket_id in range(1, 4):
            record_event(
                session,
                "tickets",
                "tickets.ticket_rated.v1",
                {
                    "ticket_id": ticket_id,
                    "customer_id": 4,
                    "staff_id": staff_id,
                    "rating": 5,
                    "comment": None,
                    "rated_at": datetime.now(UTC),
                },
            )
    (lowered,) = observer.until("training.review_policy_changed.v1")
    assert lowered["payload"]["share_held"] == 85

    with school.transaction() as session:
        lessons = [lesson for _, items in onboarding.curriculum(session) for lesson in items]
    for lesson in lessons:
        answers = right_answers(school, lesson.playbook_id)
        with school.transaction() as session:
            onboarding.mark_read(session, staff_id, lesson.playbook_id)
            onboarding.answer_quiz(session, staff_id, lesson.playbook_id, answers)
            if lesson.content.get("scenario"):
                onboarding.submit_scenario(session, staff_id, lesson.playbook_id, GOOD_REPLY)
        if lesson.content.get("scenario"):
            with school.transaction() as session:
                onboarding.review_scenario(
                    session, staff_id, lesson.playbook_id, approve=True, comment=None
                )
    seen = observer.until("training.trainee_certified.v1")
    shares = [e["payload"]["share_held"] for e in seen[:-1]]
    assert shares == sorted(shares, reverse=True) and all(share < 85 for share in shares)
    assert seen[-1]["payload"]["staff_id"] == staff_id

    def coached() -> bool:
        with school.transaction() as session:
            enrolment = session.get(Enrolment, staff_id)
            replies = session.scalar(
                select(func.count()).where(ReplyCheckRecord.staff_id == staff_id)
            )
            return enrolment is not None and enrolment.status == "certified" and replies == 5

    wait_until(coached, 10, "training to hold the certified trainee and their five replies")
    observer.close()
    desk.dispose()
    school.dispose()
