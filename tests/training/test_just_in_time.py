"""Just in time: the desk's new ticket gets the script its situation calls for, knowing from
billing's events whether the customer's one grace was used."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select

from services.training.just_in_time import billing_state, suggestions
from shared.bus.subscriber import Outcome, Subscriber, process_message
from shared.bus.tables import outbox
from shared.db import Database
from shared.events import REGISTRY, Envelope

CUSTOMER = {
    "customer_id": 5,
    "customer_name": "Escola Pequeno Sábio",
    "email": "secretaria@pequenosabio.edu.br",
    "language": "pt-BR",
    "timezone": "America/Sao_Paulo",
}
SUBSCRIPTION = {**CUSTOMER, "subscription_id": 9, "plan_name": "Hospedagem Pro"}


def deliver(
    database: Database,
    subscriber: Subscriber,
    event: str,
    payload: dict[str, Any],
    occurred_at: datetime | None = None,
) -> None:
    envelope = Envelope(event, event.split(".")[0], REGISTRY.dump(event, payload))
    if occurred_at is not None:
        envelope = replace(envelope, occurred_at=occurred_at)
    assert process_message(database, subscriber, envelope.to_json()).outcome is Outcome.HANDLED


def open_ticket(database: Database, ticket_id: int, **fields: Any) -> dict[str, Any] | None:
    payload = {
        "ticket_id": ticket_id,
        "customer_id": 5,
        "department": "support",
        "priority": "normal",
        "emergency": False,
        "subject": "Site is slow",
        **fields,
    }
    deliver(database, suggestions, "tickets.ticket_opened.v1", payload)
    with database.transaction() as session:
        bodies = session.execute(
            select(outbox.c.body).where(outbox.c.event_type == "training.script_suggested.v1")
        ).scalars()
        found = [json.loads(body)["payload"] for body in bodies]
    return next((s for s in found if s["ticket_id"] == ticket_id), None)


def test_a_suspended_customer_gets_the_reactivation_script_that_fits(database: Database) -> None:
    assert open_ticket(database, 1) is None, "an ordinary ticket needs no script"
    deliver(
        database,
        billing_state,
        "billing.account_suspended.v1",
        {**SUBSCRIPTION, "reason": "non_payment"},
    )

    first = open_ticket(database, 2, subject="Meu site saiu do ar")
    assert first is not None and first["playbook_id"] == "reactivation-first"
    assert "has not been used" in first["reason"] and first["version"] == 1

    refused = {**SUBSCRIPTION, "reason": "Already had one", "first_grace_on": date(2026, 3, 20)}
    deliver(database, billing_state, "billing.grace_refused.v1", refused)
    second = open_ticket(database, 3, subject="Reativem por favor")
    assert second is not None and second["playbook_id"] == "reactivation-second"
    assert "2026-03-20" in second["reason"]

    reactivated = {**SUBSCRIPTION, "cause": "payment", "pay_by": None}
    deliver(database, billing_state, "billing.account_reactivated.v1", reactivated)
    assert open_ticket(database, 4) is None, "paid up: back to no script"


def test_a_grace_granted_late_in_the_evening_is_dated_on_the_customers_day(
    database: Database,
) -> None:
    suspended = {**SUBSCRIPTION, "reason": "non_payment"}
    deliver(database, billing_state, "billing.account_suspended.v1", suspended)
    # 22:30 in São Paulo on 20 March is already 21 March in UTC.
    evening = datetime(2026, 3, 21, 1, 30, tzinfo=UTC)
    graced = {**SUBSCRIPTION, "cause": "grace", "pay_by": date(2026, 3, 27)}
    deliver(database, billing_state, "billing.account_reactivated.v1", graced, evening)
    deliver(database, billing_state, "billing.account_suspended.v1", suspended)
    second = open_ticket(database, 20, subject="Reativem por favor")
    assert second is not None and second["playbook_id"] == "reactivation-second"
    assert "2026-03-20" in second["reason"]


def test_emergencies_and_cancellations_get_their_scripts(database: Database) -> None:
    urgent = open_ticket(database, 10, emergency=True, priority="urgent", subject="E-mail parado")
    assert urgent is not None and urgent["playbook_id"] == "service-down"
    leaving = open_ticket(database, 11, customer_id=None, subject="Quero cancelar meu plano")
    assert leaving is not None and leaving["playbook_id"] == "cancellation"
    spanish = open_ticket(database, 12, subject="Quiero dar de baja el dominio")
    assert spanish is not None and spanish["situation"] == "cancellation"
