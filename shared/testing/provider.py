"""A real HTTP server speaking the SMS and chat providers' protocol, for tests and local runs.

The protocol: ``POST /v1/messages`` with a JSON body ``{"channel", "to", "text",
"reference"}``, ``Authorization: Bearer <token>`` and an ``Idempotency-Key``
header; the answer to an accepted message is 2xx ``{"id": "..."}``, errors are
``{"error": "..."}``. A key seen before gets the first answer's id again, as a
real provider's idempotency does, so a retried message is not sent twice.
"""

from __future__ import annotations

import hmac
import itertools
import json
import threading
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, cast

from shared.testing.servers import ServerUnavailable, free_port

PATH = "/v1/messages"
FIELDS = ("channel", "to", "text", "reference")


@dataclass(frozen=True)
class ProviderRequest:
    method: str
    path: str
    headers: dict[str, str]
    """Lower-cased names."""
    body: Any
    """The JSON body, or None when it was not JSON."""
    status: int
    """What the provider answered."""


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, provider: FakeProvider) -> None:
        self.provider = provider
        super().__init__((provider.host, provider.port), _RequestHandler)


class _RequestHandler(BaseHTTPRequestHandler):
    # HTTP/1.0: one request a connection, so that stop() leaves no connection served.
    server: _Server

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length > 0 else b""
        try:
            body: Any = json.loads(raw)
        except ValueError:
            body = None
        headers = {name.lower(): value for name, value in self.headers.items()}
        answer = self.server.provider._answer(self.path, headers, body)
        self.server.provider._record(
            ProviderRequest("POST", self.path, headers, body, answer.status)
        )
        self._reply(answer)

    def do_GET(self) -> None:
        self._reply(Answer(405, {"error": "POST a message"}))

    def _reply(self, answer: Answer) -> None:
        payload = json.dumps(answer.body).encode()
        self.send_response(answer.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        if answer.status == 401:
            self.send_header("WWW-Authenticate", "Bearer")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # the requests are recorded; stderr stays for the tests' own output


class FakeProvider:
    """The provider on ``url``; ``token`` None accepts requests without one."""

    def __init__(
        self,
        *,
        token: str | None = "provider-token",
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.token = token
        self.host = host
        self.port = port if port is not None else free_port()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._requests: list[ProviderRequest] = []
        self._accepted: list[dict[str, Any]] = []
        self._by_key: dict[str, str] = {}
        self._failures: deque[Answer] = deque()
        self._refused: dict[str, Answer] = {}
        self._ids = itertools.count(1)

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}{PATH}"

    # -- running ------------------------------------------------------------

    def start(self) -> FakeProvider:
        if self._server is not None:
            raise RuntimeError(f"the provider on port {self.port} is already running")
        try:
            server = _Server(self)
        except OSError as error:
            raise ServerUnavailable(
                f"the provider cannot listen on {self.host}:{self.port}: {error}"
            ) from None
        # A short poll keeps stop() quick: shutdown waits for the loop to look up.
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        self._server, self._thread = server, thread
        return self

    def stop(self) -> None:
        server, thread = self._server, self._thread
        self._server = self._thread = None
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    def __enter__(self) -> FakeProvider:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    # -- what it received -------------------------------------------------------

    @property
    def requests(self) -> list[ProviderRequest]:
        """Every request, in order, answered or not."""
        with self._lock:
            return list(self._requests)

    @property
    def messages(self) -> list[dict[str, Any]]:
        """The messages accepted, once each, with the ``id`` they were given."""
        with self._lock:
            return [dict(message) for message in self._accepted]

    def clear(self) -> None:
        with self._lock:
            self._requests.clear()
            self._accepted.clear()
            self._by_key.clear()
            self._failures.clear()
            self._refused.clear()

    # -- faults -------------------------------------------------------------

    def fail_next(self, count: int = 1, status: int = 503, error: str = "try again later") -> None:
        """Answer the next ``count`` requests with ``status``, whatever they are."""
        with self._lock:
            self._failures.extend(Answer(status, {"error": error}) for _ in range(count))

    def refuse_recipient(
        self, to: str, status: int = 400, error: str = "not a reachable recipient"
    ) -> None:
        """Answer ``status`` to every message for ``to`` until ``clear()``."""
        with self._lock:
            self._refused[to] = Answer(status, {"error": error})

    # -- answering ------------------------------------------------------------

    def _record(self, request: ProviderRequest) -> None:
        with self._lock:
            self._requests.append(request)

    def _answer(self, path: str, headers: dict[str, str], body: Any) -> Answer:
        with self._lock:
            if path != PATH:
                return Answer(404, {"error": f"no such endpoint {path}"})
            if self.token is not None and not hmac.compare_digest(
                headers.get("authorization", "").encode(), f"Bearer {self.token}".encode()
            ):
                return Answer(401, {"error": "invalid or missing bearer token"})
            if self._failures:
                return self._failures.popleft()
            key = headers.get("idempotency-key")
            if key and key in self._by_key:
                return Answer(200, {"id": self._by_key[key], "duplicate": True})
            problem = _invalid(body)
            if problem:
                return Answer(400, {"error": problem})
            message = cast(dict[str, Any], body)
            if message["to"] in self._refused:
                return self._refused[message["to"]]
            provider_id = f"{message['channel']}-{next(self._ids):06d}"
            if key:
                self._by_key[key] = provider_id
            self._accepted.append({**message, "id": provider_id})
            return Answer(202, {"id": provider_id})


def _invalid(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "the body must be a JSON object"
    for name in FIELDS:
        if not isinstance(body.get(name), str) or not body[name]:
            return f"{name} must be a non-empty string"
    return None
