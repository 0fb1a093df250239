"""What the bus looks like on RabbitMQ, declared in one place.

                        routing key = event type
    outbox relay ──► [cortesia.events]  (topic, durable)
                          │ binding per handled event type
                          ▼
                  <subscriber>  (e.g. training.staff_directory)
                     │  handler failed, attempt n < N
                     ▼
        <subscriber>.retry.<ttl>ms  ── TTL expires ──► back to <subscriber> only
                     │  attempt N failed, or message invalid
                     ▼
                <subscriber>.parked   (listed, shown, replayed by `cortesia bus`)

Retries go through the default exchange straight to the failing subscriber's
own queues, so one subscriber's failure never re-delivers the event to anyone
else. Each back-off step has its own delay queue with a queue-wide TTL: a
single queue with per-message TTLs would hold a short delay behind a long one,
because RabbitMQ only expires messages at the head of a queue. The TTL is in
the queue's name so that changing the back-off never clashes with queues
already declared with other arguments.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from shared.bus.subscriber import Subscriber, retry_delay

EVENTS_EXCHANGE = "cortesia.events"

# Headers the bus adds to messages it retries or parks.
ATTEMPT_HEADER = "x-cortesia-attempt"
PARKED_REASON_HEADER = "x-cortesia-parked-reason"
PARKED_AT_HEADER = "x-cortesia-parked-at"
ROUTING_KEY_HEADER = "x-cortesia-routing-key"


def parked_queue(subscriber: str) -> str:
    return f"{subscriber}.parked"


def delay_queue(subscriber: str, attempt: int, base_seconds: float) -> str:
    ttl_ms = int(retry_delay(attempt, base_seconds) * 1000)
    return f"{subscriber}.retry.{ttl_ms}ms"


def _queue_arguments(queue_type: str, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"x-queue-type": queue_type, **(extra or {})}


def declare_topology(
    channel: Any,
    subscribers: Iterable[Subscriber],
    queue_type: str,
    max_attempts: int,
    retry_base_seconds: float,
) -> None:
    """Declare the exchange and every queue and binding of these subscribers (idempotent)."""
    channel.exchange_declare(EVENTS_EXCHANGE, "topic", durable=True, auto_delete=False)
    for subscriber in subscribers:
        name = subscriber.name
        channel.queue_declare(
            name, durable=True, auto_delete=False, arguments=_queue_arguments(queue_type)
        )
        for event_type in subscriber.event_types:
            channel.queue_bind(name, EVENTS_EXCHANGE, routing_key=event_type)
        channel.queue_declare(
            parked_queue(name),
            durable=True,
            auto_delete=False,
            arguments=_queue_arguments(queue_type),
        )
        for attempt in range(1, max_attempts):
            ttl_ms = int(retry_delay(attempt, retry_base_seconds) * 1000)
            channel.queue_declare(
                delay_queue(name, attempt, retry_base_seconds),
                durable=True,
                auto_delete=False,
                arguments=_queue_arguments(
                    queue_type,
                    {
                        "x-message-ttl": ttl_ms,
                        "x-dead-letter-exchange": "",
                        "x-dead-letter-routing-key": name,
                    },
                ),
            )
