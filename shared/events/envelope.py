"""The envelope every event travels in, and its JSON wire form."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from shared import clock

EVENT_TYPE_PATTERN = re.compile(
    r"^(?P<producer>[a-z][a-z0-9_]*)\.(?P<name>[a-z][a-z0-9_]*)\.v(?P<version>[1-9][0-9]*)$"
)
CONTENT_TYPE = "application/json"


class InvalidEvent(ValueError):
    """A message that cannot become an event: undecodable, or failing its schema."""


def parse_event_type(event_type: str) -> tuple[str, str, int]:
    match = EVENT_TYPE_PATTERN.match(event_type)
    if not match:
        raise InvalidEvent(f"event type {event_type!r} is not '<producer>.<event>.v<N>'")
    return match["producer"], match["name"], int(match["version"])


@dataclass(frozen=True)
class Envelope:
    event_type: str
    producer: str
    payload: dict[str, Any]
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    occurred_at: datetime = field(default_factory=clock.now)
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None

    def occurred_on(self, timezone: str) -> date:
        """The day the event occurred on the calendar of ``timezone`` (a customer's day,
        not UTC's: after 21:00 in São Paulo, UTC is already on the next); UTC's day for a
        zone not known here."""
        moment = self.occurred_at
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        try:
            return moment.astimezone(ZoneInfo(timezone)).date()
        except (ZoneInfoNotFoundError, ValueError):
            return moment.astimezone(UTC).date()

    def to_json(self) -> bytes:
        """The wire form: what ``EnvelopeSchema`` dumps, built directly (a batch job writes
        thousands of these a second, and the payload is already in its JSON form)."""
        occurred_at = self.occurred_at
        if occurred_at.tzinfo is None:
            occurred_at = occurred_at.replace(tzinfo=UTC)
        wire = {
            "event_id": str(uuid.UUID(str(self.event_id))),
            "event_type": self.event_type,
            "occurred_at": occurred_at.isoformat(),
            "producer": self.producer,
            "correlation_id": self.correlation_id,
            "causation_id": self.causation_id,
            "payload": self.payload,
        }
        return json.dumps(wire, separators=(",", ":")).encode()


class EnvelopeSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    event_id = fields.UUID(required=True)
    event_type = fields.String(required=True, validate=validate.Regexp(EVENT_TYPE_PATTERN))
    occurred_at = fields.AwareDateTime(required=True, default_timezone=UTC)
    producer = fields.String(required=True, validate=validate.Length(min=1, max=40))
    correlation_id = fields.String(required=True, validate=validate.Length(min=1, max=100))
    causation_id = fields.String(load_default=None, allow_none=True)
    payload = fields.Dict(required=True, keys=fields.String())


def wire_headers(envelope: dict[str, Any]) -> dict[str, str]:
    """AMQP headers mirroring an envelope's JSON form, so tools can route and trace
    without parsing bodies."""
    headers = {
        "event-type": envelope["event_type"],
        "producer": envelope["producer"],
        "correlation-id": envelope["correlation_id"],
    }
    if envelope.get("causation_id"):
        headers["causation-id"] = envelope["causation_id"]
    return headers


# One instance for every message: building a schema costs more than using it, and
# marshmallow schemas keep no state between load/dump calls.
_ENVELOPE_SCHEMA = EnvelopeSchema()


def decode_envelope(body: bytes | str) -> Envelope:
    """Parse a wire message into an envelope (payload not yet validated)."""
    try:
        raw = json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InvalidEvent(f"body is not JSON: {error}") from None
    if not isinstance(raw, dict):
        raise InvalidEvent("body is not a JSON object")
    try:
        data = _ENVELOPE_SCHEMA.load(raw)
    except ValidationError as error:
        raise InvalidEvent(f"envelope invalid: {error.messages}") from None
    producer, _, _ = parse_event_type(data["event_type"])
    if producer != data["producer"]:
        raise InvalidEvent(
            f"event type {data['event_type']!r} does not belong to producer {data['producer']!r}"
        )
    return Envelope(
        event_id=str(data["event_id"]),
        event_type=data["event_type"],
        occurred_at=data["occurred_at"],
        producer=data["producer"],
        correlation_id=data["correlation_id"],
        causation_id=data["causation_id"],
        payload=data["payload"],
    )
