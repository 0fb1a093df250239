"""The base of every service's Flask app: sessions, CSRF, health, metrics, logs, errors."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from flask import Blueprint, Flask, Response, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError, CSRFProtect
from jinja2 import ChoiceLoader, FileSystemLoader
from kombu import Connection
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from sqlalchemy.exc import SQLAlchemyError
from structlog.contextvars import bind_contextvars, clear_contextvars
from werkzeug.exceptions import HTTPException

from shared.business_hours import BusinessCalendar
from shared.config import Settings
from shared.db import Database
from shared.logging import configure_logging, get_logger, new_correlation_id
from shared.secrets import session_secret
from shared.web.auth import current_staff, init_auth, wants_json
from shared.web.staff_language import layout_context

SHARED_TEMPLATES = Path(__file__).parent / "templates"
CORRELATION_HEADER = "X-Correlation-ID"

log = get_logger(__name__)


COMPANY_CALENDAR = BusinessCalendar()
"""Whose clock staff pages show moments on."""


def create_service_app(
    import_name: str,
    settings: Settings,
    database: Database,
    *,
    bus_database: Database | None = None,
) -> Flask:
    """Build a service's app; the service then registers its own blueprints.

    ``bus_database`` is the embedded bus's store, checked by /readyz when the
    service runs without RabbitMQ.
    """
    configure_logging()
    app = Flask(import_name)
    secure = settings.production
    app.config.update(
        SECRET_KEY=session_secret(settings.data_dir, settings.production),
        SESSION_COOKIE_NAME="__Host-cortesia" if secure else "cortesia_session",
        SESSION_COOKIE_PATH="/",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Lax",
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=16 * 1024 * 1024,
    )
    app.extensions["cortesia.settings"] = settings
    app.extensions["cortesia.database"] = database
    app.jinja_loader = ChoiceLoader([app.jinja_loader, FileSystemLoader(SHARED_TEMPLATES)])  # type: ignore[list-item]
    app.jinja_env.globals["service_name"] = settings.service
    app.context_processor(layout_context)
    app.jinja_env.filters["company_time"] = company_time
    CSRFProtect(app)
    init_auth(app)
    _install_request_context(app)
    _install_error_pages(app)
    app.register_blueprint(_health_blueprint(settings, database, bus_database))
    return app


def company_time(moment: datetime | None, pattern: str = "%d/%m/%Y %H:%M") -> str:
    """A stored moment as staff read it: on the company's clock (São Paulo), not UTC's.
    SQLite hands moments back naive; they are stored in UTC."""
    if moment is None:
        return ""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(COMPANY_CALENDAR.zone).strftime(pattern)


def _install_request_context(app: Flask) -> None:
    registry = CollectorRegistry()
    app.extensions["cortesia.metrics"] = registry
    requests = Counter(
        "http_requests_total",
        "HTTP requests handled",
        ["service", "method", "endpoint", "status"],
        registry=registry,
    )
    latency = Histogram(
        "http_request_duration_seconds",
        "Time to answer an HTTP request",
        ["service", "endpoint"],
        registry=registry,
    )
    service = app.extensions["cortesia.settings"].service

    @app.before_request
    def start_request() -> None:
        clear_contextvars()
        g.correlation_id = request.headers.get(CORRELATION_HEADER) or new_correlation_id()
        g.started = time.perf_counter()
        bind_contextvars(correlation_id=g.correlation_id, service=service)

    @app.after_request
    def finish_request(response: Response) -> Response:
        endpoint = request.endpoint or "unmatched"
        requests.labels(service, request.method, endpoint, str(response.status_code)).inc()
        latency.labels(service, endpoint).observe(
            time.perf_counter() - g.get("started", time.perf_counter())
        )
        response.headers[CORRELATION_HEADER] = g.get("correlation_id", "")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response


def _error_response(status: int, title: str, message: str) -> Any:
    if wants_json():
        return jsonify(error=title, message=message), status
    return render_template("error.html", status=status, title=title, message=message), status


def _install_error_pages(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def csrf_failed(error: CSRFError) -> Any:
        return _error_response(
            400, "Form expired", f"{error.description} Reload the page and try again."
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        return _error_response(error.code or 500, error.name, error.description or "")

    @app.errorhandler(Exception)
    def unexpected(error: Exception) -> Any:
        log.exception("request.failed")
        return _error_response(
            500, "Something went wrong", "The error was logged; please try again."
        )


def _health_blueprint(
    settings: Settings, database: Database, bus_database: Database | None
) -> Blueprint:
    health = Blueprint("health", __name__)

    @health.get("/healthz")
    def healthz() -> Any:
        return jsonify(status="ok", service=settings.service)

    @health.get("/readyz")
    def readyz() -> Any:
        checks: dict[str, str] = {}
        try:
            database.ping()
            checks["database"] = "ok"
        except SQLAlchemyError as error:
            checks["database"] = f"unreachable: {type(error).__name__}"
        checks["bus"] = _check_bus(settings, bus_database)
        ready = all(value == "ok" for value in checks.values())
        return jsonify(status="ready" if ready else "not ready", checks=checks), (
            200 if ready else 503
        )

    @health.get("/api/session")
    def who_am_i() -> Any:
        """The signed-in staff member, as every service sees the shared session."""
        staff = current_staff()
        if staff is None:
            return jsonify(error="unauthorized", message="No staff member is signed in."), 401
        return jsonify(id=staff.id, name=staff.name, email=staff.email, role=staff.role)

    @health.get("/metrics")
    def metrics() -> Response:
        from flask import current_app

        return Response(
            generate_latest(current_app.extensions["cortesia.metrics"]),
            mimetype=CONTENT_TYPE_LATEST,
        )

    return health


def _check_bus(settings: Settings, bus_database: Database | None) -> str:
    if settings.amqp_url is None:
        if bus_database is None:
            return "embedded bus not running"
        try:
            bus_database.ping()
        except SQLAlchemyError as error:
            return f"unreachable: {type(error).__name__}"
        return "ok"
    try:
        with Connection(settings.amqp_url, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as error:
        return f"unreachable: {type(error).__name__}"
    return "ok"
