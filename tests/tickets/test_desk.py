"""The desk's service layer: a ticket from the portal to its rating, replies through the
reply checker, a trainee's replies held for review, P-RESOLVE, and what the other services
hear."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from services.tickets import lifecycle, replying, resolution, review
from services.tickets.lifecycle import NewTicket, TicketError
from services.tickets.models import CustomerReplica, Message, Pause, StaffMember, Ticket
from services.tickets.replicas import billing_state, training_policy
from shared.db import Database
from tests.tickets.conftest import announced, feed

GOOD_REPLY = (
    "Olá Carla,\n\nObrigada por avisar. O problema foi causado por um certificado vencido; "
    "já instalei um novo e o site voltou. Para evitar que se repita, passamos a monitorar "
    "as renovações.\n\nQualquer coisa, estou à disposição.\nAbraços,\nBia"
)
RUDE_REPLY = "VOCÊ APAGOU OS ARQUIVOS. NÃO É CULPA NOSSA."


def no_sla(_ticket: Ticket, _at: datetime) -> tuple[bool | None, bool | None]:
    return True, True


CARLA_SUBSCRIPTION = {
    "customer_id": 5,
    "customer_name": "Carla Dias",
    "email": "carla@loja.example",
    "language": "pt-BR",
    "timezone": "America/Sao_Paulo",
    "subscription_id": 9,
    "plan_name": "Hospedagem Pro",
}
"""How billing's subscription events name Carla's hosting."""


def carla(database: Database) -> None:
    feed(
        database,
        billing_state,
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


def open_one(database: Database, **extra: object) -> int:
    with database.transaction() as session:
        request = NewTicket(
            subject="Site fora do ar",
            body="Meu site não abre desde hoje cedo.",
            requester_email="carla@loja.example",
            **extra,  # type: ignore[arg-type]
        )
        return lifecycle.open_ticket(session, request, "customer:carla@loja.example").id


def test_a_grace_late_in_the_evening_is_dated_on_the_customers_day(database: Database) -> None:
    carla(database)
    ref = CARLA_SUBSCRIPTION
    feed(database, billing_state, "billing.account_suspended.v1", {**ref, "reason": "non_payment"})
    # 22:30 in São Paulo on 20 March is already 21 March in UTC.
    evening = datetime(2026, 3, 21, 1, 30, tzinfo=UTC)
    graced = {**ref, "cause": "grace", "pay_by": date(2026, 3, 27)}
    feed(database, billing_state, "billing.account_reactivated.v1", graced, evening)
    with database.transaction() as session:
        customer = session.get(CustomerReplica, 5)
        assert customer is not None and customer.grace_used_on == date(2026, 3, 20)


def test_a_ticket_from_open_to_rated(database: Database, staff: dict[str, StaffMember]) -> None:
    carla(database)
    ticket_id = open_one(database, emergency_kind="site_down")
    (opened,) = announced(database, "tickets.ticket_opened.v1")
    assert opened["customer_id"] == 5 and opened["emergency"] is True
    assert opened["priority"] == "urgent" and opened["reference"].startswith(f"T-{ticket_id}-")

    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        agent = session.get(StaffMember, staff["agent"].id)
        assert agent is not None
        stopped = replying.reply(session, ticket, agent, RUDE_REPLY)
        assert stopped.outcome == "stopped" and stopped.blocking and stopped.message is None
        sent = replying.reply(session, ticket, agent, GOOD_REPLY)
        assert sent.outcome == "sent", sent.findings
        assert ticket.status == "waiting" and ticket.first_response_at is not None
    checks = announced(database, "tickets.reply_checked.v1")
    assert [c["outcome"] for c in checks] == ["stopped", "sent"]
    assert any(f["rule"] == "P-POLITE" for f in checks[0]["findings"])
    (posted,) = announced(database, "tickets.reply_posted.v1")
    assert posted["body"] == GOOD_REPLY and posted["requester_email"] == "carla@loja.example"

    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        lifecycle.customer_message(
            session, ticket, "Voltou, obrigada!", "customer:carla@loja.example"
        )
        assert ticket.status == "open", "her answer brings the ticket back"
        pause = session.query(Pause).filter_by(ticket_id=ticket_id).one()
        assert pause.ended_at is not None
        agent = session.get(StaffMember, staff["agent"].id)
        assert agent is not None
        with pytest.raises(TicketError, match="prevention"):
            resolution.resolve(
                session,
                ticket,
                agent,
                cause="certificado vencido",
                fix="novo",
                prevention=" ",
                survey_url="https://x/rate",
                sla_outcome=no_sla,
            )
        resolution.resolve(
            session,
            ticket,
            agent,
            cause="certificado vencido",
            fix="certificado novo instalado",
            prevention="monitorar renovações",
            survey_url="https://x/rate",
            sla_outcome=no_sla,
        )
        with pytest.raises(TicketError, match="1 to 5"):
            resolution.rate(session, ticket, 7, None)
        resolution.rate(session, ticket, 5, "Rápidos e gentis")
    (resolved,) = announced(database, "tickets.ticket_resolved.v1")
    assert (
        resolved["prevention"] == "monitorar renovações"
        and resolved["staff_id"] == staff["agent"].id
    )
    (rated,) = announced(database, "tickets.ticket_rated.v1")
    assert (rated["rating"], rated["staff_id"]) == (5, staff["agent"].id)


def test_a_trainees_replies_are_held_until_training_certifies_her(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    ticket_id = open_one(database)
    trainee_id = staff["trainee"].id
    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        trainee = session.get(StaffMember, trainee_id)
        assert trainee is not None
        held = replying.reply(session, ticket, trainee, GOOD_REPLY)
        assert held.outcome == "held" and ticket.first_response_at is None
        held_id = held.message.id if held.message else 0
    assert announced(database, "tickets.reply_posted.v1") == []
    (waiting,) = announced(database, "tickets.reply_awaiting_review.v1")
    assert waiting["reply_id"] == held_id

    with database.transaction() as session:
        owner = session.get(StaffMember, staff["owner"].id)
        agent = session.get(StaffMember, staff["agent"].id)
        assert owner is not None and agent is not None
        with pytest.raises(TicketError, match="Only the owner"):
            review.approve(session, held_id, agent)
        ((message, _, author),) = review.waiting(session)
        assert message.id == held_id and author.name == "Duda"
        review.approve(session, held_id, owner, edited_body=GOOD_REPLY + "\n(revisado)")
        with pytest.raises(TicketError, match="not waiting"):
            review.approve(session, held_id, owner)
    (posted,) = announced(database, "tickets.reply_posted.v1")
    assert posted["staff_id"] == trainee_id and posted["body"].endswith("(revisado)")

    feed(
        database,
        training_policy,
        "training.trainee_certified.v1",
        {"staff_id": trainee_id, "certified_at": datetime.now(UTC)},
    )
    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        trainee = session.get(StaffMember, trainee_id)
        assert trainee is not None
        direct = replying.reply(session, ticket, trainee, GOOD_REPLY)
        assert direct.outcome == "sent", "certified: her replies go straight to the customer"
    assert len(announced(database, "tickets.reply_posted.v1")) == 2


def test_the_share_held_follows_trainings_policy(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    trainee_id = staff["trainee"].id
    feed(
        database,
        training_policy,
        "training.review_policy_changed.v1",
        {"staff_id": trainee_id, "share_held": 25, "reason": "5 of 7 modules passed"},
    )
    carla(database)
    outcomes = []
    for _ in range(40):
        ticket_id = open_one(database)
        with database.transaction() as session:
            ticket = lifecycle.get_ticket(session, ticket_id)
            trainee = session.get(StaffMember, trainee_id)
            assert trainee is not None
            outcomes.append(replying.reply(session, ticket, trainee, GOOD_REPLY).outcome)
    held = outcomes.count("held")
    assert 3 <= held <= 18, f"about a quarter held, got {held} of 40"


def test_the_owner_may_send_over_a_blocking_finding_with_a_note(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    ticket_id = open_one(database)
    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        agent = session.get(StaffMember, staff["agent"].id)
        owner = session.get(StaffMember, staff["owner"].id)
        assert agent is not None and owner is not None
        refused = replying.reply(session, ticket, agent, RUDE_REPLY, override_note="urgent")
        assert refused.outcome == "stopped", "only the owner overrides"
        sent = replying.reply(
            session, ticket, owner, RUDE_REPLY, override_note="Customer asked for it verbatim"
        )
        assert sent.outcome == "overridden"
        assert (
            sent.message is not None
            and sent.message.override_note == "Customer asked for it verbatim"
        )


def test_bad_input_gets_a_clear_refusal(database: Database, staff: dict[str, StaffMember]) -> None:
    with database.transaction() as session:
        for request, reason in (
            (NewTicket(subject=" ", body="x", requester_email="a@b.example"), "subject"),
            (NewTicket(subject="x", body="x", requester_email="nobody"), "email"),
            (
                NewTicket(subject="x", body="x", requester_email="a@b.example", priority="asap"),
                "Priority",
            ),
            (
                NewTicket(
                    subject="x", body="x", requester_email="a@b.example", emergency_kind="fire"
                ),
                "emergency",
            ),
            (
                NewTicket(subject="x", body="x", requester_email="a@b.example", customer_id=99),
                "customer 99",
            ),
        ):
            with pytest.raises(TicketError, match=reason):
                lifecycle.open_ticket(session, request, "test")
    ticket_id = open_one(database)
    with database.transaction() as session:
        ticket = lifecycle.get_ticket(session, ticket_id)
        with pytest.raises(TicketError, match="P-RESOLVE"):
            lifecycle.set_status(session, ticket, "resolved", "test")
        with pytest.raises(TicketError, match="Status must be"):
            lifecycle.set_status(session, ticket, "done", "test")
        with pytest.raises(TicketError, match="No active staff"):
            lifecycle.assign(session, ticket, 99, "test")
        with pytest.raises(lifecycle.NotFound):
            lifecycle.get_ticket(session, 999)


def test_merging_moves_the_conversation_and_closes_the_copy(
    database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    kept_id, copy_id = open_one(database), open_one(database)
    with database.transaction() as session:
        kept, copy = lifecycle.get_ticket(session, kept_id), lifecycle.get_ticket(session, copy_id)
        with pytest.raises(TicketError, match="itself"):
            lifecycle.merge(session, kept, kept, "test")
        lifecycle.merge(session, copy, kept, "bia@cortesia.example")
        assert copy.status == "closed"
        bodies = session.query(Message).filter_by(ticket_id=kept_id).count()
        assert bodies == 2
    (closed,) = announced(database, "tickets.ticket_closed.v1")
    assert (closed["ticket_id"], closed["reason"]) == (copy_id, "merged")
