"""The staff desk in the browser's terms: the queue with its clocks, a ticket with the
customer's context and the checker's findings, replying, reviewing, resolving, asking
billing, opening a ticket for a call; the owner's staff pages, password links, the sign-in
rate limit and the audit log."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from flask import Flask
from pytest import MonkeyPatch
from sqlalchemy import select, update

from services.tickets import desk_pages
from services.tickets.models import AuditEntry, StaffMember, Ticket
from services.tickets.replicas import billing_state, training_policy
from shared.db import Database
from shared.web.app import company_time
from tests.support.staff import StaffSession
from tests.tickets.conftest import PASSWORD, announced, feed
from tests.tickets.test_desk import CARLA_SUBSCRIPTION, GOOD_REPLY, RUDE_REPLY, carla, open_one

HTML = {"Accept": "text/html"}


def session_of(app: Flask, member: StaffMember) -> StaffSession:
    return StaffSession(
        app, {"id": member.id, "name": member.name, "email": member.email, "role": member.role}
    )


def suspend_carla(database: Database, grace_used: bool) -> None:
    carla(database)
    ref = CARLA_SUBSCRIPTION
    feed(database, billing_state, "billing.account_suspended.v1", {**ref, "reason": "non_payment"})
    if grace_used:
        feed(
            database,
            billing_state,
            "billing.grace_refused.v1",
            {**ref, "reason": "the one grace was used", "first_grace_on": date(2026, 6, 1)},
        )


def test_the_queue_shows_emergencies_first_with_their_clocks(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    routine = open_one(database)
    emergency = open_one(database, emergency_kind="email_down")
    agent = session_of(app, staff["agent"])
    page = agent.get("/desk/", headers=HTML)
    assert page.status_code == 200
    assert page.text.index(f"#{emergency} ") < page.text.index(f"#{routine} ")
    assert "EMERGENCY" in page.text and 'class="sla sla-' in page.text
    assert agent.get("/desk/?view=nonsense", headers=HTML).status_code == 400
    mine = agent.get("/desk/?view=mine", headers=HTML)
    assert f"#{routine} " not in mine.text, "nobody's yet"
    found = agent.get("/desk/?q=n%C3%A3o+abre", headers=HTML)
    assert f"#{routine} " in found.text, "found by a word of the customer's message"
    assert agent.get("/", headers=HTML).status_code == 302


def test_the_resolved_view_is_counted_a_few_pages_ahead_the_open_work_exactly(
    app: Flask, database: Database, staff: dict[str, StaffMember], monkeypatch: MonkeyPatch
) -> None:
    monkeypatch.setattr(desk_pages, "PAGE_SIZE", 2)
    monkeypatch.setattr(desk_pages, "COUNT_AHEAD", 1)
    carla(database)
    opened = [open_one(database) for _ in range(6)]
    agent = session_of(app, staff["agent"])
    assert "6 tickets" in agent.get("/desk/", headers=HTML).text, "open work, counted exactly"
    with database.transaction() as session:
        session.execute(
            update(Ticket)
            .where(Ticket.id.in_(opened))
            .values(status="closed", resolved_at=datetime.now(UTC))
        )
    first = agent.get("/desk/?view=resolved", headers=HTML).text
    assert "More than 4 tickets" in first and "page=2" in first
    third = agent.get("/desk/?view=resolved&page=3", headers=HTML).text
    assert "6 tickets" in third and "More than" not in third and "page=4" not in third


def test_a_suspended_customers_ticket_says_why_in_words(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    suspend_carla(database, grace_used=False)
    ticket_id = open_one(database)
    page = session_of(app, staff["agent"]).get(f"/desk/tickets/{ticket_id}", headers=HTML)
    assert "Hospedagem Pro suspended (non payment)." in page.text
    with database.transaction() as session:
        ticket = session.get(Ticket, ticket_id)
        assert ticket is not None
        # The customer's message is dated on the company's clock, as staff live it.
        assert company_time(ticket.created_at) in page.text
    assert "not used yet" in page.text and "the customer&#39;s one grace" in page.text


def test_replying_with_the_checkers_findings_and_the_customers_context(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    suspend_carla(database, grace_used=True)
    ticket_id = open_one(database)
    feed(
        database,
        training_policy,
        "training.script_suggested.v1",
        {
            "ticket_id": ticket_id,
            "customer_id": 5,
            "playbook_id": "script-reactivation-second",
            "situation": "reactivation_second",
            "version": 1,
            "reason": "suspended; grace used",
        },
    )
    agent = session_of(app, staff["agent"])
    page = agent.get(f"/desk/tickets/{ticket_id}", headers=HTML)
    assert page.status_code == 200
    assert "suspended" in page.text and "already used on 01/06/2026" in page.text
    assert "script-reactivation-second" in page.text

    live = agent.client.post(
        f"/desk/tickets/{ticket_id}/check", data={"body": RUDE_REPLY, "csrf_token": agent.token}
    )
    assert live.status_code == 200 and live.get_json()["blocking"] is True
    assert any(f["lesson"] == "p-polite" for f in live.get_json()["findings"])
    stopped = agent.client.post(
        f"/desk/tickets/{ticket_id}/reply", data={"body": RUDE_REPLY, "csrf_token": agent.token}
    )
    assert stopped.status_code == 422 and "The reply was not sent" in stopped.text
    assert announced(database, "tickets.reply_posted.v1") == []
    sent = agent.client.post(
        f"/desk/tickets/{ticket_id}/reply", data={"body": GOOD_REPLY, "csrf_token": agent.token}
    )
    assert sent.status_code == 303
    assert len(announced(database, "tickets.reply_posted.v1")) == 1

    owner = session_of(app, staff["owner"])
    owner.get(f"/desk/tickets/{ticket_id}", headers=HTML)
    seen = agent.get(f"/desk/tickets/{ticket_id}", headers=HTML)
    assert "Ana is also viewing" in seen.text, "the collision warning"

    grace = agent.client.post(
        f"/desk/tickets/{ticket_id}/reactivation",
        data={"pay_by": (date.today() + timedelta(days=5)).isoformat(), "csrf_token": agent.token},
    )
    assert grace.status_code == 303
    (asked,) = announced(database, "tickets.reactivation_requested.v1")
    assert (asked["subscription_id"], asked["requested_by"]) == (9, "bia@cortesia.example")
    past = agent.client.post(
        f"/desk/tickets/{ticket_id}/reactivation",
        data={"pay_by": "2020-01-01", "csrf_token": agent.token},
    )
    assert past.status_code == 422 and "in the future" in past.text

    no_reason = agent.client.post(
        f"/desk/tickets/{ticket_id}/cancellation",
        data={"reason": "", "outcome": "cancels", "csrf_token": agent.token},
    )
    assert no_reason.status_code == 422 and "P-EASE" in no_reason.text
    stays = agent.client.post(
        f"/desk/tickets/{ticket_id}/cancellation",
        data={
            "reason": "too expensive",
            "offer_made": "a smaller plan",
            "outcome": "stays",
            "csrf_token": agent.token,
        },
    )
    assert (
        stays.status_code == 303 and announced(database, "tickets.cancellation_requested.v1") == []
    )
    assert (
        "stayed after the offer: a smaller plan"
        in agent.get(f"/desk/tickets/{ticket_id}", headers=HTML).text
    )


def test_review_resolve_and_a_ticket_for_a_phone_call(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    carla(database)
    trainee, owner = session_of(app, staff["trainee"]), session_of(app, staff["owner"])
    opened = trainee.client.post(
        "/desk/new",
        data={
            "customer_id": "5",
            "requester_email": "carla@loja.example",
            "subject": "Ligou: DNS",
            "body": "O domínio não aponta para o site novo.",
            "department": "support",
            "priority": "normal",
            "channel": "phone",
            "csrf_token": trainee.token,
        },
    )
    assert opened.status_code == 303
    ticket_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    bad = trainee.client.post(
        "/desk/new",
        data={"requester_email": "x", "subject": "s", "body": "b", "csrf_token": trainee.token},
    )
    assert bad.status_code == 422 and "valid email" in bad.text

    held = trainee.client.post(
        f"/desk/tickets/{ticket_id}/reply", data={"body": GOOD_REPLY, "csrf_token": trainee.token}
    )
    assert held.status_code == 303
    assert announced(database, "tickets.reply_posted.v1") == []
    queue = owner.get("/desk/reviews", headers=HTML)
    assert "Duda" in queue.text and "Ligou: DNS" in queue.text
    message_id = int(re.search(r"/desk/reviews/(\d+)", queue.text).group(1))  # type: ignore[union-attr]
    assert (
        trainee.client.post(
            f"/desk/reviews/{message_id}", data={"verdict": "approve", "csrf_token": trainee.token}
        ).status_code
        == 403
    )
    owner.client.post(
        f"/desk/reviews/{message_id}",
        data={"verdict": "return", "comment": "", "csrf_token": owner.token},
    )
    assert "Say what to change" in owner.get("/desk/reviews", headers=HTML).text
    approved = owner.client.post(
        f"/desk/reviews/{message_id}",
        data={"verdict": "approve", "body": GOOD_REPLY, "csrf_token": owner.token},
    )
    assert approved.status_code == 303 and len(announced(database, "tickets.reply_posted.v1")) == 1

    missing = trainee.client.post(
        f"/desk/tickets/{ticket_id}/resolve",
        data={
            "cause": "DNS antigo",
            "fix": "apontei",
            "prevention": "",
            "csrf_token": trainee.token,
        },
    )
    assert missing.status_code == 422 and "P-RESOLVE" in missing.text
    assert "DNS antigo</textarea>" in missing.text, "what was typed comes back"
    done = trainee.client.post(
        f"/desk/tickets/{ticket_id}/resolve",
        data={
            "cause": "o registro A apontava para o servidor antigo",
            "fix": "atualizei o registro",
            "prevention": "checklist de migração inclui o DNS",
            "csrf_token": trainee.token,
        },
    )
    assert done.status_code == 303
    (resolved,) = announced(database, "tickets.ticket_resolved.v1")
    assert (
        resolved["survey_url"]
        == f"https://cortesia.example/tickets/portal/tickets/{ticket_id}#rate"
    )
    assert resolved["first_response_met"] is True and resolved["resolution_met"] is True


def test_the_owner_adds_staff_who_set_their_password_from_the_link(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    owner = session_of(app, staff["owner"])
    added = owner.client.post(
        "/staff",
        data={
            "name": "Edu",
            "email": "edu@cortesia.example",
            "role": "trainee",
            "csrf_token": owner.token,
        },
    )
    assert added.status_code == 303
    (event,) = [
        e
        for e in announced(database, "tickets.staff_added.v1")
        if e["email"] == "edu@cortesia.example"
    ]
    assert event["role"] == "trainee"
    (link,) = announced(database, "tickets.password_link_requested.v1")
    assert link["new_account"] is True and link["link"].startswith(
        "https://cortesia.example/tickets/password/"
    )
    path = link["link"].removeprefix("https://cortesia.example/tickets")
    visitor = app.test_client()
    form = visitor.get(path)
    token = re.search(r'name="csrf_token" value="([^"]+)"', form.text).group(1)  # type: ignore[union-attr]
    short = visitor.post(path, data={"password": "short", "confirm": "short", "csrf_token": token})
    assert short.status_code == 422 and "12 characters" in short.text
    chosen = visitor.post(
        path, data={"password": PASSWORD, "confirm": PASSWORD, "csrf_token": token}
    )
    assert chosen.status_code == 302
    fresh = app.test_client()
    token = re.search(r'name="csrf_token" value="([^"]+)"', fresh.get(path).text).group(1)  # type: ignore[union-attr]
    reused = fresh.post(path, data={"password": PASSWORD, "confirm": PASSWORD, "csrf_token": token})
    assert reused.status_code == 422 and "not valid" in reused.text, "a link works once"

    assert (
        owner.client.post(
            "/staff",
            data={
                "name": "Edu",
                "email": "edu@cortesia.example",
                "role": "agent",
                "csrf_token": owner.token,
            },
        ).status_code
        == 422
    )
    edu_id = event["staff_id"]
    assert (
        owner.client.post(
            f"/staff/{edu_id}", data={"action": "role", "role": "agent", "csrf_token": owner.token}
        ).status_code
        == 303
    )
    (changed,) = announced(database, "tickets.staff_role_changed.v1")
    assert (changed["old_role"], changed["new_role"]) == ("trainee", "agent")
    last_owner = owner.client.post(
        f"/staff/{staff['owner'].id}", data={"action": "remove", "csrf_token": owner.token}
    )
    assert last_owner.status_code == 422 and "last owner" in last_owner.text
    assert (
        owner.client.post(
            f"/staff/{edu_id}", data={"action": "remove", "csrf_token": owner.token}
        ).status_code
        == 303
    )
    assert announced(database, "tickets.staff_removed.v1") == [{"staff_id": edu_id}]
    assert session_of(app, staff["agent"]).get("/staff", headers=HTML).status_code == 403
    log = owner.get("/audit", headers=HTML).text
    assert "staff_added" in log and "role_changed" in log and "staff_removed" in log


def test_sign_in_is_rate_limited_and_audited(
    app: Flask, database: Database, staff: dict[str, StaffMember]
) -> None:
    client = app.test_client()

    def attempt(password: str) -> int:
        page = client.get("/login")
        token = re.search(
            r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"',
            page.text,
        )
        value = next(group for group in token.groups() if group) if token else ""
        return client.post(
            "/login",
            data={"email": "bia@cortesia.example", "password": password, "csrf_token": value},
        ).status_code

    assert [attempt("wrong password!") for _ in range(5)] == [401] * 5
    assert attempt(PASSWORD) == 429, "even the right password waits after five failures"
    with database.transaction() as session:
        assert (
            session.execute(select(AuditEntry).where(AuditEntry.action == "signed_in")).first()
            is None
        )

    def ask_link(email: str) -> str:
        page = client.get("/password")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)  # type: ignore[union-attr]
        return client.post("/password", data={"email": email, "csrf_token": token}).text

    assert "on its way" in ask_link("bia@cortesia.example")
    assert "on its way" in ask_link("nobody@cortesia.example"), "the same answer for anyone"
    (link,) = announced(database, "tickets.password_link_requested.v1")
    assert link["email"] == "bia@cortesia.example" and link["new_account"] is False
