"""Declarative subscribers: one queue each, one handler per event type.

    staff_directory = Subscriber("training.staff_directory")

    @staff_directory.handles("tickets.staff_added.v1")
    def remember_staff(session, event): ...

A handler runs inside the subscriber service's database transaction, together
with the inbox record; it must do its work through ``session`` (and record any
events it causes in the outbox through the same session).
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from shared.bus.inbox import remember
from shared.db import Database
from shared.events import REGISTRY, Envelope, InvalidEvent
from shared.events.envelope import decode_envelope
from shared.logging import correlation_scope, get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class ReceivedEvent:
    envelope: Envelope
    data: dict[str, Any]
    """The payload, loaded through its schema."""

    @property
    def event_id(self) -> str:
        return self.envelope.event_id

    @property
    def event_type(self) -> str:
        return self.envelope.event_type


Handler = Callable[[Session, ReceivedEvent], None]


@dataclass
class Subscriber:
    name: str
    """``<service>.<purpose>``; also the name of its queue."""
    handlers: dict[str, Handler] = field(default_factory=dict)

    @property
    def service(self) -> str:
        return self.name.split(".", 1)[0]

    def handles(self, event_type: str) -> Callable[[Handler], Handler]:
        if event_type not in REGISTRY:
            raise ValueError(f"{self.name} subscribes to unregistered event type {event_type}")

        def decorate(handler: Handler) -> Handler:
            self.handlers[event_type] = handler
            return handler

        return decorate

    @property
    def event_types(self) -> list[str]:
        return sorted(self.handlers)


class Outcome(Enum):
    HANDLED = "handled"
    DUPLICATE = "duplicate"
    IGNORED = "ignored"
    INVALID = "invalid"
    """Undecodable or schema-invalid: park at once, retrying cannot help."""
    FAILED = "failed"
    """The handler raised: retry with back-off, then park."""


@dataclass(frozen=True)
class Result:
    outcome: Outcome
    reason: str = ""
    event_id: str | None = None


def process_message(database: Database, subscriber: Subscriber, body: bytes) -> Result:
    """Decode, validate and handle one message exactly once for this subscriber.

    The inbox record and the handler's writes share one transaction; the
    caller acknowledges the message only after this returns.
    """
    try:
        envelope = decode_envelope(body)
        handler = subscriber.handlers.get(envelope.event_type)
        if handler is None:
            return Result(
                Outcome.IGNORED, f"no handler for {envelope.event_type}", envelope.event_id
            )
        event = ReceivedEvent(envelope, REGISTRY.load(envelope))
    except InvalidEvent as error:
        return Result(Outcome.INVALID, str(error))
    with correlation_scope(
        envelope.correlation_id, event_id=envelope.event_id, subscriber=subscriber.name
    ):
        try:
            with database.transaction() as session:
                if not remember(session, subscriber.name, envelope):
                    log.info("event.duplicate", event_type=envelope.event_type)
                    return Result(Outcome.DUPLICATE, event_id=envelope.event_id)
                handler(session, event)
        except Exception as error:
            reason = "".join(traceback.format_exception_only(error)).strip()
            log.warning("event.handler_failed", event_type=envelope.event_type, reason=reason)
            return Result(Outcome.FAILED, reason, envelope.event_id)
        log.info("event.handled", event_type=envelope.event_type)
        return Result(Outcome.HANDLED, event_id=envelope.event_id)


def retry_delay(attempt: int, base_seconds: float, cap_seconds: float = 3600.0) -> float:
    """Exponential back-off: base, 2*base, 4*base... for attempts 1, 2, 3..."""
    return float(min(cap_seconds, base_seconds * 2 ** (attempt - 1)))
