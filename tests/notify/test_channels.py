"""The delivery channels against real servers: an SMTP sink and an HTTP provider on free ports."""

from __future__ import annotations

import base64
import email
import re
import socket
from collections.abc import Iterator
from dataclasses import replace
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from typing import Any, cast

import pytest

from services.notify.channels import (
    Attachment,
    Channel,
    DeliveryError,
    HttpProviderChannel,
    Outgoing,
    SmtpChannel,
    SmtpSettings,
    provider_channels_from_env,
)
from services.notify.channels.mime import email_bytes, parse_address
from shared.testing.provider import FakeProvider
from shared.testing.servers import free_port
from shared.testing.smtp import MailSink, Stage

SUBJECT = "Fatura de março: ação necessária — pagamento pendente"
TEXT = "Olá João, a fatura nº 42 vence amanhã.\nGracias, señor Muñoz.\n"
HTML = "<p>Olá <b>João</b>, a fatura nº 42 vence amanhã.</p>"
PDF = b"%PDF-1.4\n% fatura 42\n\x00\x01\x02"

EMAIL = Outgoing(
    notification_id=42,
    channel="email",
    to="joao.silva@example.com.br",
    to_name="João Ñandú da Conceição",
    subject=SUBJECT,
    text=TEXT,
    html=HTML,
    message_id="<n42.a1b2@cortesia.local>",
    headers={
        "List-Unsubscribe": "<https://cortesia.example/unsubscribe/42>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        "In-Reply-To": "<t7.c3d4@cortesia.local>",
        "References": "<t7.c3d4@cortesia.local>",
    },
    attachments=(Attachment("fatura-março.pdf", "application/pdf", PDF),),
)
SMS = Outgoing(
    notification_id=43,
    channel="sms",
    to="+5511987654321",
    to_name="João",
    subject=None,
    text="Cortesia: sua fatura nº 42 vence amanhã.",
    html=None,
    message_id="<n43.e5f6@cortesia.local>",
)


def email_to(sink: MailSink, **overrides: Any) -> SmtpSettings:
    settings = SmtpSettings(
        host="127.0.0.1",
        port=sink.port,
        security=sink.security,
        username=sink.username,
        password=sink.password,
        timeout=5,
        from_address="avisos@cortesia.example",
        from_name="Cortesía Hospedagem",
        ca_file=str(sink.certificate) if sink.certificate else None,
    )
    return replace(settings, **overrides)


def numbered(message: Outgoing, number: int) -> Outgoing:
    return replace(message, notification_id=number, message_id=f"<n{number}.x@cortesia.local>")


@pytest.fixture
def sink() -> Iterator[MailSink]:
    with MailSink() as server:
        yield server


@pytest.fixture
def channel(sink: MailSink) -> Iterator[SmtpChannel]:
    smtp = SmtpChannel(email_to(sink))
    yield smtp
    smtp.close()


def assert_full_email(message: EmailMessage) -> None:
    assert message["Subject"] == SUBJECT
    assert message["Message-ID"] == "<n42.a1b2@cortesia.local>"
    assert message["From"].addresses[0].display_name == "Cortesía Hospedagem"
    assert message["From"].addresses[0].addr_spec == "avisos@cortesia.example"
    assert message["To"].addresses[0].display_name == "João Ñandú da Conceição"
    assert message["To"].addresses[0].addr_spec == "joao.silva@example.com.br"
    assert message["Date"].datetime is not None
    assert message["List-Unsubscribe"] == "<https://cortesia.example/unsubscribe/42>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["In-Reply-To"] == "<t7.c3d4@cortesia.local>"
    assert message["References"] == "<t7.c3d4@cortesia.local>"
    assert message.get_content_type() == "multipart/mixed"
    plain = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    assert plain is not None and html is not None
    assert plain.get_content() == TEXT
    assert html.get_content().strip() == HTML
    [attachment] = list(message.iter_attachments())
    assert attachment.get_filename() == "fatura-março.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF


# -- email --------------------------------------------------------------------


def test_plain_smtp_delivers_every_part_and_header(sink: MailSink, channel: SmtpChannel) -> None:
    assert channel.send(EMAIL) == "<n42.a1b2@cortesia.local>"

    [delivery] = sink.deliveries
    assert delivery.mail_from == "avisos@cortesia.example"
    assert delivery.recipients == ("joao.silva@example.com.br",)
    assert not delivery.over_tls
    assert_full_email(delivery.message)


def test_text_only_email_is_a_single_plain_part(sink: MailSink, channel: SmtpChannel) -> None:
    channel.send(replace(EMAIL, html=None, attachments=(), headers={}))

    [message] = sink.messages
    assert message.get_content_type() == "text/plain"
    assert message.get_content() == TEXT
    assert "List-Unsubscribe" not in message


def test_starttls_and_auth_deliver_with_a_verified_certificate() -> None:
    with MailSink(security="starttls", username="avisos", password="s3nh@-forte") as sink:
        channel = SmtpChannel(email_to(sink))
        try:
            channel.send(EMAIL)
        finally:
            channel.close()
        [delivery] = sink.deliveries
        assert delivery.over_tls
        assert delivery.authenticated_as == "avisos"
        assert_full_email(delivery.message)


def test_implicit_tls_delivers() -> None:
    with MailSink(security="tls", username="avisos", password="s3nha") as sink:
        channel = SmtpChannel(email_to(sink))
        try:
            channel.send(EMAIL)
        finally:
            channel.close()
        [delivery] = sink.deliveries
        assert delivery.over_tls and delivery.authenticated_as == "avisos"


def test_one_connection_serves_many_sends(sink: MailSink, channel: SmtpChannel) -> None:
    for number in (1, 2, 3):
        channel.send(numbered(EMAIL, number))

    assert [m["Message-ID"] for m in sink.wait_for(3)] == [
        "<n1.x@cortesia.local>",
        "<n2.x@cortesia.local>",
        "<n3.x@cortesia.local>",
    ]
    assert sink.connections == 1
    assert {delivery.connection for delivery in sink.deliveries} == {1}


def test_a_connection_the_server_dropped_is_reopened_once(
    sink: MailSink, channel: SmtpChannel
) -> None:
    channel.send(numbered(EMAIL, 1))
    sink.drop_connections()

    channel.send(numbered(EMAIL, 2))

    assert sink.connections == 2
    assert [delivery.connection for delivery in sink.deliveries] == [1, 2]


def test_a_421_on_a_kept_connection_is_retried_on_a_new_one(
    sink: MailSink, channel: SmtpChannel
) -> None:
    channel.send(numbered(EMAIL, 1))
    sink.refuse_next(421, "4.4.2 idle too long, closing", stage="MAIL")

    channel.send(numbered(EMAIL, 2))

    assert sink.connections == 2
    assert len(sink.messages) == 2


def test_server_down_is_transient_and_the_next_send_after_it_returns_works(
    sink: MailSink, channel: SmtpChannel
) -> None:
    channel.send(numbered(EMAIL, 1))
    sink.stop()

    with pytest.raises(DeliveryError) as failure:
        channel.send(numbered(EMAIL, 2))
    assert not failure.value.permanent
    assert failure.value.reason == f"cannot connect to 127.0.0.1:{sink.port}: Connection refused"

    sink.start()
    channel.send(numbered(EMAIL, 3))
    assert [m["Message-ID"] for m in sink.messages] == [
        "<n1.x@cortesia.local>",
        "<n3.x@cortesia.local>",
    ]


def test_a_5xx_refusal_is_permanent_and_the_connection_stays_usable(
    sink: MailSink, channel: SmtpChannel
) -> None:
    sink.refuse_next(550, "5.1.1 mailbox unavailable")

    with pytest.raises(DeliveryError) as failure:
        channel.send(numbered(EMAIL, 1))
    assert failure.value.permanent
    assert failure.value.reason == "SMTP 550 from 127.0.0.1: 5.1.1 mailbox unavailable"

    channel.send(numbered(EMAIL, 2))
    assert sink.connections == 1
    assert len(sink.messages) == 1


@pytest.mark.parametrize("stage", ["RCPT", "DATA"])
def test_a_4xx_refusal_is_transient(sink: MailSink, channel: SmtpChannel, stage: Stage) -> None:
    sink.refuse_next(451, "4.3.0 try again later", stage=stage)

    with pytest.raises(DeliveryError) as failure:
        channel.send(EMAIL)
    assert not failure.value.permanent
    assert failure.value.reason == "SMTP 451 from 127.0.0.1: 4.3.0 try again later"


def test_a_refused_recipient_is_permanent(sink: MailSink, channel: SmtpChannel) -> None:
    sink.refuse_recipient(EMAIL.to)

    with pytest.raises(DeliveryError) as failure:
        channel.send(EMAIL)
    assert failure.value.permanent
    assert "550" in failure.value.reason


def test_a_wrong_password_says_so() -> None:
    with MailSink(security="starttls", username="avisos", password="certa") as sink:
        channel = SmtpChannel(email_to(sink, password="errada"))
        with pytest.raises(DeliveryError) as failure:
            channel.send(EMAIL)
    # The message is not at fault: it waits for the credentials to be fixed.
    assert not failure.value.permanent
    assert failure.value.reason.startswith("127.0.0.1 refused the login of 'avisos': SMTP 535")
    assert "username and password" in failure.value.reason
    assert "errada" not in failure.value.reason


def test_an_untrusted_certificate_is_a_tls_failure() -> None:
    with MailSink(security="starttls") as sink:
        channel = SmtpChannel(email_to(sink, ca_file=None))
        with pytest.raises(DeliveryError) as failure:
            channel.send(EMAIL)
        assert not failure.value.permanent
        assert failure.value.reason.startswith(f"TLS with 127.0.0.1:{sink.port} failed")
        assert "not trusted" in failure.value.reason

        unverified = SmtpChannel(email_to(sink, ca_file=None, verify_tls=False))
        unverified.send(EMAIL)
        unverified.close()
        assert len(sink.messages) == 1


def test_plain_smtp_to_a_server_demanding_starttls_points_at_the_settings() -> None:
    with MailSink(security="starttls") as sink:
        channel = SmtpChannel(email_to(sink, security="none"))
        with pytest.raises(DeliveryError) as failure:
            channel.send(EMAIL)
    assert not failure.value.permanent
    assert "530" in failure.value.reason and "security" in failure.value.reason


def test_a_message_that_cannot_be_built_is_permanent(channel: SmtpChannel) -> None:
    with pytest.raises(DeliveryError, match="not an email address") as failure:
        channel.send(replace(EMAIL, to="not an address@@"))
    assert failure.value.permanent
    with pytest.raises(DeliveryError, match="Message-ID"):
        channel.send(replace(EMAIL, headers={"Message-ID": "<other@x>"}))
    with pytest.raises(DeliveryError, match="linefeed"):
        channel.send(replace(EMAIL, headers={"X-Note": "a\r\nBcc: everyone@example.com"}))


def test_smtp_settings_from_the_environment() -> None:
    settings = SmtpSettings.from_env(
        {
            "CORTESIA_SMTP_HOST": "smtp.example",
            "CORTESIA_SMTP_SECURITY": "TLS",
            "CORTESIA_SMTP_USERNAME": "avisos",
            "CORTESIA_SMTP_PASSWORD": "s3nha",
            "CORTESIA_SMTP_FROM": "avisos@cortesia.example",
            "CORTESIA_SMTP_FROM_NAME": "Cortesía",
            "CORTESIA_SMTP_VERIFY_TLS": "no",
            "CORTESIA_SMTP_CA_FILE": "/etc/ssl/relay.pem",
        }
    )
    assert settings == SmtpSettings(
        host="smtp.example",
        port=465,
        security="tls",
        username="avisos",
        password="s3nha",
        from_address="avisos@cortesia.example",
        from_name="Cortesía",
        verify_tls=False,
        ca_file="/etc/ssl/relay.pem",
    )
    assert "s3nha" not in repr(settings)
    minimal = {"CORTESIA_SMTP_HOST": "smtp.example", "CORTESIA_SMTP_FROM": "a@cortesia.example"}
    assert SmtpSettings.from_env(minimal).port == 587
    assert SmtpSettings.from_env(minimal).security == "starttls"

    with pytest.raises(ValueError, match="CORTESIA_SMTP_PORT must be a port number, got 'smtp'"):
        SmtpSettings.from_env({**minimal, "CORTESIA_SMTP_PORT": "smtp"})
    with pytest.raises(ValueError, match="between 1 and 65535"):
        SmtpSettings.from_env({**minimal, "CORTESIA_SMTP_PORT": "70000"})
    with pytest.raises(ValueError, match="CORTESIA_SMTP_SECURITY must be one of"):
        SmtpSettings.from_env({**minimal, "CORTESIA_SMTP_SECURITY": "ssl"})
    with pytest.raises(ValueError, match="CORTESIA_SMTP_HOST is not set"):
        SmtpSettings.from_env({"CORTESIA_SMTP_FROM": "a@cortesia.example"})
    with pytest.raises(ValueError, match="CORTESIA_SMTP_VERIFY_TLS"):
        SmtpSettings.from_env({**minimal, "CORTESIA_SMTP_VERIFY_TLS": "maybe"})


# -- SMS and chat ---------------------------------------------------------------


@pytest.fixture
def provider() -> Iterator[FakeProvider]:
    with FakeProvider(token="sms-token") as server:
        yield server


def test_provider_delivery_returns_its_id_and_sends_token_and_key(
    provider: FakeProvider,
) -> None:
    channel = HttpProviderChannel("sms", provider.url, "sms-token")

    provider_id = channel.send(SMS)

    [request] = provider.requests
    assert request.headers["authorization"] == "Bearer sms-token"
    assert request.headers["idempotency-key"] == "<n43.e5f6@cortesia.local>"
    assert request.body == {
        "channel": "sms",
        "to": "+5511987654321",
        "text": "Cortesia: sua fatura nº 42 vence amanhã.",
        "reference": "<n43.e5f6@cortesia.local>",
    }
    assert provider.messages == [{**request.body, "id": provider_id}]


def test_a_retried_message_gets_the_same_id_and_is_sent_once(provider: FakeProvider) -> None:
    channel = HttpProviderChannel("sms", provider.url, "sms-token")

    assert channel.send(SMS) == channel.send(SMS)
    assert len(provider.requests) == 2
    assert len(provider.messages) == 1


def test_a_provider_5xx_is_transient_and_passes(provider: FakeProvider) -> None:
    channel = HttpProviderChannel("sms", provider.url, "sms-token")
    provider.fail_next(1, status=503, error="maintenance window")

    with pytest.raises(DeliveryError) as failure:
        channel.send(SMS)
    assert not failure.value.permanent
    assert failure.value.reason == (
        f"the sms provider at 127.0.0.1:{provider.port} failed: HTTP 503 maintenance window"
    )
    assert channel.send(SMS)


def test_a_provider_4xx_is_permanent_with_its_error(provider: FakeProvider) -> None:
    channel = HttpProviderChannel("sms", provider.url, "sms-token")
    provider.refuse_recipient(SMS.to, status=400, error="+5511987654321 is not a mobile number")

    with pytest.raises(DeliveryError) as failure:
        channel.send(SMS)
    assert failure.value.permanent
    assert failure.value.reason == (
        "the sms provider refused the message: HTTP 400 +5511987654321 is not a mobile number"
    )


def test_rate_limiting_is_transient(provider: FakeProvider) -> None:
    provider.fail_next(1, status=429, error="slow down")
    with pytest.raises(DeliveryError) as failure:
        HttpProviderChannel("sms", provider.url, "sms-token").send(SMS)
    assert not failure.value.permanent


def test_a_bad_token_is_permanent(provider: FakeProvider) -> None:
    with pytest.raises(DeliveryError) as failure:
        HttpProviderChannel("sms", provider.url, "wrong-token").send(SMS)
    assert failure.value.permanent
    assert "refused the token: HTTP 401" in failure.value.reason
    assert "wrong-token" not in failure.value.reason


def test_a_provider_that_is_down_is_transient() -> None:
    port = free_port()
    channel = HttpProviderChannel("chat", f"http://127.0.0.1:{port}/v1/messages", "t")

    with pytest.raises(DeliveryError) as failure:
        channel.send(replace(SMS, channel="chat", to="@joao"))
    assert not failure.value.permanent
    assert failure.value.reason == (
        f"cannot reach the chat provider at 127.0.0.1:{port}: Connection refused"
    )


def test_a_provider_that_does_not_answer_in_time_is_transient() -> None:
    with socket.socket() as silent:  # accepts connections, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        channel = HttpProviderChannel("sms", f"http://127.0.0.1:{port}/", None, timeout=0.2)
        with pytest.raises(DeliveryError) as failure:
            channel.send(SMS)
    assert not failure.value.permanent
    assert "no answer within 0.2s" in failure.value.reason


def test_provider_channels_from_the_environment(provider: FakeProvider) -> None:
    assert provider_channels_from_env({}) == {}
    channels = provider_channels_from_env(
        {"CORTESIA_SMS_URL": provider.url, "CORTESIA_SMS_TOKEN": "sms-token"}
    )
    assert list(channels) == ["sms"]
    assert channels["sms"].send(SMS)
    both = provider_channels_from_env(
        {"CORTESIA_SMS_URL": provider.url, "CORTESIA_CHAT_URL": "https://chat.example/v1/m"}
    )
    assert sorted(both) == ["chat", "sms"]
    with pytest.raises(ValueError, match="CORTESIA_CHAT_URL"):
        provider_channels_from_env({"CORTESIA_CHAT_URL": "chat.example"})


def test_every_channel_fits_the_protocol(sink: MailSink, provider: FakeProvider) -> None:
    channels: list[Channel] = [
        SmtpChannel(email_to(sink)),
        HttpProviderChannel("sms", provider.url, "sms-token"),
    ]
    assert [channel.name for channel in channels] == ["email", "sms"]
    with pytest.raises(DeliveryError, match="cannot deliver a 'sms' message") as failure:
        channels[0].send(SMS)
    assert failure.value.permanent
    for channel in channels:
        channel.close()


def test_long_accented_headers_are_folded_and_read_back_whole(
    sink: MailSink, channel: SmtpChannel
) -> None:
    subject = "Sua fatura de dezembro está disponível — vencimento em 10/12/2026, " * 3
    name = "Conceição Ñandú Comércio de Alimentos e Serviços de Hospedagem Ltda ME"
    long_line = "Olá " + "muito texto sem quebra " * 10
    channel.send(
        replace(EMAIL, subject=subject.strip(), to_name=name, text=long_line, attachments=())
    )

    [delivery] = sink.deliveries
    assert all(len(line) <= 78 for line in delivery.raw.split(b"\r\n"))
    message = delivery.message
    assert message["Subject"] == subject.strip()
    # Python's own reader may double a space where a fold fell: the words are what count.
    assert message["To"].addresses[0].display_name.split() == name.split()
    plain = message.get_body(preferencelist=("plain",))
    assert plain is not None and plain["Content-Transfer-Encoding"] == "quoted-printable"
    assert plain.get_content().strip() == long_line.strip()


# -- accented headers as RFC 2047 encoded words -------------------------------------

SENDER = parse_address("avisos@cortesia.example", "Cortesía Hospedagem")
ENCODED_WORD = re.compile(r"=\?utf-8\?b\?([A-Za-z0-9+/=]*)\?=")


def built(message: Outgoing) -> tuple[bytes, EmailMessage]:
    """``message``'s bytes as they go out, and the email package's reading of them."""
    raw = email_bytes(message, SENDER)
    return raw, cast(EmailMessage, email.message_from_bytes(raw, policy=policy.default))


def header_lines(raw: bytes, name: str) -> list[str]:
    """The lines of header ``name`` as sent: its first line and its continuations."""
    head = raw.partition(b"\r\n\r\n")[0].decode("ascii").split("\r\n")
    start = next(i for i, line in enumerate(head) if line.startswith(f"{name}: "))
    end = start + 1
    while end < len(head) and head[end].startswith(" "):
        end += 1
    return head[start:end]


def assert_well_encoded(lines: list[str]) -> None:
    """Lines of at most 78 characters, each a fold and one or more whole encoded words
    of at most 75 characters, each word readable on its own."""
    assert all(len(line) <= 78 for line in lines), lines
    assert all(line.startswith(" ") for line in lines[1:])
    first_value = lines[0].partition(": ")[2]
    assert_whole_words(" ".join([first_value, *lines[1:]]))


def assert_whole_words(text: str) -> None:
    """``text`` is encoded words and spaces only; each word decodes alone."""
    assert ENCODED_WORD.sub("", text).strip(" ") == "", text
    for word in ENCODED_WORD.finditer(text):
        assert len(word.group()) <= 75
        # A word that split a character would not decode alone.
        base64.b64decode(word.group(1), validate=True).decode("utf-8")


def test_a_long_accented_subject_reads_back_exactly_from_short_lines_of_whole_words() -> None:
    subject = (
        "Fatura nº 2026000012 disponível — vence em 10/12 🎉 Ação necessária: "
        "pagamento pendente, hospedagem e domínio ✅ "
        "obrigado pela preferência, Sr. João! 😀🙏"
    )
    assert len(subject) == 150

    raw, message = built(replace(EMAIL, subject=subject))

    lines = header_lines(raw, "Subject")
    assert len(lines) > 1
    assert_well_encoded(lines)
    assert all(len(line) <= 78 for line in raw.split(b"\r\n"))
    assert message["Subject"] == subject


@pytest.mark.parametrize(
    "subject",
    [
        "Fatura nº 2026000012 disponível — vence em 10/12",
        "Olá",
        "ação",
        "😀",
        "Preço: R$ 10,00 =?utf-8?q?não?= é_isto?",
        " espaços à volta ",
        "😀" * 40,  # four bytes each: a word's 45 bytes would cut one in the middle
        "€" * 60,
    ],
)
def test_accented_subjects_read_back_exactly(subject: str) -> None:
    raw, message = built(replace(EMAIL, subject=subject))

    assert_well_encoded(header_lines(raw, "Subject"))
    assert message["Subject"] == subject


def test_an_accented_extra_header_is_encoded_like_the_subject() -> None:
    note = "Observação do cliente: entregar após às 18h — obrigado! 😀 " * 2
    # Names of every length up to what leaves room for a word: the first line's room
    # shrinks with the name.
    for name in (f"X-{'N' * length}" for length in range(1, 55)):
        raw, message = built(replace(EMAIL, headers={name: note}))

        assert_well_encoded(header_lines(raw, name))
        assert message[name] == note


@pytest.mark.parametrize(
    "name", ["João", "Conceição, Ñandú & Cia. Ltda.", 'Zoë "a Tia" Müller', "日本語の名前"]
)
def test_accented_display_names_read_back_exactly(name: str) -> None:
    raw, message = built(replace(EMAIL, to_name=name))

    for header in ("From", "To"):
        lines = header_lines(raw, header)
        assert all(len(line) <= 78 for line in lines)
        assert all(len(word) <= 75 for word in ENCODED_WORD.findall("".join(lines)))
    assert message["To"].addresses[0].display_name == name
    assert message["To"].addresses[0].addr_spec == "joao.silva@example.com.br"
    assert message["From"].addresses[0].display_name == "Cortesía Hospedagem"
    assert message["From"].addresses[0].addr_spec == "avisos@cortesia.example"


def test_a_long_accented_display_name_is_folded_between_whole_words() -> None:
    # 45 bytes, what a word holds, would end inside "Alimentos".
    name = "Hotel Conceição Ñandú Comércio de Alimentos e Serviços de Hospedagem Ltda ME 🏨"
    raw, message = built(replace(EMAIL, to_name=name))

    lines = header_lines(raw, "To")
    assert len(lines) > 1
    assert all(len(line) <= 78 for line in lines)
    phrase = "".join(lines).removeprefix("To: ").rpartition(" <")[0]
    assert_whole_words(phrase)
    # RFC 2047 §6.2: the folding whitespace between two words is not part of the name.
    assert str(make_header(decode_header(phrase))) == name
    # Python 3.11's address parser keeps that whitespace (CPython gh-128110); the folds
    # fall after spaces, so it reads a doubled space, never a word cut in two.
    assert message["To"].addresses[0].display_name.split() == name.split()
    assert message["To"].addresses[0].addr_spec == "joao.silva@example.com.br"


def test_ascii_and_international_mailboxes_are_written_as_before() -> None:
    raw, message = built(replace(EMAIL, to_name="Silva, Joao Jr."))
    assert header_lines(raw, "To") == ['To: "Silva, Joao Jr." <joao.silva@example.com.br>']
    assert message["To"].addresses[0].display_name == "Silva, Joao Jr."

    # An accented address goes as SMTPUTF8: the whole header in UTF-8, nothing encoded.
    international = replace(EMAIL, to="joao@exemplo-conceição.com.br", to_name="João")
    raw = email_bytes(international, SENDER)
    assert "To: João <joao@exemplo-conceição.com.br>".encode() in raw
