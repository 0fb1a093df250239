"""SMS and chat messages through an HTTP provider.

One protocol serves both: ``POST`` a JSON body ``{"channel", "to", "text",
"reference"}`` with a bearer token; a 2xx answer carries the provider's
``{"id": ...}``. The notification's Message-ID goes as the ``Idempotency-Key``,
so a retry after a lost answer returns the first delivery's id instead of
sending the text twice.
"""

from __future__ import annotations

import http.client
import json
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any

from services.notify.channels.base import DeliveryError, Outgoing

PROVIDER_CHANNELS = ("sms", "chat")

# Client errors that say "not now" rather than "never": a timeout on the provider's side,
# a request sent too early, and rate limiting.
RETRYABLE_CLIENT_ERRORS = frozenset({408, 425, 429})

ERROR_TEXT_LIMIT = 300
"""Characters of a provider's error kept in the reason: enough to read, not a whole page."""


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # Following a redirect would turn the POST into a GET and lose the message; a moved
    # endpoint is a configuration to fix, reported with the status.
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _error_text(payload: bytes) -> str:
    text = payload.decode("utf-8", "replace").strip()
    try:
        document = json.loads(text)
    except ValueError:
        document = None
    if isinstance(document, dict):
        for key in ("error", "message", "detail", "title"):
            value = document.get(key)
            if isinstance(value, dict):
                value = value.get("message") or value.get("detail")
            if isinstance(value, str) and value.strip():
                text = value
                break
    text = " ".join(text.split())
    if len(text) > ERROR_TEXT_LIMIT:
        text = text[: ERROR_TEXT_LIMIT - 1] + "…"
    return text or "(no text)"


def _network_text(error: BaseException, timeout: float) -> str:
    if isinstance(error, TimeoutError):
        return f"no answer within {timeout:g}s"
    if isinstance(error, OSError):
        return error.strerror or str(error) or type(error).__name__
    return str(error) or type(error).__name__


class HttpProviderChannel:
    """The ``sms`` or ``chat`` channel of one provider endpoint; safe to share between threads."""

    def __init__(self, name: str, url: str, token: str | None, timeout: float = 10) -> None:
        if name not in PROVIDER_CHANNELS:
            raise ValueError(
                f"an HTTP provider serves {' or '.join(PROVIDER_CHANNELS)}, not {name!r}"
            )
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"the {name} provider URL must be http(s)://host/..., got {url!r}")
        if timeout <= 0:
            raise ValueError(f"the {name} provider timeout must be positive, got {timeout}")
        self.name = name
        self.url = url
        self.timeout = timeout
        self._token = token or None
        # Staff read this in the delivery log: the endpoint without any credentials in it.
        self.where = f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"
        self._opener = urllib.request.build_opener(_NoRedirects)

    def __repr__(self) -> str:
        return f"HttpProviderChannel({self.name!r}, {self.url!r})"

    def send(self, message: Outgoing) -> str:
        """Post ``message``; return the id the provider gave it."""
        if message.channel != self.name:
            raise DeliveryError(
                f"the {self.name} channel cannot deliver a {message.channel!r} message",
                permanent=True,
            )
        body = json.dumps(
            {
                "channel": self.name,
                "to": message.to,
                "text": message.text,
                "reference": message.message_id,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Accept": "application/json",
            "Idempotency-Key": message.message_id,
            "User-Agent": "cortesia-notify",
        }
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        request = urllib.request.Request(self.url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                status, payload = response.status, response.read()
        except urllib.error.HTTPError as error:
            raise self._refusal(error) from None
        except urllib.error.URLError as error:
            cause = error.reason
            text = _network_text(cause, self.timeout) if isinstance(cause, BaseException) else cause
            raise DeliveryError(
                f"cannot reach the {self.name} provider at {self.where}: {text}",
                permanent=False,
            ) from None
        except (OSError, http.client.HTTPException) as error:
            # The request may have arrived: the retry's idempotency key makes that harmless.
            raise DeliveryError(
                f"the {self.name} provider at {self.where} broke off: "
                f"{_network_text(error, self.timeout)}",
                permanent=False,
            ) from None
        return self._provider_id(status, payload)

    def _provider_id(self, status: int, payload: bytes) -> str:
        try:
            document = json.loads(payload)
        except ValueError:
            document = None
        provider_id = document.get("id") if isinstance(document, dict) else None
        if isinstance(provider_id, int) and not isinstance(provider_id, bool):
            provider_id = str(provider_id)
        if not isinstance(provider_id, str) or not provider_id:
            # It probably took the message; asking again with the same key gets its id.
            raise DeliveryError(
                f"the {self.name} provider at {self.where} answered HTTP {status} "
                f"without a message id: {_error_text(payload)}",
                permanent=False,
            )
        return provider_id

    def _refusal(self, error: urllib.error.HTTPError) -> DeliveryError:
        try:
            payload = error.read()
        except (OSError, http.client.HTTPException):
            payload = b""
        finally:
            error.close()
        code, text = error.code, _error_text(payload)
        if code in (401, 403):
            return DeliveryError(
                f"the {self.name} provider at {self.where} refused the token: HTTP {code} {text} "
                f"(check the {self.name} provider token)",
                permanent=True,
            )
        if 300 <= code < 400:
            moved = error.headers.get("Location") if error.headers else None
            return DeliveryError(
                f"the {self.name} provider at {self.where} answered HTTP {code}"
                + (f", moved to {moved}" if moved else "")
                + f": check the {self.name} provider URL",
                permanent=True,
            )
        if 400 <= code < 500 and code not in RETRYABLE_CLIENT_ERRORS:
            return DeliveryError(
                f"the {self.name} provider refused the message: HTTP {code} {text}",
                permanent=True,
            )
        return DeliveryError(
            f"the {self.name} provider at {self.where} failed: HTTP {code} {text}",
            permanent=False,
        )

    def close(self) -> None:
        """Nothing to release: every send opens its own connection."""


def provider_channels_from_env(
    env: Mapping[str, str] | None = None, timeout: float = 10
) -> dict[str, HttpProviderChannel]:
    """The channels configured by ``CORTESIA_SMS_URL``/``_TOKEN`` and ``CORTESIA_CHAT_URL``/
    ``_TOKEN``, by name; a channel whose URL is unset is left out."""
    env = os.environ if env is None else env
    channels: dict[str, HttpProviderChannel] = {}
    for name in PROVIDER_CHANNELS:
        prefix = f"CORTESIA_{name.upper()}"
        url = (env.get(f"{prefix}_URL") or "").strip()
        if not url:
            continue
        token = (env.get(f"{prefix}_TOKEN") or "").strip() or None
        try:
            channels[name] = HttpProviderChannel(name, url, token, timeout=timeout)
        except ValueError as error:
            raise ValueError(f"{prefix}_URL: {error}") from None
    return channels
