"""Email over SMTP, on one connection kept open across sends.

Opening an SMTP session costs several round trips (greeting, EHLO, STARTTLS
handshake, EHLO again, AUTH) before the first message; a notification burst
pays them once. The connection is opened on the first send and kept; a server
that closed it meanwhile (idle timeout, restart) costs one reconnection. A
retried message keeps its Message-ID, so a receiver can drop the copy when a
connection broke after the server had already taken it.
"""

from __future__ import annotations

import contextlib
import os
import smtplib
import ssl
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal, cast, get_args

from services.notify.channels.base import DeliveryError, Outgoing
from services.notify.channels.mime import email_bytes, parse_address
from shared.logging import get_logger

log = get_logger(__name__)

Security = Literal["none", "starttls", "tls"]
"""``none``: plain SMTP; ``starttls``: upgraded after EHLO; ``tls``: implicit TLS (port 465)."""

DEFAULT_PORTS: Mapping[str, int] = {"none": 25, "starttls": 587, "tls": 465}

# The server ended the session: a kept connection it closed shows up as one of these on
# the next command, and a 421 reply means it is about to close.
_DROPPED: tuple[type[BaseException], ...] = (
    smtplib.SMTPServerDisconnected,
    ConnectionError,
    ssl.SSLEOFError,
    ssl.SSLZeroReturnError,
)
CLOSING = 421

# Replies that say the session lacks TLS or AUTH: a configuration problem of the channel,
# not a verdict on the message, so the message waits for the configuration to be fixed.
_SESSION_REFUSALS = frozenset({530, 538})

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})


def _parse_bool(env: Mapping[str, str], key: str, default: bool) -> bool:
    raw = env.get(key)
    if raw is None or not raw.strip():
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"{key} must be true or false, got {raw!r}")


@dataclass(frozen=True, kw_only=True)
class SmtpSettings:
    host: str
    port: int
    security: Security = "starttls"
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 30
    """Seconds to wait for the server, per connection attempt and per reply."""
    from_address: str
    from_name: str | None = None
    verify_tls: bool = True
    ca_file: str | None = None
    """A PEM file of CAs to trust instead of the system's (a private relay's own CA)."""

    def __post_init__(self) -> None:
        if not self.host:
            raise ValueError("the SMTP host is empty")
        if not 0 < self.port < 65536:
            raise ValueError(f"the SMTP port must be between 1 and 65535, got {self.port}")
        if self.security not in get_args(Security):
            raise ValueError(
                f"the SMTP security must be one of {', '.join(get_args(Security))}, "
                f"got {self.security!r}"
            )
        if self.timeout <= 0:
            raise ValueError(f"the SMTP timeout must be positive, got {self.timeout}")
        if bool(self.username) != bool(self.password):
            raise ValueError("the SMTP username and password go together: set both or neither")
        parse_address(self.from_address)

    @property
    def where(self) -> str:
        return f"{self.host}:{self.port}"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        """Read ``CORTESIA_SMTP_*``; the port defaults to the usual one for the security."""
        env = os.environ if env is None else env

        def get(key: str) -> str | None:
            value = env.get(key)
            return value.strip() if value and value.strip() else None

        host = get("CORTESIA_SMTP_HOST")
        if host is None:
            raise ValueError("CORTESIA_SMTP_HOST is not set: the SMTP relay to send email through")
        from_address = get("CORTESIA_SMTP_FROM")
        if from_address is None:
            raise ValueError("CORTESIA_SMTP_FROM is not set: the address email is sent from")
        security = (get("CORTESIA_SMTP_SECURITY") or "starttls").lower()
        if security not in get_args(Security):
            raise ValueError(
                f"CORTESIA_SMTP_SECURITY must be one of {', '.join(get_args(Security))}, "
                f"got {env['CORTESIA_SMTP_SECURITY']!r}"
            )
        raw_port = get("CORTESIA_SMTP_PORT")
        if raw_port is None:
            port = DEFAULT_PORTS[security]
        else:
            try:
                port = int(raw_port)
            except ValueError:
                raise ValueError(
                    f"CORTESIA_SMTP_PORT must be a port number, got {raw_port!r}"
                ) from None
            if not 0 < port < 65536:
                raise ValueError(f"CORTESIA_SMTP_PORT must be between 1 and 65535, got {port}")
        try:
            return cls(
                host=host,
                port=port,
                security=cast(Security, security),
                username=get("CORTESIA_SMTP_USERNAME"),
                password=env.get("CORTESIA_SMTP_PASSWORD") or None,
                from_address=from_address,
                from_name=get("CORTESIA_SMTP_FROM_NAME"),
                verify_tls=_parse_bool(env, "CORTESIA_SMTP_VERIFY_TLS", True),
                ca_file=get("CORTESIA_SMTP_CA_FILE"),
            )
        except ValueError as error:
            raise ValueError(f"CORTESIA_SMTP_* settings: {error}") from None


def _reply_text(reply: bytes | str) -> str:
    text = reply.decode("utf-8", "replace") if isinstance(reply, bytes) else reply
    return " ".join(text.split()) or "(no text)"


def _timed_out(error: BaseException) -> bool:
    # smtplib reports a read that timed out as a lost connection; the cause tells them apart.
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, TimeoutError):
            return True
        cause = cause.__cause__ or cause.__context__
    return False


def _os_error_text(error: OSError, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g}s"
    return error.strerror or str(error) or type(error).__name__


class SmtpChannel:
    """The ``email`` channel. One instance serves one thread at a time (sends are serialised)."""

    name = "email"

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._sender = parse_address(settings.from_address, settings.from_name or "")
        self._tls = self._tls_context() if settings.security != "none" else None
        self._connection: smtplib.SMTP | None = None
        self._lock = threading.Lock()

    def _tls_context(self) -> ssl.SSLContext:
        try:
            context = ssl.create_default_context(cafile=self.settings.ca_file)
        except (OSError, ssl.SSLError) as error:
            raise ValueError(
                f"cannot load the SMTP CA file {self.settings.ca_file}: {error}"
            ) from None
        if not self.settings.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context

    # -- sending ------------------------------------------------------------

    def send(self, message: Outgoing) -> str:
        """Deliver ``message``; return its Message-ID, which the server took it under."""
        if message.channel != self.name:
            raise DeliveryError(
                f"the email channel cannot deliver a {message.channel!r} message", permanent=True
            )
        try:
            mail = email_bytes(message, self._sender)
        except ValueError as error:
            raise DeliveryError(f"cannot build the email: {error}", permanent=True) from None
        with self._lock:
            self._deliver(mail, message.to.strip())
        return message.message_id

    def _deliver(self, mail: bytes, recipient: str) -> None:
        settings = self.settings
        # An accented address needs the server's SMTPUTF8 (the headers then go in UTF-8).
        international = not (settings.from_address + recipient).isascii()
        options = ("SMTPUTF8", "BODY=8BITMIME") if international else ()
        for attempt in (1, 2):
            kept = self._connection is not None
            connection = self._connect()
            try:
                if international and not connection.has_extn("smtputf8"):
                    raise smtplib.SMTPNotSupportedError(
                        "one of the addresses needs SMTPUTF8, which the server does not offer"
                    )
                connection.sendmail(settings.from_address, [recipient], mail, options)
                return
            except smtplib.SMTPRecipientsRefused as error:
                code, reply = next(iter(error.recipients.values()))
                failure = self._refusal(code, reply)
            except smtplib.SMTPResponseException as error:
                failure = self._refusal(error.smtp_code, error.smtp_error)
            except smtplib.SMTPNotSupportedError as error:
                # Raised before anything is sent, e.g. an accented address for a server
                # without SMTPUTF8: this server will never take the message.
                raise DeliveryError(
                    f"{settings.host} cannot take this message: {error}", permanent=True
                ) from None
            except _DROPPED as error:
                if _timed_out(error):
                    # The server may still be working on the message: a second copy now
                    # would more likely duplicate it than rescue it.
                    self._discard()
                    raise DeliveryError(
                        f"no answer from {settings.where} within {settings.timeout:g}s "
                        "during delivery",
                        permanent=False,
                    ) from None
                failure = DeliveryError(
                    f"{settings.where} closed the connection during delivery ({error})",
                    permanent=False,
                )
                self._discard()
            except OSError as error:
                self._discard()
                raise DeliveryError(
                    f"delivery through {settings.where} failed: "
                    f"{_os_error_text(error, settings.timeout)}",
                    permanent=False,
                ) from None
            if self._connection is not None and self._closed(connection):
                self._discard()
            if self._connection is None and kept and attempt == 1 and not failure.permanent:
                # The kept connection had gone stale; a fresh one gives the message its chance.
                log.info("smtp.reconnecting", server=settings.where, reason=failure.reason)
                continue
            raise failure
        raise AssertionError("unreachable")  # pragma: no cover

    def _refusal(self, code: int, reply: bytes | str) -> DeliveryError:
        reason = f"SMTP {code} from {self.settings.host}: {_reply_text(reply)}"
        if code in _SESSION_REFUSALS:
            reason += f" (check the security and credentials configured for {self.settings.where})"
            return DeliveryError(reason, permanent=False)
        return DeliveryError(reason, permanent=500 <= code < 600)

    @staticmethod
    def _closed(connection: smtplib.SMTP) -> bool:
        # smtplib drops the socket itself on a 421 or a lost connection.
        return connection.sock is None

    # -- the connection -------------------------------------------------------

    def _connect(self) -> smtplib.SMTP:
        if self._connection is None:
            self._connection = self._open()
        return self._connection

    def _open(self) -> smtplib.SMTP:
        connection = self._reach()
        try:
            self._set_up(connection)
        except BaseException:
            with contextlib.suppress(Exception):
                connection.close()
            raise
        log.info("smtp.connected", server=self.settings.where, security=self.settings.security)
        return connection

    def _reach(self) -> smtplib.SMTP:
        """Connect and read the greeting (the constructors do both, and STARTTLS later
        checks the certificate against the host name they were given)."""
        settings, where = self.settings, self.settings.where
        try:
            if settings.security == "tls":
                return smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout, context=self._tls
                )
            return smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout)
        except ssl.SSLError as error:
            raise self._tls_failure(error) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(
                f"{where} refused the session: SMTP {error.smtp_code} "
                f"{_reply_text(error.smtp_error)}",
                permanent=False,
            ) from None
        except smtplib.SMTPServerDisconnected as error:
            if _timed_out(error):
                raise DeliveryError(
                    f"no greeting from {where} within {settings.timeout:g}s", permanent=False
                ) from None
            raise DeliveryError(
                f"{where} closed the connection before greeting", permanent=False
            ) from None
        except OSError as error:
            raise DeliveryError(
                f"cannot connect to {where}: {_os_error_text(error, settings.timeout)}",
                permanent=False,
            ) from None

    def _set_up(self, connection: smtplib.SMTP) -> None:
        settings, where = self.settings, self.settings.where
        try:
            connection.ehlo_or_helo_if_needed()
            if settings.security == "starttls":
                connection.starttls(context=self._tls)
                connection.ehlo()
            if settings.username:
                connection.login(settings.username, settings.password or "")
        except ssl.SSLError as error:
            raise self._tls_failure(error) from None
        except smtplib.SMTPAuthenticationError as error:
            raise DeliveryError(
                f"{settings.host} refused the login of {settings.username!r}: "
                f"SMTP {error.smtp_code} {_reply_text(error.smtp_error)} "
                "(check the SMTP username and password)",
                permanent=False,
            ) from None
        except smtplib.SMTPNotSupportedError as error:
            wanted = "STARTTLS" if "STARTTLS" in str(error) else "AUTH"
            raise DeliveryError(
                f"{where} does not offer {wanted} ({error}): check the security "
                f"configured for it (now {settings.security!r})",
                permanent=False,
            ) from None
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(
                f"{where} refused the session setup: SMTP {error.smtp_code} "
                f"{_reply_text(error.smtp_error)}",
                permanent=False,
            ) from None
        except smtplib.SMTPException as error:  # e.g. no AUTH mechanism in common
            raise DeliveryError(
                f"session setup with {where} failed: {error}", permanent=False
            ) from None
        except OSError as error:
            raise DeliveryError(
                f"session setup with {where} failed: {_os_error_text(error, settings.timeout)}",
                permanent=False,
            ) from None

    def _tls_failure(self, error: ssl.SSLError) -> DeliveryError:
        where = self.settings.where
        if isinstance(error, ssl.SSLCertVerificationError):
            return DeliveryError(
                f"TLS with {where} failed: its certificate is not trusted "
                f"({error.verify_message}); configure the CA file that signed it, "
                "or turn TLS verification off for a private relay",
                permanent=False,
            )
        return DeliveryError(f"TLS with {where} failed: {error.reason or error}", permanent=False)

    def _discard(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def close(self) -> None:
        """Say QUIT and close the connection; a later send opens a new one."""
        with self._lock:
            connection, self._connection = self._connection, None
            if connection is None:
                return
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                pass
            finally:
                connection.close()
