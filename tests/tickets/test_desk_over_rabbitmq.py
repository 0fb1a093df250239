"""The desk with training and billing over a real RabbitMQ and PostgreSQL: a new hire from
added to certified, with her replies held until training certifies her and sent directly
after; the customer's billing state reaching the desk; every step seen on the wire by an
independent pika client."""

from __future__ import annotations

from typing import Any

import pytest

import services.tickets as tickets
import services.training as training
from services.tickets import lifecycle, replying
from services.tickets.lifecycle import NewTicket
from services.tickets.models import CustomerReplica, ReviewPolicy, StaffMember
from services.tickets.replicas import billing_state, training_policy
from services.tickets.staff import invite_staff
from services.training import onboarding
from services.training.coaching import desk_activity
from services.training.subscribers import staff_directory
from shared.bus.consumer import SubscriberConsumer
from shared.bus.outbox import record_event
from shared.bus.relay import OutboxRelay
from shared.db import Database
from shared.migrations import upgrade
from tests.support.probe import wait_until
from tests.support.wire import Running, WireObserver
from tests.tickets.test_desk import GOOD_REPLY
from tests.training.test_onboarding import GOOD_REPLY as PRACTICE_REPLY
from tests.training.test_onboarding import right_answers

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]


def test_a_new_hire_replies_under_review_until_certified_then_directly(
    rabbit: Any, postgres_server: Any, running: Running, unique_name: str
) -> None:
    desk_url = postgres_server.create_database(f"desk_{unique_name}")
    school_url = postgres_server.create_database(f"school_{unique_name}")
    billing_url = postgres_server.create_database(f"billingstub_{unique_name}")
    upgrade(tickets.MIGRATIONS, desk_url)
    upgrade(training.MIGRATIONS, school_url)
    upgrade(tickets.MIGRATIONS, billing_url)  # any service's outbox serves to publish
    desk, school, billing = Database(desk_url), Database(school_url), Database(billing_url)
    training.after_migrate(school)
    observer = WireObserver(
        rabbit.url,
        "tickets.staff_added.v1",
        "training.trainee_enrolled.v1",
        "tickets.reply_awaiting_review.v1",
        "training.trainee_certified.v1",
        "tickets.reply_posted.v1",
    )
    for database, subscriber in (
        (school, staff_directory),
        (school, desk_activity),
        (desk, training_policy),
        (desk, billing_state),
    ):
        consumer = SubscriberConsumer(database, subscriber, rabbit.url, heartbeat_seconds=10)
        running.start(consumer)
        consumer.ready.wait(30)
    for database, name in ((desk, "tickets"), (school, "training"), (billing, "billing")):
        running.start(OutboxRelay(database, rabbit.url, heartbeat_seconds=10, name=name))

    with billing.transaction() as session:
        record_event(
            session,
            "billing",
            "billing.customer_created.v1",
            {
                "customer_id": 5,
                "customer_name": "Carla Dias",
                "email": "carla@loja.example",
                "language": "pt-BR",
                "timezone": "America/Sao_Paulo",
                "currency": "BRL",
                "managed": True,
            },
        )
    with desk.transaction() as session:
        owner = invite_staff(session, "Ana", "ana@cortesia.example", "owner", "setup", "http://x")
        duda = invite_staff(
            session, "Duda", "duda@cortesia.example", "trainee", owner.email, "http://x"
        )
        duda_id = duda.id
    assert [e["event_type"] for e in observer.until("training.trainee_enrolled.v1")][-1] == (
        "training.trainee_enrolled.v1"
    )

    def desk_knows() -> bool:
        with desk.transaction() as session:
            policy = session.get(ReviewPolicy, duda_id)
            return policy is not None and session.get(CustomerReplica, 5) is not None

    wait_until(desk_knows, 30, "the desk to hear training's policy and billing's customer")

    def reply_as_duda() -> str:
        with desk.transaction() as session:
            ticket = lifecycle.open_ticket(
                session,
                NewTicket(
                    subject="DNS",
                    body="Meu domínio não resolve.",
                    requester_email="carla@loja.example",
                ),
                "customer:carla@loja.example",
            )
            member = session.get(StaffMember, duda_id)
            assert member is not None
            return replying.reply(session, ticket, member, GOOD_REPLY).outcome

    assert reply_as_duda() == "held"
    held = observer.until("tickets.reply_awaiting_review.v1")[-1]
    assert held["payload"]["staff_id"] == duda_id

    with school.transaction() as session:
        lessons = [lesson for _, items in onboarding.curriculum(session) for lesson in items]
    for lesson in lessons:
        with school.transaction() as session:
            onboarding.mark_read(session, duda_id, lesson.playbook_id)
            onboarding.answer_quiz(
                session, duda_id, lesson.playbook_id, right_answers(school, lesson.playbook_id)
            )
            if lesson.content.get("scenario"):
                onboarding.submit_scenario(session, duda_id, lesson.playbook_id, PRACTICE_REPLY)
        if lesson.content.get("scenario"):
            with school.transaction() as session:
                onboarding.review_scenario(
                    session, duda_id, lesson.playbook_id, approve=True, comment=None
                )
    observer.until("training.trainee_certified.v1")

    def certified_at_the_desk() -> bool:
        with desk.transaction() as session:
            policy = session.get(ReviewPolicy, duda_id)
            return policy is not None and policy.share_held == 0

    wait_until(certified_at_the_desk, 30, "the desk to stop holding Duda's replies")
    assert reply_as_duda() == "sent"
    posted = observer.until("tickets.reply_posted.v1")[-1]
    assert posted["payload"]["staff_id"] == duda_id and posted["payload"]["body"] == GOOD_REPLY
    with desk.transaction() as session:
        # The broker is shared by the session's tests: look only at this test's customer.
        carla = session.get(CustomerReplica, 5)
        assert carla is not None and carla.name == "Carla Dias"
    observer.close()
    for database in (desk, school, billing):
        database.dispose()
