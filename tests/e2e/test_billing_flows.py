"""Billing's flows, end to end, in both run modes: a subscription's cycle from the checked
invoice to the suspension, the one grace granted and a second one declined, and the
payment gateway's signed webhook settling a suspended account.

Billing's days pass by moving the platform's clock: the billing schedule runs at once
when the clock moves and catches up day by day, with the policy's defaults (the invoice
14 days before it is due, a reminder 7 days before, overdue notices 1 and 5 days after,
a warning one business day before the suspension on the first business day 5 days
after). Each flow starts on a Wednesday whose next weeks have no national holiday, so
the days of its cycle fall where the calendar says.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import unicodedata
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests

from shared.business_hours import BusinessCalendar
from tests.e2e.harness import (
    WEBHOOK_SECRET,
    Browser,
    Envelope,
    Observer,
    Platform,
    eventually,
    mails_to,
    owner_signed_in,
    text_of,
    wait_for_mail,
)

pytestmark = [pytest.mark.rabbitmq, pytest.mark.postgres]

SAO_PAULO = ZoneInfo("America/Sao_Paulo")
CALENDAR = BusinessCalendar()
WEDNESDAY = 2
LEAD_DAYS = 14
"""The renewal invoice is made this many days before it is due (the policy's default)."""
PRICE_MINOR = 8990


# -- the company's days ------------------------------------------------------------------


def at(day: date, hour: int = 10, minute: int = 30) -> datetime:
    """A moment on ``day`` in São Paulo; 10:30 is inside business hours."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=SAO_PAULO)


def quiet_wednesday(platform: Platform, hour: int, weeks: int) -> datetime:
    """The next Wednesday at ``hour`` starting ``weeks`` weeks whose weekdays are all business
    days, and whose day two weeks on exists a month earlier too (a period can end there)."""
    moment = platform.next_moment(WEDNESDAY, hour)
    while True:
        monday = moment.date() - timedelta(days=moment.weekday())
        span = [monday + timedelta(days=offset) for offset in range(7 * weeks)]
        weekdays = [day for day in span if day.weekday() < 5]
        due = moment.date() + timedelta(days=LEAD_DAYS)
        if due.day <= 28 and all(CALENDAR.is_business_day(day) for day in weekdays):
            return moment
        moment += timedelta(days=7)


def as_moment(text: str) -> datetime:
    """A moment from the JSON of either run mode (SQLite gives stored times back naive, UTC)."""
    moment = datetime.fromisoformat(text)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def month_before(day: date) -> date:
    assert day.day <= 28
    return (
        day.replace(year=day.year - 1, month=12)
        if day.month == 1
        else day.replace(month=day.month - 1)
    )


def suspension_day(due: date) -> date:
    """The first business day at least five days after ``due``."""
    day = due + timedelta(days=5)
    while not CALENDAR.is_business_day(day):
        day += timedelta(days=1)
    return day


# -- people and their accounts ---------------------------------------------------------


def new_customer(owner: Browser, name: str, language: str) -> dict[str, Any]:
    first = unicodedata.normalize("NFKD", name.split()[0].lower()).encode("ascii", "ignore")
    email = f"{first.decode()}.{uuid.uuid4().hex[:6]}@cliente.example"
    details = {"name": name, "email": email, "language": language}
    return dict(owner.api("POST", "/billing/api/customers", details, expect=201))


def subscribed_until(owner: Browser, customer: dict[str, Any], due: date) -> dict[str, Any]:
    """A monthly plan of the customer's whose current period ends (and next invoice falls
    due) on ``due``."""
    code = f"host-{uuid.uuid4().hex[:8]}"
    plan = owner.api(
        "POST",
        "/billing/api/plans",
        {
            "code": code,
            "name": "Hospedagem Essencial",
            "cycle": "monthly",
            "price_minor": PRICE_MINOR,
        },
        expect=201,
    )
    subscription = owner.api(
        "POST",
        "/billing/api/subscriptions",
        {"customer_id": customer["id"], "plan_id": plan["id"], "start": str(month_before(due))},
        expect=201,
    )
    assert subscription["current_period_end"] == str(due), subscription
    return dict(subscription)


def the_invoice(owner: Browser, customer: dict[str, Any]) -> dict[str, Any]:
    found = owner.api("GET", f"/billing/api/invoices?customer_id={customer['id']}")
    assert len(found) == 1, found
    return dict(found[0])


def phone_ticket(owner: Browser, customer: dict[str, Any], subject: str) -> int:
    """A ticket the desk opens for the customer on the phone."""
    ticket = owner.api(
        "POST",
        "/tickets/api/tickets",
        {
            "subject": subject,
            "body": "The customer called about the account.",
            "requester_email": customer["email"],
            "customer_id": customer["id"],
        },
        expect=201,
    )
    return int(ticket["id"])


def desk_view(owner: Browser, ticket_id: int, until: Callable[[dict[str, Any]], bool]) -> Any:
    """The ticket as the desk sees it, once what it shows satisfies ``until``."""
    return eventually(lambda: owner.api("GET", f"/tickets/api/tickets/{ticket_id}"), until)


def notification_of(owner: Browser, customer: dict[str, Any], event: Envelope) -> Any:
    """Notify's message for ``event`` to the customer, once notify has planned it."""

    def planned() -> list[Any]:
        found = owner.api("GET", f"/notify/api/notifications?customer_id={customer['id']}")
        return [n for n in found["notifications"] if n["source_event_id"] == event["event_id"]]

    [notification] = eventually(planned, bool, what=f"notify's message for {event['event_type']}")
    return notification


def suspended_at_desk(ticket: dict[str, Any]) -> bool:
    return ticket["suggested_script"] is not None and (
        ticket["customer"]["billing_status"] == "suspended"
    )


# -- what the observer and the mailbox see ------------------------------------------------


def of_customer(customer: dict[str, Any], **fields: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda payload: (
        payload.get("customer_id") == customer["id"]
        and all(payload.get(key) == value for key, value in fields.items())
    )


def wait_for_nth(
    observer: Observer, event_type: str, where: Callable[[dict[str, Any]], bool], count: int
) -> Envelope:
    """The ``count``-th event of ``event_type`` whose payload satisfies ``where``."""
    found = eventually(
        lambda: [e for e in observer.of_type(event_type) if where(e["payload"])],
        lambda seen: len(seen) >= count,
        what=f"{count} {event_type}",
    )
    return found[count - 1]


def subject_has(words: str) -> Callable[[EmailMessage], bool]:
    return lambda message: words in str(message["Subject"])


def sent_for(observer: Observer, event: Envelope) -> Envelope:
    return observer.wait_for(
        "notify.notification_sent.v1", lambda p: p["source_event_id"] == event["event_id"]
    )


# -- the payment gateway -------------------------------------------------------------------


def gateway_delivery(
    platform: Platform, payment: dict[str, Any], signature: str | None
) -> requests.Response:
    body = json.dumps(payment).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Cortesia-Signature"] = signature
    return requests.post(
        f"{platform.url}/billing/api/webhooks/payments", data=body, headers=headers, timeout=30
    )


def gateway_signature(payment: dict[str, Any], secret: str = WEBHOOK_SECRET) -> str:
    """What the gateway sends: HMAC-SHA256 of ``<unix time>.<raw body>`` with the secret."""
    timestamp = int(time.time())
    body = json.dumps(payment).encode()
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={digest.hexdigest()}"


def reserve_of(owner: Browser, currency: str = "BRL") -> tuple[int, int]:
    """The revenue received and the reserve's balance (P-RESERVE), from the owner's report."""
    report = owner.api("GET", "/billing/api/reports/reserve")
    lines = [line for line in report["currencies"] if line["currency"] == currency]
    return (lines[0]["revenue_minor"], lines[0]["reserve_minor"]) if lines else (0, 0)


def suspended_customer(
    platform: Platform, owner: Browser, name: str, language: str, weeks: int
) -> tuple[dict[str, Any], dict[str, Any], date]:
    """A customer whose first renewal went unpaid, suspended on the day the policy says;
    the platform's clock is left at 10:30 that day, in a run of ``weeks`` plain weeks."""
    start = quiet_wednesday(platform, 10, weeks)
    due = start.date() + timedelta(days=LEAD_DAYS)
    customer = new_customer(owner, name, language)
    subscription = subscribed_until(owner, customer, due)
    platform.set_clock(start)
    platform.observer.wait_for("billing.invoice_issued.v1", of_customer(customer))
    suspended_on = suspension_day(due)
    platform.set_clock(at(suspended_on))
    platform.observer.wait_for(
        "billing.account_suspended.v1", of_customer(customer, reason="non_payment")
    )
    return customer, subscription, suspended_on


# -- 4. the billing cycle ----------------------------------------------------------------


def test_a_subscription_is_invoiced_reminded_warned_and_suspended_on_schedule(
    platform: Platform,
) -> None:
    observer, sink = platform.observer, platform.sink
    start = quiet_wednesday(platform, 7, weeks=3)
    due = start.date() + timedelta(days=LEAD_DAYS)
    owner = owner_signed_in(platform)
    bruna = new_customer(owner, "Bruna Azevedo", "pt-BR")
    subscription = subscribed_until(owner, bruna, due)

    # 07:00, before opening: the run makes the invoice, checks it and issues it; notify
    # holds the email for the business window.
    platform.set_clock(start)
    issued = observer.wait_for("billing.invoice_issued.v1", of_customer(bruna))
    assert issued["payload"]["due_date"] == str(due)
    assert issued["payload"]["total_minor"] == PRICE_MINOR
    invoice = the_invoice(owner, bruna)
    assert invoice["status"] == "issued" and invoice["hold_reasons"] is None, invoice
    assert invoice["number"] is not None
    assert invoice["number"] == issued["payload"]["invoice_number"]
    opening = at(start.date(), 10, 0)
    waiting = notification_of(owner, bruna, issued)
    assert waiting["status"] == "held" and waiting["kind"] == "invoice_issued", waiting
    assert as_moment(waiting["held_until"]) == opening, waiting
    assert not mails_to(sink, bruna["email"])

    platform.set_clock(at(start.date(), 10, 5))
    invoice_mail = wait_for_mail(sink, bruna["email"], subject_has("já está disponível"))
    assert f"nº {invoice['number']}" in str(invoice_mail["Subject"])
    delivered = sent_for(observer, issued)
    sent_at = as_moment(delivered["payload"]["sent_at"])
    assert CALENDAR.is_open(sent_at) and sent_at >= opening, sent_at

    # A week before the due date, a reminder.
    platform.set_clock(at(due - timedelta(days=7)))
    reminder = observer.wait_for("billing.reminder_due.v1", of_customer(bruna))
    assert reminder["payload"]["days_before_due"] == 7
    assert reminder["payload"]["invoice_id"] == invoice["id"]
    wait_for_mail(sink, bruna["email"], subject_has("Lembrete: sua fatura"))
    sent_for(observer, reminder)

    # The day after the due date, the first overdue notice.
    platform.set_clock(at(due + timedelta(days=1)))
    overdue = observer.wait_for("billing.invoice_overdue.v1", of_customer(bruna, days_overdue=1))
    wait_for_mail(sink, bruna["email"], subject_has("segue em aberto"))
    sent_for(observer, overdue)

    # One business day before the suspension, the warning names its day.
    suspend_on = suspension_day(due)
    warning_day = suspend_on - timedelta(days=1)
    while not CALENDAR.is_business_day(warning_day):
        warning_day -= timedelta(days=1)
    platform.set_clock(at(warning_day))
    warning = observer.wait_for("billing.suspension_warning.v1", of_customer(bruna))
    assert warning["payload"]["suspend_on"] == str(suspend_on)
    assert warning["payload"]["invoice_id"] == invoice["id"]
    wait_for_mail(sink, bruna["email"], subject_has("seguir ativo depois de"))
    sent_for(observer, warning)
    assert owner.api("GET", f"/billing/api/subscriptions/{subscription['id']}")["status"] == (
        "active"
    )

    # On the suspension day, inside business hours: the second notice and the suspension.
    platform.set_clock(at(suspend_on))
    observer.wait_for(
        "billing.invoice_overdue.v1",
        of_customer(bruna, days_overdue=(suspend_on - due).days),
    )
    suspended = observer.wait_for(
        "billing.account_suspended.v1",
        of_customer(bruna, subscription_id=subscription["id"], reason="non_payment"),
    )
    suspension_mail = wait_for_mail(sink, bruna["email"], subject_has("está suspenso"))
    assert "Hospedagem Essencial" in str(suspension_mail["Subject"])
    sent_for(observer, suspended)
    now_suspended = owner.api("GET", f"/billing/api/subscriptions/{subscription['id']}")
    assert now_suspended["status"] == "suspended", now_suspended
    assert now_suspended["suspension_reason"] == "non_payment"
    subjects = [str(m["Subject"]) for m in mails_to(sink, bruna["email"])]
    assert len(subjects) == 6, subjects  # invoice, reminder, two notices, warning, suspension

    # The desk: a call from the customer shows the suspension and the reactivation script.
    ticket_id = phone_ticket(owner, bruna, "Site fora do ar, a fatura atrasou")
    observer.wait_for("training.script_suggested.v1", lambda p: p["ticket_id"] == ticket_id)
    ticket = desk_view(owner, ticket_id, suspended_at_desk)
    assert ticket["customer"]["billing_status"] == "suspended", ticket["customer"]
    assert ticket["customer"]["grace_used_on"] is None
    assert ticket["suggested_script"]["situation"] == "reactivation_first", ticket
    desk_page = owner.page(f"/tickets/desk/tickets/{ticket_id}")
    assert ticket["suggested_script"]["playbook_id"] in desk_page.text


# -- 5. the one grace ----------------------------------------------------------------------


def test_the_one_grace_is_granted_on_the_customers_date_and_a_second_is_declined(
    platform: Platform,
) -> None:
    observer, sink = platform.observer, platform.sink
    owner = owner_signed_in(platform)
    daniel, subscription, suspended_on = suspended_customer(
        platform, owner, "Daniel Moreira", "en", weeks=5
    )
    wait_for_mail(sink, daniel["email"], subject_has("is suspended"))
    first_call = phone_ticket(owner, daniel, "Our website is down")
    ticket = desk_view(owner, first_call, suspended_at_desk)
    assert ticket["customer"]["billing_status"] == "suspended", ticket["customer"]
    assert ticket["suggested_script"]["situation"] == "reactivation_first", ticket

    # The customer will pay on Friday: the desk asks billing for the grace until then.
    pay_by = suspended_on + timedelta(days=4)
    asked = owner.api(
        "POST",
        f"/tickets/api/tickets/{first_call}/reactivation",
        {"pay_by": str(pay_by), "note": "Will pay on Friday, after the client's transfer."},
        expect=202,
    )
    assert asked["ok"], asked
    observer.wait_for(
        "tickets.reactivation_requested.v1",
        lambda p: p["ticket_id"] == first_call and p["pay_by"] == str(pay_by),
    )
    reactivated = observer.wait_for(
        "billing.account_reactivated.v1", of_customer(daniel, cause="grace", pay_by=str(pay_by))
    )
    confirmation = wait_for_mail(sink, daniel["email"], subject_has("is active again"))
    assert f"{pay_by:%B} {pay_by.day}, {pay_by.year}" in text_of(confirmation)
    sent_for(observer, reactivated)
    granted = desk_view(owner, first_call, lambda t: t["customer"]["billing_status"] == "active")[
        "customer"
    ]
    assert granted["billing_status"] == "active", granted
    assert granted["grace_used_on"] == str(suspended_on), granted
    assert owner.api("GET", f"/billing/api/subscriptions/{subscription['id']}")["status"] == (
        "active"
    )
    assert the_invoice(owner, daniel)["due_date"] == str(pay_by)

    # The date passes unpaid: a new warning, and the account is suspended again.
    suspended_again_on = suspension_day(pay_by)
    platform.set_clock(at(suspended_again_on))
    observer.wait_for(
        "billing.suspension_warning.v1", of_customer(daniel, suspend_on=str(suspended_again_on))
    )
    again = wait_for_nth(observer, "billing.account_suspended.v1", of_customer(daniel), 2)
    sent_for(observer, again)
    assert len([m for m in mails_to(sink, daniel["email"]) if subject_has("is suspended")(m)]) == 2
    desk_view(owner, first_call, lambda t: t["customer"]["billing_status"] == "suspended")

    # A second call: the script is the second-time one, and billing declines politely.
    second_call = phone_ticket(owner, daniel, "Please turn our website back on")
    ticket = desk_view(owner, second_call, suspended_at_desk)
    assert ticket["customer"]["billing_status"] == "suspended", ticket["customer"]
    assert ticket["suggested_script"]["situation"] == "reactivation_second", ticket
    assert str(suspended_on) in ticket["suggested_script"]["reason"]
    owner.api(
        "POST",
        f"/tickets/api/tickets/{second_call}/reactivation",
        {"pay_by": str(suspended_again_on + timedelta(days=3))},
        expect=202,
    )
    refused = observer.wait_for(
        "billing.grace_refused.v1", of_customer(daniel, first_grace_on=str(suspended_on))
    )
    assert "already had its one grace" in refused["payload"]["reason"]
    refusal = wait_for_mail(sink, daniel["email"], subject_has("About your request to reactivate"))
    assert f"{suspended_on:%B} {suspended_on.day}, {suspended_on.year}" in text_of(refusal)
    sent_for(observer, refused)
    declined = desk_view(
        owner,
        second_call,
        lambda t: (t["customer"]["billing_note"] or "").startswith("Grace refused"),
    )["customer"]
    assert declined["billing_note"].startswith("Grace refused"), declined
    assert "already had its one grace" in declined["billing_note"]
    assert declined["grace_used_on"] == str(suspended_on)
    assert declined["billing_status"] == "suspended"
    still = owner.api("GET", f"/billing/api/subscriptions/{subscription['id']}")
    assert still["status"] == "suspended", still
    reactivations = [
        e
        for e in observer.of_type("billing.account_reactivated.v1")
        if of_customer(daniel)(e["payload"])
    ]
    assert len(reactivations) == 1, reactivations


# -- 6. the payment gateway's webhook ----------------------------------------------------


def test_a_signed_gateway_payment_settles_a_suspended_account_and_a_forged_one_does_nothing(
    platform: Platform,
) -> None:
    observer, sink = platform.observer, platform.sink
    owner = owner_signed_in(platform)
    lucia, subscription, _ = suspended_customer(platform, owner, "Lucía Fernández", "es", weeks=3)
    wait_for_mail(sink, lucia["email"], subject_has("está suspendido"))
    invoice = the_invoice(owner, lucia)
    assert invoice["status"] == "issued" and invoice["balance_minor"] == PRICE_MINOR, invoice
    before = reserve_of(owner)
    payment = {
        "transaction_id": f"gw-{uuid.uuid4().hex}",
        "invoice_id": invoice["id"],
        "amount_minor": invoice["balance_minor"],
        "currency": "BRL",
        "method": "pix",
    }

    # Unsigned, signed with another secret, or signed for another body: refused, nothing
    # recorded.
    forged = {**payment, "amount_minor": 1}
    for signature in (None, gateway_signature(payment, "guessed"), gateway_signature(forged)):
        answer = gateway_delivery(platform, payment, signature)
        assert answer.status_code == 401, (answer.status_code, answer.text)
        assert answer.json()["error"] == "invalid signature", answer.text
    unpaid = the_invoice(owner, lucia)
    assert unpaid["status"] == "issued" and unpaid["paid_minor"] == 0, unpaid
    assert owner.api("GET", f"/billing/api/subscriptions/{subscription['id']}")["status"] == (
        "suspended"
    )
    assert reserve_of(owner) == before
    assert not [
        e
        for e in observer.of_type("billing.payment_received.v1")
        if of_customer(lucia)(e["payload"])
    ]

    # The gateway's real delivery.
    answer = gateway_delivery(platform, payment, gateway_signature(payment))
    assert answer.status_code == 200, answer.text
    recorded = answer.json()
    assert recorded["status"] == "recorded" and recorded["credit_minor"] == 0, recorded
    received = observer.wait_for(
        "billing.payment_received.v1",
        of_customer(lucia, payment_id=recorded["payment_id"], invoice_id=invoice["id"]),
    )
    assert received["payload"]["amount_minor"] == PRICE_MINOR
    assert received["payload"]["method"] == "pix"
    observer.wait_for("billing.invoice_paid.v1", of_customer(lucia, invoice_id=invoice["id"]))
    reactivated = observer.wait_for(
        "billing.account_reactivated.v1",
        of_customer(lucia, subscription_id=subscription["id"], cause="payment"),
    )
    paid = the_invoice(owner, lucia)
    assert paid["status"] == "paid" and paid["balance_minor"] == 0, paid
    assert paid["paid_at"] is not None
    active = owner.api("GET", f"/billing/api/subscriptions/{subscription['id']}")
    assert active["status"] == "active" and active["suspension_reason"] is None, active

    receipt = wait_for_mail(sink, lucia["email"], subject_has("Recibimos su pago"))
    assert "89,90" in str(receipt["Subject"]), receipt["Subject"]
    sent_for(observer, received)
    wait_for_mail(sink, lucia["email"], subject_has("está activo otra vez"))
    sent_for(observer, reactivated)

    # P-RESERVE: a tenth of the payment went to the reserve (rounded half up).
    after = reserve_of(owner)
    assert after[0] - before[0] == PRICE_MINOR
    assert after[1] - before[1] == (PRICE_MINOR * 10 + 50) // 100

    # The gateway retries the same transaction: acknowledged, nothing recorded twice.
    again = gateway_delivery(platform, payment, gateway_signature(payment))
    assert again.status_code == 200, again.text
    assert again.json() == {"status": "already recorded", "payment_id": recorded["payment_id"]}
    assert reserve_of(owner) == after
    payments = [
        e
        for e in observer.of_type("billing.payment_received.v1")
        if of_customer(lucia)(e["payload"])
    ]
    assert len(payments) == 1, payments
