"""The registry of event schemas: the contract between producers and consumers.

Producers dump strictly: a payload that does not validate never reaches the
outbox. Consumers load tolerantly: unknown fields are dropped, so a producer
may add optional fields without breaking anyone; anything that does not
validate is rejected (and the consumer parks it).
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, RAISE, Schema, ValidationError

from shared.events.envelope import Envelope, InvalidEvent, parse_event_type


class EventRegistry:
    def __init__(self) -> None:
        self._schemas: dict[str, type[Schema]] = {}
        # Schema instances, built once per type and use (producers' strict ones,
        # consumers' tolerant ones): building one costs more than a dump or a load.
        self._strict: dict[str, Schema] = {}
        self._tolerant: dict[str, Schema] = {}

    def register(self, event_type: str) -> Any:
        """Class decorator: ``@REGISTRY.register("billing.invoice_issued.v1")``."""
        parse_event_type(event_type)

        def decorate(schema: type[Schema]) -> type[Schema]:
            if event_type in self._schemas:
                raise ValueError(f"event type {event_type} registered twice")
            self._schemas[event_type] = schema
            return schema

        return decorate

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._schemas

    def event_types(self) -> list[str]:
        return sorted(self._schemas)

    def schema_for(self, event_type: str) -> type[Schema]:
        try:
            return self._schemas[event_type]
        except KeyError:
            raise InvalidEvent(f"unknown event type {event_type!r}") from None

    def dump(self, event_type: str, payload: dict[str, Any]) -> dict[str, Any]:
        """Turn a producer's payload (Python values: dates, ints...) into its JSON form,
        refusing unknown fields and anything the consumers' schema would reject."""
        schema = self._strict.get(event_type)
        if schema is None:
            schema = self._strict[event_type] = self.schema_for(event_type)(unknown=RAISE)
        unknown = sorted(set(payload) - set(schema.fields))
        if unknown:
            raise InvalidEvent(f"{event_type} payload has unknown fields: {unknown}")
        try:
            dumped: dict[str, Any] = schema.dump(payload)
        except (TypeError, ValueError, AttributeError) as error:
            raise InvalidEvent(f"{event_type} payload cannot be serialised: {error}") from None
        errors = schema.validate(dumped)
        if errors:
            raise InvalidEvent(f"{event_type} payload invalid: {errors}")
        return dumped

    def load(self, envelope: Envelope) -> dict[str, Any]:
        """Validate a received payload tolerantly; raise InvalidEvent if it does not fit."""
        schema = self._tolerant.get(envelope.event_type)
        if schema is None:
            schema = self._tolerant[envelope.event_type] = self.schema_for(envelope.event_type)(
                unknown=EXCLUDE
            )
        try:
            return schema.load(envelope.payload)
        except ValidationError as error:
            raise InvalidEvent(f"{envelope.event_type} payload invalid: {error.messages}") from None


REGISTRY = EventRegistry()

# Importing the contracts fills the registry.
from shared.events import contracts  # noqa: E402, F401
