"""A real SMTP server that keeps what it receives: aiosmtpd in a thread, on a free port.

The tests deliver to it over real sockets, and embedded mode uses it as the
local mail sink. It can demand what production relays demand (STARTTLS with
a certificate, AUTH) and fail the way they fail: refusing a recipient or a
message with a 4xx or 5xx reply, dropping the connections it holds, or going
down and coming back up on the same port.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import ssl
import subprocess
import tempfile
import threading
import weakref
from collections import deque
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, cast

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from shared.testing.servers import ServerUnavailable, free_port

Security = Literal["none", "starttls", "tls"]
Stage = Literal["MAIL", "RCPT", "DATA"]


class _WithoutLoginDataNotice(logging.Filter):
    # aiosmtpd sets its own deprecated attribute on every successful AUTH and warns about it.
    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith("Session.login_data is deprecated")


logging.getLogger("mail.log").addFilter(_WithoutLoginDataNotice())

SERVER_NAME = "mail.sink.test"
"""What the sink calls itself in its greeting."""


@dataclass(frozen=True)
class ReceivedMail:
    message: EmailMessage
    """Parsed with line ends as a mailbox stores them (LF), so text parts read as sent."""
    raw: bytes
    """The DATA as it came over the wire (CRLF line ends)."""
    mail_from: str
    recipients: tuple[str, ...]
    connection: int
    """Which client connection delivered it: 1 for the first the sink accepted, and so on."""
    authenticated_as: str | None
    over_tls: bool


def self_signed_certificate(directory: Path, hostname: str = "localhost") -> tuple[Path, Path]:
    """Write a certificate valid for ``hostname`` and 127.0.0.1; return (certificate, key).

    The certificate is its own CA: a client trusts it by loading it as its CA file.
    """
    certificate, key = directory / "certificate.pem", directory / "key.pem"
    command = [
        "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
        "-nodes", "-keyout", str(key), "-out", str(certificate), "-days", "7",
        "-subj", f"/CN={hostname}",
        "-addext", f"subjectAltName=DNS:{hostname},IP:127.0.0.1",
        "-addext", "keyUsage=critical,digitalSignature,keyCertSign",
        "-addext", "extendedKeyUsage=serverAuth",
    ]  # fmt: skip
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=30)
    except FileNotFoundError:
        raise ServerUnavailable("openssl is not installed: apt-get install openssl") from None
    if result.returncode != 0:
        raise ServerUnavailable(f"openssl could not make a certificate: {result.stderr}")
    return certificate, key


class _Handler:
    """aiosmtpd's hooks; they run on the sink's event loop thread."""

    def __init__(self, sink: MailSink) -> None:
        self.sink = sink

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname  # aiosmtpd leaves this to a handler that has the hook
        self.sink._greeted(server)
        return responses

    async def handle_HELO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str
    ) -> str:
        session.host_name = hostname
        self.sink._greeted(server)
        return f"250 {server.hostname}"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.sink.username is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        refusal = self.sink._refusal("MAIL")
        if refusal is not None:
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self.sink._refusal("RCPT", address)
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        refusal = self.sink._refusal("DATA")
        if refusal is not None:
            return refusal
        self.sink._received(server, session, envelope)
        return "250 2.0.0 OK: queued"


class MailSink:
    """An SMTP server on ``host:port`` that keeps every message it accepts.

    ``security`` is what clients must use: ``"starttls"`` refuses mail before
    STARTTLS, ``"tls"`` speaks TLS from the first byte. With ``username`` and
    ``password`` set, mail is refused until the client has logged in with them.
    The certificate is generated at the first start; trust it through
    ``certificate``.
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int | None = None,
        security: Security = "none",
        username: str | None = None,
        password: str | None = None,
        directory: Path | None = None,
    ) -> None:
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        self.host = host
        self.port = port if port is not None else free_port()
        self.security = security
        self.username = username
        self.password = password
        self._directory = directory
        self._tempdir: tempfile.TemporaryDirectory[str] | None = None
        self.certificate: Path | None = None
        self._key: Path | None = None
        self._controller: Controller | None = None
        self._changed = threading.Condition()
        self._deliveries: list[ReceivedMail] = []
        self._connection_numbers: weakref.WeakKeyDictionary[SMTP, int] = weakref.WeakKeyDictionary()
        self._connections = 0
        self._open: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._refusals: dict[Stage, deque[str]] = {
            stage: deque() for stage in ("MAIL", "RCPT", "DATA")
        }
        self._refused_recipients: dict[str, str] = {}

    # -- running ------------------------------------------------------------

    def start(self) -> MailSink:
        if self._controller is not None:
            raise RuntimeError(f"the mail sink on port {self.port} is already running")
        tls = self._server_tls() if self.security != "none" else None
        # A controller's event loop ends with it: every start builds a new one.
        controller = Controller(
            _Handler(self),
            hostname=self.host,
            port=self.port,
            ssl_context=tls if self.security == "tls" else None,
            server_hostname=SERVER_NAME,
            tls_context=tls if self.security == "starttls" else None,
            require_starttls=self.security == "starttls",
            # Implicit TLS is invisible to aiosmtpd's own check: it would never offer AUTH.
            auth_require_tls=self.security == "starttls",
            authenticator=self._authenticate if self.username is not None else None,
        )
        try:
            controller.start()
        except OSError as error:
            raise ServerUnavailable(
                f"the mail sink cannot listen on {self.host}:{self.port}: {error}"
            ) from None
        self._controller = controller
        return self

    def stop(self) -> None:
        """Close every connection and stop listening; ``start()`` again reopens the port."""
        controller, self._controller = self._controller, None
        if controller is None:
            return
        self._close_connections(controller)
        controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> MailSink:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _server_tls(self) -> ssl.SSLContext:
        if self.certificate is None or self._key is None:
            if self._directory is None:
                self._tempdir = tempfile.TemporaryDirectory(prefix="cortesia-mail-sink-")
                self._directory = Path(self._tempdir.name)
            self._directory.mkdir(parents=True, exist_ok=True)
            self.certificate, self._key = self_signed_certificate(self._directory)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.certificate, self._key)
        return context

    # -- what it received -------------------------------------------------------

    @property
    def deliveries(self) -> list[ReceivedMail]:
        with self._changed:
            return list(self._deliveries)

    @property
    def messages(self) -> list[EmailMessage]:
        with self._changed:
            return [delivery.message for delivery in self._deliveries]

    @property
    def connections(self) -> int:
        """Client connections that greeted the sink (EHLO or HELO), since it was made."""
        with self._changed:
            return self._connections

    def wait_for(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Block until ``count`` messages have arrived; return all of them."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._deliveries) >= count, timeout):
                raise TimeoutError(
                    f"the mail sink got {len(self._deliveries)} of {count} messages in {timeout:g}s"
                )
            return [delivery.message for delivery in self._deliveries]

    def clear(self) -> None:
        """Forget the messages, the connection count and any pending refusal."""
        with self._changed:
            self._deliveries.clear()
            self._connections = 0
            self._connection_numbers.clear()
            for pending in self._refusals.values():
                pending.clear()
            self._refused_recipients.clear()

    # -- faults -------------------------------------------------------------

    def refuse_next(self, code: int, message: str, *, stage: Stage = "RCPT") -> None:
        """Answer the next MAIL, RCPT or DATA with ``code message`` instead of accepting it."""
        if not 400 <= code < 600:
            raise ValueError(f"a refusal is a 4xx or 5xx reply, not {code}")
        with self._changed:
            self._refusals[stage].append(f"{code} {message}")

    def refuse_recipient(
        self, address: str, code: int = 550, message: str = "5.1.1 mailbox unavailable"
    ) -> None:
        """Refuse every RCPT for ``address`` until ``clear()``."""
        if not 400 <= code < 600:
            raise ValueError(f"a refusal is a 4xx or 5xx reply, not {code}")
        with self._changed:
            self._refused_recipients[address.lower()] = f"{code} {message}"

    def drop_connections(self) -> None:
        """Close every client connection, as a server does to sessions it finds idle."""
        if self._controller is not None:
            self._close_connections(self._controller)

    def _close_connections(self, controller: Controller) -> None:
        async def close_all() -> None:
            with self._changed:
                servers = list(self._open)
            for server in servers:
                if server.transport is not None:
                    server.transport.close()
            await asyncio.sleep(0)  # let the closes reach the sockets

        asyncio.run_coroutine_threadsafe(close_all(), controller.loop).result(timeout=5)

    # -- called from the event loop ----------------------------------------------

    def _greeted(self, server: SMTP) -> None:
        with self._changed:
            # A second EHLO on one connection (after STARTTLS) is not a new connection.
            self._open.add(server)
            if server not in self._connection_numbers:
                self._connections += 1
                self._connection_numbers[server] = self._connections

    def _refusal(self, stage: Stage, address: str | None = None) -> str | None:
        with self._changed:
            if address is not None and address.lower() in self._refused_recipients:
                return self._refused_recipients[address.lower()]
            pending = self._refusals[stage]
            return pending.popleft() if pending else None

    def _received(self, server: SMTP, session: Session, envelope: Envelope) -> None:
        raw = envelope.original_content or b""
        parser = BytesParser(policy=policy.default)
        message = cast(EmailMessage, parser.parsebytes(raw.replace(b"\r\n", b"\n")))
        login = session.auth_data.login if isinstance(session.auth_data, LoginPassword) else None
        delivery = ReceivedMail(
            message=message,
            raw=raw,
            mail_from=envelope.mail_from or "",
            recipients=tuple(envelope.rcpt_tos),
            connection=self._connection_numbers.get(server, 0),
            authenticated_as=login.decode("utf-8", "replace") if login is not None else None,
            over_tls=self.security == "tls" or session.ssl is not None,
        )
        with self._changed:
            self._deliveries.append(delivery)
            self._changed.notify_all()

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        if not isinstance(data, LoginPassword):
            return AuthResult(success=False, handled=False)
        assert self.username is not None and self.password is not None
        success = hmac.compare_digest(data.login, self.username.encode()) and hmac.compare_digest(
            data.password, self.password.encode()
        )
        return AuthResult(success=success, handled=False, auth_data=data)
