"""Parked messages: list, show and replay them, on RabbitMQ or the embedded bus.

A replay sends the message back to the one subscriber that parked it, with a
fresh attempt count; other subscribers never see it again.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol

from amqp.exceptions import NotFound
from kombu import Connection
from sqlalchemy import select, update

from shared.bus.embedded import PARKED, PENDING, deliveries
from shared.bus.subscriber import Subscriber
from shared.bus.topology import (
    ATTEMPT_HEADER,
    PARKED_AT_HEADER,
    PARKED_REASON_HEADER,
    ROUTING_KEY_HEADER,
    parked_queue,
)
from shared.db import Database
from shared.events.envelope import CONTENT_TYPE


@dataclass(frozen=True)
class ParkedMessage:
    subscriber: str
    event_id: str
    event_type: str
    reason: str
    attempts: int
    parked_at: str
    body: str
    headers: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "subscriber": self.subscriber,
            "event_id": self.event_id,
            "event_type": self.event_type,
            "reason": self.reason,
            "attempts": self.attempts,
            "parked_at": self.parked_at,
            "headers": self.headers,
            "body": self.body,
        }


def _event_id_of(body: str, fallback: str | None) -> str:
    try:
        value = json.loads(body).get("event_id")
    except (ValueError, AttributeError):
        value = None
    return str(value or fallback or "?")


def _dead_lettered_by_broker(headers: dict[str, Any]) -> dict[str, Any]:
    """What the broker's ``x-death`` header says of a message it parked itself, through
    a subscriber queue's dead-letter policy (``policies``): why, from where, and when."""
    deaths = headers.get("x-death")
    if not deaths or not isinstance(deaths, list) or not isinstance(deaths[0], dict):
        return {}
    latest = deaths[0]
    keys = latest.get("routing-keys") or []
    moment = latest.get("time")
    when = ""
    if isinstance(moment, datetime):  # AMQP timestamps are whole seconds in UTC
        when = (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).isoformat()
    deliveries = headers.get("x-delivery-count") or latest.get("count") or 0
    return {
        "reason": f"dead-lettered by the broker ({latest.get('reason', '?')}) "
        f"from {latest.get('queue', '?')}",
        "routing_key": keys[0] if keys else None,
        "deliveries": int(deliveries),
        "at": when,
    }


class ParkedStore(Protocol):
    def list(self, subscriber: str | None = None) -> list[ParkedMessage]: ...

    def replay(self, event_ids: Sequence[str] | None, subscriber: str | None = None) -> int: ...


class EmbeddedParkedStore:
    def __init__(self, bus: Database) -> None:
        self.bus = bus

    def list(self, subscriber: str | None = None) -> list[ParkedMessage]:
        query = select(deliveries).where(deliveries.c.status == PARKED).order_by(deliveries.c.id)
        if subscriber:
            query = query.where(deliveries.c.subscriber == subscriber)
        with self.bus.transaction() as session:
            return [
                ParkedMessage(
                    subscriber=row.subscriber,
                    event_id=row.event_id,
                    event_type=row.event_type,
                    reason=row.reason or "",
                    attempts=row.attempts,
                    parked_at=datetime.fromtimestamp(row.parked_at or 0, UTC).isoformat(),
                    body=row.body,
                )
                for row in session.execute(query)
            ]

    def replay(self, event_ids: Sequence[str] | None, subscriber: str | None = None) -> int:
        statement = (
            update(deliveries)
            .where(deliveries.c.status == PARKED)
            .values(status=PENDING, attempts=0, due_at=time.time(), parked_at=None)
        )
        if event_ids is not None:
            statement = statement.where(deliveries.c.event_id.in_(list(event_ids)))
        if subscriber:
            statement = statement.where(deliveries.c.subscriber == subscriber)
        with self.bus.transaction() as session:
            return int(session.execute(statement).rowcount)  # type: ignore[attr-defined]


class RabbitParkedStore:
    """Reads parked queues without consuming them: messages are fetched unacked and then
    requeued, except the ones being replayed, which are acked only after their copy
    on the subscriber's queue is confirmed."""

    def __init__(self, amqp_url: str, subscribers: Iterable[Subscriber]) -> None:
        self.amqp_url = amqp_url
        self.subscriber_names = [s.name for s in subscribers]

    def _names(self, connection: Connection, subscriber: str | None) -> list[str]:
        if subscriber is None:
            return self.subscriber_names
        channel = connection.channel()
        try:
            channel.queue_declare(parked_queue(subscriber), passive=True)
        except NotFound:
            known = ", ".join(self.subscriber_names)
            raise ValueError(
                f"no parked queue for subscriber {subscriber!r}; known: {known}"
            ) from None
        finally:
            if channel.is_open:
                channel.close()
        return [subscriber]

    @staticmethod
    def _drain(channel: Any, queue: str) -> list[Any]:
        messages: list[Any] = []
        while True:
            message = channel.basic_get(queue, no_ack=False)
            if message is None:
                return messages
            messages.append(message)

    @staticmethod
    def _to_parked(subscriber: str, message: Any) -> ParkedMessage:
        headers = dict(message.properties.get("application_headers") or {})
        body = (
            message.body.decode("utf-8", "replace")
            if isinstance(message.body, bytes)
            else str(message.body)
        )
        broker = _dead_lettered_by_broker(headers)
        return ParkedMessage(
            subscriber=subscriber,
            event_id=_event_id_of(body, message.properties.get("message_id")),
            event_type=str(
                headers.get(ROUTING_KEY_HEADER)
                or broker.get("routing_key")
                or message.properties.get("type")
                or "?"
            ),
            reason=str(headers.get(PARKED_REASON_HEADER) or broker.get("reason", "")),
            attempts=int(headers.get(ATTEMPT_HEADER) or broker.get("deliveries", 0)),
            parked_at=str(headers.get(PARKED_AT_HEADER) or broker.get("at", "")),
            body=body,
            headers={k: v for k, v in headers.items() if isinstance(v, str | int | float | bool)},
        )

    def list(self, subscriber: str | None = None) -> list[ParkedMessage]:
        found: list[ParkedMessage] = []
        with Connection(self.amqp_url) as connection:
            for name in self._names(connection, subscriber):
                channel = connection.channel()
                try:
                    found.extend(
                        self._to_parked(name, m) for m in self._drain(channel, parked_queue(name))
                    )
                finally:
                    channel.close()  # unacked messages go back to the queue
        return found

    def replay(self, event_ids: Sequence[str] | None, subscriber: str | None = None) -> int:
        wanted = set(event_ids) if event_ids is not None else None
        replayed = 0
        with Connection(self.amqp_url, transport_options={"confirm_publish": True}) as connection:
            for name in self._names(connection, subscriber):
                channel = connection.channel()
                publisher = connection.Producer(channel=connection.channel(), auto_declare=False)
                try:
                    for message in self._drain(channel, parked_queue(name)):
                        parked = self._to_parked(name, message)
                        if wanted is not None and parked.event_id not in wanted:
                            continue
                        headers = {
                            k: v
                            for k, v in parked.headers.items()
                            if k not in (PARKED_REASON_HEADER, PARKED_AT_HEADER, ROUTING_KEY_HEADER)
                        }
                        headers[ATTEMPT_HEADER] = 1
                        publisher.publish(
                            message.body,
                            exchange="",
                            routing_key=name,
                            content_type=message.properties.get("content_type") or CONTENT_TYPE,
                            content_encoding="utf-8",
                            delivery_mode=2,
                            headers=headers,
                            message_id=message.properties.get("message_id"),
                            type=message.properties.get("type"),
                            retry=False,
                            confirm_timeout=30,
                        )
                        channel.basic_ack(message.delivery_tag)
                        replayed += 1
                finally:
                    channel.close()
        return replayed
