"""What every service's REST API shares: staff-only blueprints that answer errors as JSON,
and an OpenAPI document at ``/api/openapi.json``.

Errors are ``{"error", "message"}``, with ``"errors"`` per field for input that
does not validate; a service maps its own refusals to 404 or 422.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from flask import Flask, jsonify
from flask_smorest import Api, Blueprint
from marshmallow import fields
from werkzeug.exceptions import HTTPException

from shared.web.auth import roles_required

Refusals = dict[type[Exception], int]
"""A service's own exceptions and the status each answers with."""


class UtcDateTime(fields.DateTime):
    """A moment in ISO 8601 with its UTC offset, whichever database it was read from."""

    def _serialize(self, value: datetime | None, attr: Any, obj: Any, **kwargs: Any) -> Any:
        # SQLite hands timezone-aware columns back naive; they are stored in UTC.
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


def staff_blueprint(
    name: str,
    import_name: str,
    url_prefix: str,
    description: str,
    *,
    roles: tuple[str, ...],
    refusals: Refusals,
) -> Blueprint:
    """A resource for signed-in staff of ``roles`` (the owner always), errors as JSON."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, description=description)

    @roles_required(*roles)
    def guard() -> None:
        return None

    blueprint.before_request(guard)
    json_errors(blueprint, refusals)
    return blueprint


def json_errors(blueprint: Blueprint, refusals: Refusals) -> None:
    for exception, status in refusals.items():
        blueprint.register_error_handler(exception, _refusal(status))

    @blueprint.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        body: dict[str, Any] = {"error": error.name, "message": error.description or ""}
        data = getattr(error, "data", None) or {}
        if "messages" in data:
            # webargs' validation errors, keyed by location then field.
            body["message"] = "The request has invalid fields; see errors."
            body["errors"] = data["messages"]
        return jsonify(body), error.code or 500


def _refusal(status: int) -> Callable[[Exception], Any]:
    title = "not found" if status == 404 else "refused"

    def refused(error: Exception) -> Any:
        message = error.args[0] if isinstance(error, LookupError) and error.args else str(error)
        return jsonify(error=title, message=message), status

    return refused


class ServiceApi(Api):
    def _register_error_handlers(self) -> None:
        # Each API blueprint answers its own errors as JSON; the app keeps the
        # platform's error pages for everything else.
        return None


def init_service_api(app: Flask, title: str, blueprints: list[Blueprint]) -> Api:
    app.config.update(
        API_TITLE=title,
        API_VERSION="1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api",
        OPENAPI_JSON_PATH="openapi.json",
    )
    api = ServiceApi(app)
    for blueprint in blueprints:
        api.register_blueprint(blueprint)
    return api
