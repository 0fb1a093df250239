"""The gateway without Docker: every service's UI on one origin, as nginx does in compose.

    /tickets/...  ─►  http://127.0.0.1:8101/...   (prefix stripped, X-Forwarded-Prefix: /tickets)
    /billing/...  ─►  http://127.0.0.1:8102/...
    ...

One origin means one session cookie for the whole platform, and links that work
in every service. A service that is down answers 502 without holding up the
others. The rules follow ``infra/gateway/nginx.conf``: ``/`` goes to the desk,
``/gateway-healthz`` answers for the gateway itself, the correlation id is passed
on (or made), and the ``X-Forwarded-*`` headers tell each service where it lives.
"""

from __future__ import annotations

import http.client
import uuid
from collections.abc import Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import urlsplit

from shared.logging import get_logger

log = get_logger(__name__)

HOP_BY_HOP = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
    }
)
CHUNK = 64 * 1024
UPSTREAM_TIMEOUT_SECONDS = 60
MAX_BODY_BYTES = 16 * 1024 * 1024
"""As nginx's ``client_max_body_size``: attachments are limited to 10 MiB by the desk."""

StartResponse = Any


class Gateway:
    """A WSGI app routing ``/<service>/`` to each service's web process."""

    def __init__(self, upstreams: Mapping[str, str]) -> None:
        self.upstreams = {name: urlsplit(url) for name, url in upstreams.items()}

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path: str = environ.get("PATH_INFO") or "/"
        if path == "/":
            return _answer(start_response, "302 Found", b"", [("Location", "/tickets/")])
        if path == "/gateway-healthz":
            return _answer(start_response, "200 OK", b"ok\n", [("Content-Type", "text/plain")])
        service, _, rest = path.lstrip("/").partition("/")
        if service not in self.upstreams:
            return _answer(start_response, "404 Not Found", b"no such service\n")
        if not rest and not path.endswith("/"):
            return _answer(start_response, "301 Moved Permanently", b"", [("Location", path + "/")])
        return self._forward(environ, start_response, service, "/" + rest)

    def _forward(
        self, environ: dict[str, Any], start_response: StartResponse, service: str, path: str
    ) -> Iterable[bytes]:
        length = int(environ.get("CONTENT_LENGTH") or 0)
        if length > MAX_BODY_BYTES:
            return _answer(start_response, "413 Request Entity Too Large", b"request too large\n")
        body = environ["wsgi.input"].read(length) if length else b""
        query = environ.get("QUERY_STRING")
        target = f"{path}?{query}" if query else path
        upstream = self.upstreams[service]
        connection = http.client.HTTPConnection(
            upstream.hostname or "127.0.0.1", upstream.port, timeout=UPSTREAM_TIMEOUT_SECONDS
        )
        try:
            connection.request(
                environ["REQUEST_METHOD"], target, body, _request_headers(environ, service)
            )
            response = connection.getresponse()
        except OSError as error:
            connection.close()
            log.warning("gateway.upstream_unreachable", service=service, error=str(error))
            refusal = f"{service} is not answering\n".encode()
            return _answer(start_response, "502 Bad Gateway", refusal)
        headers = [
            (name, value) for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP
        ]
        start_response(f"{response.status} {response.reason}", headers)
        return _stream(response, connection)


def _request_headers(environ: dict[str, Any], service: str) -> dict[str, str]:
    headers = {
        key[5:].replace("_", "-").title(): value
        for key, value in environ.items()
        if key.startswith("HTTP_") and key[5:].replace("_", "-").lower() not in HOP_BY_HOP
    }
    for key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
        if environ.get(key):
            headers[key.replace("_", "-").title()] = environ[key]
    host = environ.get("HTTP_HOST") or f"{environ['SERVER_NAME']}:{environ['SERVER_PORT']}"
    client = environ.get("REMOTE_ADDR", "")
    earlier = environ.get("HTTP_X_FORWARDED_FOR")
    headers.update(
        {
            "Host": host,
            "X-Forwarded-Host": host,
            "X-Forwarded-For": f"{earlier}, {client}" if earlier else client,
            "X-Forwarded-Proto": environ.get("wsgi.url_scheme", "http"),
            "X-Forwarded-Prefix": f"/{service}",
            "X-Correlation-Id": environ.get("HTTP_X_CORRELATION_ID") or uuid.uuid4().hex,
            "Connection": "close",
        }
    )
    return headers


def _stream(
    response: http.client.HTTPResponse, connection: http.client.HTTPConnection
) -> Iterator[bytes]:
    try:
        while chunk := response.read(CHUNK):
            yield chunk
    finally:
        connection.close()


def _answer(
    start_response: StartResponse,
    status: str,
    body: bytes,
    headers: list[tuple[str, str]] | None = None,
) -> list[bytes]:
    start_response(status, [*(headers or []), ("Content-Length", str(len(body)))])
    return [body]
