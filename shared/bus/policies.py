"""The broker's own safety net under the bus: a dead-letter policy per subscriber queue.

The bus parks what its handlers cannot take (``topology``): the consumer re-publishes
the message to ``<subscriber>.parked`` and acknowledges it. Two ways past that are the
broker's alone:

- a message that kills its consumer before the consumer can decide (a crash, an
  out-of-memory kill, a hang past the consumer timeout) comes back again and again.
  A quorum queue counts those deliveries and, past its ``delivery-limit`` (20 by
  default from RabbitMQ 4.0, unlimited before), drops the message unless the queue
  has a dead-letter target;
- a message rejected without requeue by any client (an operator's tool, say) is
  dropped the same way.

Each subscriber queue's policy sends both to that subscriber's parked queue, through
the default exchange, so they are listed and replayed like every other parked
message. Policies rather than queue arguments: a policy can be added to or changed on
queues that already exist, where different arguments would be refused.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from shared.bus.subscriber import Subscriber
from shared.bus.topology import parked_queue

# Quorum queues only (classic queues do not count deliveries, and RabbitMQ refuses a
# whole policy on a queue type that lacks one of its keys). Set explicitly, so that
# RabbitMQ 3.x (unlimited) and 4.x (20) behave alike; well above what the bus's own
# retries use, since they re-publish rather than redeliver.
DELIVERY_LIMIT = 20


def dead_letter_policy(
    subscriber: str,
    queue_type: str = "classic",
    vhost: str = "/",
    delivery_limit: int = DELIVERY_LIMIT,
) -> dict[str, Any]:
    """The policy of one subscriber's queue, in RabbitMQ's definitions format."""
    definition: dict[str, Any] = {
        "dead-letter-exchange": "",
        "dead-letter-routing-key": parked_queue(subscriber),
    }
    if queue_type == "quorum":
        definition["delivery-limit"] = delivery_limit
    return {
        "name": f"{subscriber}.dead-letters",
        "vhost": vhost,
        "pattern": f"^{re.escape(subscriber)}$",
        "apply-to": "queues",
        "priority": 10,
        "definition": definition,
    }


def dead_letter_policies(
    subscribers: Iterable[Subscriber], queue_type: str = "classic", vhost: str = "/"
) -> list[dict[str, Any]]:
    return [
        dead_letter_policy(subscriber.name, queue_type, vhost)
        for subscriber in sorted(subscribers, key=lambda s: s.name)
    ]
