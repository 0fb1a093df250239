"""The message catalogue and its rendering: every kind reads well in every language and
channel it has, owners' edits come first and fail clearly, the sandbox holds."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pytest

from services.notify.catalogue import (
    AUDIENCE_LANGUAGES,
    CatalogueError,
    MessageKind,
    TemplateText,
    UnknownKind,
    load_catalogue,
    parse_kind,
)
from services.notify.rendering import (
    SMS_LIMIT,
    Rendered,
    RenderFailure,
    render,
    sample_context,
)

CATALOGUE = load_catalogue()

KINDS: dict[str, tuple[str | None, tuple[str, ...]]] = {
    "ticket_acknowledged": ("tickets.ticket_opened.v1", ("email",)),
    "staff_reply": ("tickets.reply_posted.v1", ("email",)),
    "ticket_resolved": ("tickets.ticket_resolved.v1", ("email",)),
    "follow_up_check": ("tickets.follow_up_due.v1", ("email",)),
    "closing_notice": ("tickets.closing_soon.v1", ("email",)),
    "ticket_closed": ("tickets.ticket_closed.v1", ("email",)),
    "portal_sign_in": ("tickets.portal_link_requested.v1", ("email",)),
    "staff_password_link": ("tickets.password_link_requested.v1", ("email",)),
    "running_late": ("tickets.running_late.v1", ("email", "sms")),
    "invoice_issued": ("billing.invoice_issued.v1", ("email",)),
    "invoice_reminder": ("billing.reminder_due.v1", ("email",)),
    "invoice_overdue": ("billing.invoice_overdue.v1", ("email",)),
    "suspension_warning": ("billing.suspension_warning.v1", ("email", "sms", "chat")),
    "account_suspended": ("billing.account_suspended.v1", ("email", "sms", "chat")),
    "account_reactivated": ("billing.account_reactivated.v1", ("email",)),
    "grace_refused": ("billing.grace_refused.v1", ("email",)),
    "payment_receipt": ("billing.payment_received.v1", ("email",)),
    "subscription_cancelled": ("billing.subscription_cancelled.v1", ("email",)),
    "maintenance_announcement": ("tickets.maintenance_scheduled.v1", ("email",)),
    "maintenance_reminder": ("tickets.maintenance_scheduled.v1", ("email", "sms", "chat")),
    "periodic_report": (None, ("email",)),
    "alert_new_ticket": ("tickets.ticket_opened.v1", ("email",)),
    "alert_emergency": ("tickets.ticket_opened.v1", ("email", "sms", "chat")),
    "alert_sla_warning": ("tickets.sla_warning.v1", ("email",)),
    "alert_sla_breached": ("tickets.sla_breached.v1", ("email", "sms", "chat")),
    "alert_escalation": ("tickets.ticket_escalated.v1", ("email",)),
    "alert_reply_awaiting_review": ("tickets.reply_awaiting_review.v1", ("email",)),
    "alert_invoice_undelivered": ("billing.invoice_undelivered.v1", ("email",)),
    "alert_delivery_failed": (None, ("email",)),
}
OPTIONAL = {"follow_up_check", "maintenance_reminder", "periodic_report"}
"""The kinds a customer may opt out of; everything else is transactional."""

LEFTOVERS = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|\bNone\b|Undefined")


def every_text() -> list[tuple[str, str, str]]:
    return [
        (kind.kind, channel, language)
        for kind in CATALOGUE.kinds()
        for channel in kind.channels
        for language in kind.languages_for(channel)
    ]


def rendered(kind_name: str, channel: str, language: str, **changes: Any) -> Rendered:
    """``kind_name`` from its sample, with ``changes`` laid over the event payload."""
    kind = CATALOGUE.kind(kind_name)
    context = sample_context(kind, recipient_language=language)
    context["data"] = {**context["data"], **changes}
    return render(kind, channel, [language], context)


def assert_reads_clean(message: Rendered, channel: str) -> None:
    for part in (message.subject, message.text, message.html):
        if part is not None:
            assert not LEFTOVERS.search(part), LEFTOVERS.search(part)
    assert message.text.strip()
    if channel == "email":
        assert message.subject and "\n" not in message.subject
        assert message.html is not None and "<html" in message.html
        assert "Cortesia Hosting</td>" in message.html, "the layout's header"
    else:
        assert message.subject is None and message.html is None
    if channel == "sms":
        assert len(message.text) <= SMS_LIMIT


# -- the catalogue ------------------------------------------------------------------


def test_the_catalogue_holds_every_kind_with_its_event_and_channels() -> None:
    found = {kind.kind: (kind.event, kind.channels) for kind in CATALOGUE.kinds()}
    assert found == KINDS
    for kind in CATALOGUE.kinds():
        staff = kind.kind.startswith("alert_") or kind.kind == "staff_password_link"
        audience = "staff" if staff else "customer"
        assert kind.audience == audience
        assert kind.transactional is (kind.kind not in OPTIONAL)
        for channel in kind.channels:
            assert set(kind.languages_for(channel)) >= set(AUDIENCE_LANGUAGES[audience])


def test_kinds_are_found_by_event_and_by_name() -> None:
    opened = [kind.kind for kind in CATALOGUE.for_event("tickets.ticket_opened.v1")]
    assert opened == ["alert_emergency", "alert_new_ticket", "ticket_acknowledged"]
    assert CATALOGUE.for_event("billing.invoice_paid.v1") == []
    assert CATALOGUE.kind("invoice_issued").event == "billing.invoice_issued.v1"
    with pytest.raises(UnknownKind):
        CATALOGUE.kind("no_such_kind")
    assert load_catalogue() is CATALOGUE


def test_a_kinds_sample_and_texts_cannot_be_changed() -> None:
    kind = CATALOGUE.kind("invoice_issued")
    with pytest.raises(TypeError):
        kind.sample["total_minor"] = 1  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        kind.kind = "other"  # type: ignore[misc]
    payload = kind.sample_payload()
    payload["total_minor"] = 1
    assert kind.sample["total_minor"] != 1


# -- every text reads well ------------------------------------------------------------


@pytest.mark.parametrize(("kind_name", "channel", "language"), every_text())
def test_every_text_renders_from_its_sample(kind_name: str, channel: str, language: str) -> None:
    message = rendered(kind_name, channel, language)
    assert message.language == language and message.fell_back_from is None
    assert_reads_clean(message, channel)


VARIANTS: list[tuple[str, dict[str, Any]]] = [
    ("ticket_acknowledged", {"emergency": True, "reference": None, "requester_name": None}),
    ("ticket_resolved", {"survey_url": None}),
    ("ticket_closed", {"reason": "resolved"}),
    ("ticket_closed", {"reason": "merged"}),
    ("ticket_closed", {"reason": "staff"}),
    ("invoice_issued", {"balance_minor": 0, "invoice_number": None}),
    ("invoice_issued", {"balance_minor": 123456}),
    ("invoice_reminder", {"days_before_due": 0}),
    ("invoice_reminder", {"days_before_due": 1}),
    ("account_suspended", {"reason": "abuse"}),
    ("account_suspended", {"reason": "customer_request"}),
    ("account_suspended", {"reason": "other"}),
    ("account_reactivated", {"cause": "payment", "pay_by": None}),
    ("account_reactivated", {"cause": "staff", "pay_by": None}),
    ("account_reactivated", {"cause": "grace", "pay_by": None}),
    ("grace_refused", {"first_grace_on": None}),
    ("payment_receipt", {"credit_minor": 2500}),
    ("subscription_cancelled", {"at_period_end": False}),
    ("maintenance_announcement", {"details": ""}),
    ("alert_new_ticket", {"requester_name": None, "requester_email": None, "reference": None}),
    ("alert_emergency", {"requester_name": None}),
    ("alert_escalation", {"actions": []}),
    ("alert_invoice_undelivered", {"email": None, "invoice_number": None}),
]


@pytest.mark.parametrize(("kind_name", "changes"), VARIANTS)
def test_every_branch_of_a_text_renders(kind_name: str, changes: dict[str, Any]) -> None:
    kind = CATALOGUE.kind(kind_name)
    for channel in kind.channels:
        for language in kind.languages_for(channel):
            assert_reads_clean(rendered(kind_name, channel, language, **changes), channel)


def test_a_recipient_without_a_name_is_greeted_all_the_same() -> None:
    kind = CATALOGUE.kind("invoice_overdue")
    context = sample_context(kind, recipient_language="es")
    context["recipient"] = {**context["recipient"], "name": None}
    message = render(kind, "email", ["es"], context)
    assert message.text.startswith("Hola:")
    assert_reads_clean(message, "email")


def test_amounts_in_portuguese_are_in_reais() -> None:
    issued = rendered("invoice_issued", "email", "pt-BR")
    assert "R$\xa01.234,56" in issued.text and "R$\xa01.234,56" in (issued.html or "")
    assert "R$\xa01.234,56" in (issued.subject or "")
    for kind_name in ("invoice_reminder", "invoice_overdue", "payment_receipt", "periodic_report"):
        assert "R$" in rendered(kind_name, "email", "pt-BR").text, kind_name
    assert "R$1,234.56" in rendered("invoice_issued", "email", "en").text


def test_dates_are_in_the_language_and_moments_in_the_recipients_timezone() -> None:
    kind = CATALOGUE.kind("maintenance_announcement")
    context = sample_context(kind, recipient_language="en")
    context["recipient"] = {**context["recipient"], "timezone": "Europe/London"}
    english = render(kind, "email", ["en"], context).text.replace("\u202f", " ")
    # 23:00 in São Paulo is 03:00 the next day in London, shown with its zone.
    assert "June 19, 2025, 3:00 AM (British Summer Time)" in english
    context["recipient"] = {**context["recipient"], "timezone": "America/Sao_Paulo"}
    portuguese = render(kind, "email", ["pt-BR"], context)
    assert "18 de junho de 2025 23:00 (Horário Padrão de Brasília)" in portuguese.text
    context["recipient"] = {**context["recipient"], "timezone": "Mars/Olympus"}
    with pytest.raises(RenderFailure, match="Mars/Olympus"):
        render(kind, "email", ["en"], context)


def test_the_periodic_report_leaves_room_for_comments_after_each_section() -> None:
    markers = {
        "pt-BR": ("CHAMADOS", "INCIDENTES", "FATURAS", "Seus comentários e ideias"),
        "es": ("SOLICITUDES", "INCIDENTES", "FACTURAS", "Sus comentarios e ideas"),
        "en": ("REQUESTS", "INCIDENTS", "INVOICES", "Your comments and ideas"),
    }
    for language, (*sections, comments) in markers.items():
        message = rendered("periodic_report", "email", language)
        text = message.text
        starts = [text.index(f"== {section}") for section in sections]
        ends = [*starts[1:], len(text)]
        for section, start, end in zip(sections, starts, ends, strict=True):
            part = text[start:end]
            assert comments in part, f"{language} {section} has no room for comments"
            assert re.search(rf"{comments}[^\n]*:\n\n\n", part), "blank lines to write in"
        html = message.html or ""
        assert html.count(comments) == len(sections)
        assert html.count("border:1px dashed") == len(sections), "a visible box each"


def test_only_kinds_a_customer_may_opt_out_of_carry_the_unsubscribe_link() -> None:
    unsubscribe = "https://portal.cortesia.example/unsubscribe/sample"
    for kind in CATALOGUE.kinds():
        message = rendered(kind.kind, "email", kind.languages[0])
        html = message.html or ""
        assert "https://portal.cortesia.example/preferences" in html
        assert (unsubscribe in html) is (not kind.transactional), kind.kind
        assert (unsubscribe in message.text) is (not kind.transactional), kind.kind


# -- languages ----------------------------------------------------------------------


def without(kind: MessageKind, language: str) -> MessageKind:
    texts = {key: text for key, text in kind.texts.items() if key[1] != language}
    return dataclasses.replace(kind, texts=texts)


def test_a_missing_translation_falls_back_to_the_second_choice_and_says_so() -> None:
    kind = without(CATALOGUE.kind("invoice_issued"), "es")
    context = sample_context(kind, recipient_language="es")
    message = render(kind, "email", ["es", "pt-BR"], context)
    assert message.language == "pt-BR" and message.fell_back_from == "es"
    assert message.text.startswith("Olá")
    staff = CATALOGUE.kind("alert_new_ticket")  # staff read pt-BR and en only
    message = render(staff, "email", ["es", "pt-BR"], sample_context(staff))
    assert (message.language, message.fell_back_from) == ("pt-BR", "es")


def test_with_no_second_choice_a_missing_translation_gives_english() -> None:
    kind = without(CATALOGUE.kind("invoice_issued"), "es")
    message = render(kind, "email", ["es"], sample_context(kind, recipient_language="es"))
    assert (message.language, message.fell_back_from) == ("en", "es")
    assert message.text.startswith("Hi")


def test_a_regional_or_differently_written_language_is_the_same_choice() -> None:
    kind = CATALOGUE.kind("invoice_issued")
    context = sample_context(kind)
    for asked, used in (("pt_BR", "pt-BR"), ("es-AR", "es"), ("EN-gb", "en"), ("pt", "pt-BR")):
        message = render(kind, "email", [asked], context)
        assert (message.language, message.fell_back_from) == (used, None), asked


def test_a_channel_the_kind_does_not_have_is_a_failure() -> None:
    kind = CATALOGUE.kind("invoice_issued")
    with pytest.raises(RenderFailure, match="invoice_issued: no sms text"):
        render(kind, "sms", ["pt-BR"], sample_context(kind))
    with pytest.raises(RenderFailure, match="unknown channel 'fax'"):
        render(kind, "fax", ["pt-BR"], sample_context(kind))


# -- the owner's edits --------------------------------------------------------------


def test_an_owners_edit_takes_precedence_over_the_file() -> None:
    kind = CATALOGUE.kind("invoice_issued")
    edit = TemplateText(
        subject="Fatura de {{ data.total_minor | money(data.currency) }}",
        text="Oi, {{ recipient.name }}! Vence em {{ data.due_date | day('short') }}.",
        html="<p>Oi, {{ recipient.name }}!</p>",
    )
    overrides = {("invoice_issued", "email", "pt-BR"): edit}
    message = render(kind, "email", ["pt-BR"], sample_context(kind), overrides)
    assert message.subject == "Fatura de R$\xa01.234,56"
    assert message.text.startswith("Oi, Ana Souza! Vence em 10/06/2025.")
    assert "<p>Oi, Ana Souza!</p>" in (message.html or "")
    # An edit in the second language does not beat the file in the first.
    overrides = {("invoice_issued", "email", "en"): edit}
    message = render(kind, "email", ["pt-BR", "en"], sample_context(kind), overrides)
    assert message.language == "pt-BR" and message.text.startswith("Olá")


def test_an_edit_can_fill_a_missing_translation() -> None:
    kind = without(CATALOGUE.kind("invoice_issued"), "es")
    edit = TemplateText(subject="Su factura", text="Hola, {{ recipient.name }}.", html=None)
    message = render(
        kind, "email", ["es"], sample_context(kind), {("invoice_issued", "email", "es"): edit}
    )
    assert (message.language, message.fell_back_from, message.html) == ("es", None, None)


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ("Olá, {{ recipient.nickname }}!", "nickname"),
        ("Olá, {{ recipient.name }!", "TemplateSyntaxError"),
        ("{% if data.total_minor %}sem fim", "TemplateSyntaxError"),
        ("{{ data.total_minor | shout }}", "shout"),
        ("{{ data.due_date | money(data.currency) }}", "money() needs an amount"),
        ("Nº {{ data.invoice_number }} de {{ data.subscription_id }}{{ data.nothing }}", "nothing"),
    ],
)
def test_a_broken_edit_is_a_failure_with_the_reason(source: str, problem: str) -> None:
    kind = CATALOGUE.kind("invoice_issued")
    overrides = {("invoice_issued", "email", "pt-BR"): TemplateText("Assunto", source, None)}
    with pytest.raises(RenderFailure) as failure:
        render(kind, "email", ["pt-BR"], sample_context(kind), overrides)
    assert failure.value.reason.startswith("invoice_issued email pt-BR text: ")
    assert problem in failure.value.reason


def test_printing_an_empty_optional_field_is_a_failure_not_a_none_in_the_text() -> None:
    kind = CATALOGUE.kind("grace_refused")
    edit = TemplateText("Assunto", "Sua primeira carência foi em {{ data.first_grace_on }}.")
    context = sample_context(kind)
    context["data"] = {**context["data"], "first_grace_on": None}
    with pytest.raises(RenderFailure, match="None"):
        render(kind, "email", ["pt-BR"], context, {("grace_refused", "email", "pt-BR"): edit})


def test_an_sms_over_the_limit_is_a_failure_not_a_cut() -> None:
    kind = CATALOGUE.kind("account_suspended")
    edit = TemplateText(None, "{{ company.name }} " + "muito longo " * 30)
    with pytest.raises(RenderFailure, match="over the limit of 300"):
        render(
            kind,
            "sms",
            ["pt-BR"],
            sample_context(kind),
            {("account_suspended", "sms", "pt-BR"): edit},
        )


# -- escaping and the sandbox -------------------------------------------------------


def test_html_escapes_what_comes_in_the_event_while_text_keeps_it_as_written() -> None:
    script = "<script>alert('oi')</script>"
    message = rendered(
        "staff_reply", "email", "pt-BR", body=f"Veja: {script}", staff_name="<b>R</b>"
    )
    assert script in message.text and "<b>R</b>" in message.text
    html = message.html or ""
    assert "<script>" not in html and "<b>R</b>" not in html
    assert "&lt;script&gt;" in html and "&lt;b&gt;R&lt;/b&gt;" in html


@pytest.mark.parametrize(
    "source",
    [
        "{{ ''.__class__.__mro__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ data.__class__.__init__.__globals__ }}",
        "{{ recipient.items.__self__.__class__ }}",
        "{% for c in ''.__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ],
)
def test_the_sandbox_refuses_to_reach_python_internals(source: str) -> None:
    kind = CATALOGUE.kind("invoice_issued")
    for part in ("text", "html"):
        edit = TemplateText(
            "Assunto", source if part == "text" else "ok", source if part == "html" else None
        )
        with pytest.raises(RenderFailure, match=f"invoice_issued email pt-BR {part}: "):
            render(
                kind,
                "email",
                ["pt-BR"],
                sample_context(kind),
                {("invoice_issued", "email", "pt-BR"): edit},
            )


# -- catalogue validation -----------------------------------------------------------

GOOD = """\
kind: hello
audience: customer
event: billing.invoice_issued.v1
transactional: true
description: A test message.
sample:
  customer_id: 7
  customer_name: "Ana"
  email: "ana@example.com"
  language: pt-BR
  timezone: "America/Sao_Paulo"
  invoice_id: 1
  total_minor: 100
  balance_minor: 100
  currency: BRL
  due_date: "2025-06-10"
email:
  pt-BR: {subject: "Oi", text: "Oi, {{ recipient.name }}"}
  es: {subject: "Hola", text: "Hola"}
  en: {subject: "Hi", text: "Hi"}
"""


def write(directory: Path, text: str, name: str = "hello.yaml") -> Path:
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_good_file_loads(tmp_path: Path) -> None:
    write(tmp_path, GOOD)
    catalogue = load_catalogue(tmp_path)
    kind = catalogue.kind("hello")
    assert kind.channels == ("email",) and kind.languages_for("email") == ("pt-BR", "es", "en")
    assert kind.texts[("email", "pt-BR")] == TemplateText("Oi", "Oi, {{ recipient.name }}", None)
    assert kind.sample["due_date"] == "2025-06-10", "dates stay in their JSON form"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (('  es: {subject: "Hola", text: "Hola"}\n', ""), "email is missing es"),
        (('{subject: "Hi", text: "Hi"}', '{text: "Hi"}'), "email en: email without subject"),
        (('{subject: "Hola", text: "Hola"}', '{subject: "Hola"}'), "email es: email without text"),
        (("email:\n", 'fax:\n  pt-BR: "x"\nemail:\n'), "unknown field or channel 'fax'"),
        (
            ("total_minor: 100", "total_minor: -5"),
            "sample is not valid for billing.invoice_issued.v1",
        ),
        (('  due_date: "2025-06-10"\n', ""), "due_date"),
        (("event: billing.invoice_issued.v1", "event: billing.nothing.v1"), "unknown event type"),
        (
            ("Oi, {{ recipient.name }}", "Oi, {{ recipient.name"),
            "email pt-BR text: template syntax error",
        ),
        (("audience: customer", "audience: everyone"), "audience must be one of"),
        (("kind: hello", "kind: goodbye"), "does not match the file name"),
        (
            ('  en: {subject: "Hi", text: "Hi"}', '  en: {subject: "Hi", text: "Hi", body: "x"}'),
            "unknown part 'body'",
        ),
        (("transactional: true", "transactional: maybe"), "transactional must be true or false"),
        (("description: A test message.", "description:\n  pt-BR: Um teste."), "en at least"),
        (
            ("description: A test message.", "description: {en: A test., fr: Un test.}"),
            "description must be one line for staff",
        ),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_the_problem(
    tmp_path: Path, change: tuple[str, str], problem: str
) -> None:
    old, new = change
    assert old in GOOD
    write(tmp_path, GOOD.replace(old, new))
    with pytest.raises(CatalogueError) as error:
        load_catalogue(tmp_path)
    assert str(error.value).startswith("hello.yaml: ")
    assert problem in str(error.value)


def test_a_description_may_be_written_in_each_staff_language(tmp_path: Path) -> None:
    english_only = parse_kind(GOOD, "hello.yaml")
    assert english_only.description_in("pt-BR") == "A test message.", "English stands in"
    both = GOOD.replace(
        "description: A test message.", "description:\n  en: A test.\n  pt-BR: Um teste."
    )
    kind = parse_kind(both, "hello.yaml")
    assert kind.description == "A test." and kind.description_in("pt-BR") == "Um teste."


def test_every_message_is_described_to_staff_in_both_their_languages() -> None:
    for kind in load_catalogue().kinds():
        assert set(kind.descriptions) == {"en", "pt-BR"}, kind.kind


def test_staff_messages_need_portuguese_and_english_only(tmp_path: Path) -> None:
    staff = GOOD.replace("audience: customer", "audience: staff")
    assert parse_kind(staff.replace('  es: {subject: "Hola", text: "Hola"}\n', ""), "x.yaml")
    with pytest.raises(CatalogueError, match="email is missing en"):
        parse_kind(staff.replace('  en: {subject: "Hi", text: "Hi"}\n', ""), "x.yaml")


def test_a_kind_without_an_event_has_its_context_checked(tmp_path: Path) -> None:
    text = GOOD.split("sample:")[0].replace("event: billing.invoice_issued.v1", "event: null")
    text += "sample:\n  failure:\n"
    text += '    {notification_id: 1, recipient: "a@b.c", channel: fax, kind: x, reason: y}\n'
    text += GOOD.split('due_date: "2025-06-10"\n')[1]
    with pytest.raises(CatalogueError, match=r"sample failure is not valid: .*channel"):
        parse_kind(text, "hello.yaml")
    with pytest.raises(CatalogueError, match="not 'stuff'"):
        parse_kind(text.replace("failure:", "stuff:"), "hello.yaml")
    assert parse_kind(text.replace("fax", "sms"), "hello.yaml").event is None


def test_a_file_that_is_not_yaml_is_refused(tmp_path: Path) -> None:
    write(tmp_path, "kind: [unclosed\n")
    with pytest.raises(CatalogueError, match=r"hello\.yaml: not valid YAML"):
        load_catalogue(tmp_path)
