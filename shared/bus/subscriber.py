"""Declarative subscribers: one queue each, one handler per event type.

    staff_directory = Subscriber("training.staff_directory")

    @staff_directory.handles("tickets.staff_added.v1")
    def remember_staff(session, event): ...

A handler runs inside the subscriber service's database transaction, together
with the inbox record; it must do its work through ``session`` (and record any
events it causes in the outbox through the same session).

A handler that every message passes through can take several events at once, and
read and write for all of them in a few statements instead of a few each:

    @messages.handles_together("billing.invoice_issued.v1", "billing.payment_received.v1")
    def plan(session, events): ...
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from enum import Enum
from itertools import groupby
from typing import Any

from sqlalchemy.orm import Session

from shared.bus.inbox import remember, remember_all
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
BatchHandler = Callable[[Session, Sequence[ReceivedEvent]], None]


@dataclass
class Subscriber:
    name: str
    """``<service>.<purpose>``; also the name of its queue."""
    handlers: dict[str, Handler] = field(default_factory=dict)
    """The handler of each event type; for a type handled together, one that hands its
    batch handler the single event."""
    together: dict[str, BatchHandler] = field(default_factory=dict)
    """The event types handled together, with their batch handler."""

    @property
    def service(self) -> str:
        return self.name.split(".", 1)[0]

    def handles(self, event_type: str) -> Callable[[Handler], Handler]:
        self._check(event_type)

        def decorate(handler: Handler) -> Handler:
            self.handlers[event_type] = handler
            self.together.pop(event_type, None)
            return handler

        return decorate

    def handles_together(self, *event_types: str) -> Callable[[BatchHandler], BatchHandler]:
        """Register one handler for several events at once: the events of these types
        that come one after the other in a batch, each new to this subscriber, in the
        order they came. An event handled on its own (alone in its batch, or again by
        itself after its batch failed) comes to it alone.

        The handler runs in no one event's correlation scope: to log or record an event
        on one event's behalf, enter ``event_scope`` for it."""
        for event_type in event_types:
            self._check(event_type)

        def decorate(handler: BatchHandler) -> BatchHandler:
            def alone(session: Session, event: ReceivedEvent) -> None:
                handler(session, [event])

            for event_type in event_types:
                self.handlers[event_type] = alone
                self.together[event_type] = handler
            return handler

        return decorate

    def _check(self, event_type: str) -> None:
        if event_type not in REGISTRY:
            raise ValueError(f"{self.name} subscribes to unregistered event type {event_type}")

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
    received = _receive(subscriber, body)
    if isinstance(received, Result):
        return received
    with event_scope(subscriber, received):
        try:
            with database.transaction() as session:
                result = _handle(session, subscriber, received)
        except Exception as error:
            return _failed(received, error)
        _log_outcome(received, result)
        return result


def process_batch(
    database: Database, subscriber: Subscriber, bodies: Sequence[bytes]
) -> list[Result]:
    """``process_message`` for several messages in one transaction: one result per body,
    in order.

    A commit waits for the disk, and a subscriber that commits every message spends
    much of its time waiting. Here the batch is handled in one transaction and made
    durable by one commit; the inbox records go in one statement, and the events of
    types handled together (``handles_together``) reach their handler at once. When
    a handler fails (or the commit does), the whole transaction is rolled back, so
    nothing of the batch happened, and each message is handled again in a
    transaction of its own: the failure is that message's alone, and the others go
    through. (A savepoint per message would settle a failure in place, at the price
    of two more statements for every message; a failing handler is rare.)
    Acknowledge the messages only after this returns.
    """
    results: list[Result | None] = []
    events: list[tuple[int, ReceivedEvent]] = []
    for index, body in enumerate(bodies):
        received = _receive(subscriber, body)
        if isinstance(received, Result):
            results.append(received)
        else:
            results.append(None)  # handled below
            events.append((index, received))
    if len(events) == 1:  # its own transaction already
        index, _ = events[0]
        results[index] = process_message(database, subscriber, bodies[index])
    elif events:
        try:
            handled = _handle_together(database, subscriber, [event for _, event in events])
        except Exception as error:
            log.info(
                "event.batch_handled_one_by_one",
                subscriber=subscriber.name,
                events=len(events),
                reason=_reason(error),
            )
            handled = [process_message(database, subscriber, bodies[index]) for index, _ in events]
        else:
            for (_, event), result in zip(events, handled, strict=True):
                with event_scope(subscriber, event):
                    _log_outcome(event, result)
        for (index, _), result in zip(events, handled, strict=True):
            results[index] = result
    return [result for result in results if result is not None]


def _receive(subscriber: Subscriber, body: bytes) -> ReceivedEvent | Result:
    """The message as an event for this subscriber, or the result that ends it here."""
    try:
        envelope = decode_envelope(body)
        if envelope.event_type not in subscriber.handlers:
            return Result(
                Outcome.IGNORED, f"no handler for {envelope.event_type}", envelope.event_id
            )
        return ReceivedEvent(envelope, REGISTRY.load(envelope))
    except InvalidEvent as error:
        return Result(Outcome.INVALID, str(error))


def _handle(session: Session, subscriber: Subscriber, event: ReceivedEvent) -> Result:
    if not remember(session, subscriber.name, event.envelope):
        return Result(Outcome.DUPLICATE, event_id=event.event_id)
    subscriber.handlers[event.event_type](session, event)
    return Result(Outcome.HANDLED, event_id=event.event_id)


def _handle_together(
    database: Database, subscriber: Subscriber, events: Sequence[ReceivedEvent]
) -> list[Result]:
    with database.transaction() as session:
        firsts = remember_all(session, subscriber.name, [event.envelope for event in events])
        new = [event for event, first in zip(events, firsts, strict=True) if first]
        for together, run in _runs(subscriber, new):
            if together is not None:
                together(session, run)
                continue
            for event in run:
                with event_scope(subscriber, event):
                    subscriber.handlers[event.event_type](session, event)
    return [
        Result(Outcome.HANDLED if first else Outcome.DUPLICATE, event_id=event.event_id)
        for event, first in zip(events, firsts, strict=True)
    ]


def _runs(
    subscriber: Subscriber, events: Sequence[ReceivedEvent]
) -> Iterator[tuple[BatchHandler | None, list[ReceivedEvent]]]:
    """The events in order, in runs of those with the same batch handler (None for those
    handled one by one)."""
    for together, run in groupby(
        events, key=lambda event: subscriber.together.get(event.event_type)
    ):
        yield together, list(run)


def event_scope(subscriber: Subscriber, event: ReceivedEvent) -> AbstractContextManager[str]:
    """Log lines and recorded events in this block belong to ``event``: its correlation id,
    and it as their cause."""
    envelope = event.envelope
    return correlation_scope(
        envelope.correlation_id, event_id=envelope.event_id, subscriber=subscriber.name
    )


def _reason(error: BaseException) -> str:
    return "".join(traceback.format_exception_only(error)).strip()


def _failed(event: ReceivedEvent, error: BaseException) -> Result:
    reason = _reason(error)
    log.warning("event.handler_failed", event_type=event.event_type, reason=reason)
    return Result(Outcome.FAILED, reason, event.event_id)


def _log_outcome(event: ReceivedEvent, result: Result) -> None:
    if result.outcome is Outcome.DUPLICATE:
        log.info("event.duplicate", event_type=event.event_type)
    else:
        log.info("event.handled", event_type=event.event_type)


def retry_delay(attempt: int, base_seconds: float, cap_seconds: float = 3600.0) -> float:
    """Exponential back-off: base, 2*base, 4*base... for attempts 1, 2, 3..."""
    return float(min(cap_seconds, base_seconds * 2 ** (attempt - 1)))
