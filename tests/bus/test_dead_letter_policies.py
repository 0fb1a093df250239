"""The broker's dead-letter policies: what escapes the bus's own parking is parked too."""

from __future__ import annotations

import json
import re
import uuid
from pathlib import Path
from typing import Any

import pika
import pytest
from click.testing import CliRunner

from cortesia.cli import main as cli
from cortesia.platform import all_subscribers
from shared.bus.parked import RabbitParkedStore
from shared.bus.policies import dead_letter_policies, dead_letter_policy
from shared.bus.topology import EVENTS_EXCHANGE, declare_topology, parked_queue
from tests.support.probe import EVENT, recording_subscriber, wait_until

ROOT = Path(__file__).resolve().parents[2]


def test_the_compose_definitions_carry_a_policy_for_every_subscriber_queue() -> None:
    definitions = json.loads((ROOT / "infra/rabbitmq/definitions.json").read_text())
    generated = [dead_letter_policies(all_subscribers(), kind) for kind in ("classic", "quorum")]
    assert definitions["policies"] in generated, (
        "regenerate with: cortesia bus policies --write infra/rabbitmq/definitions.json"
    )


def test_the_command_writes_the_policies_and_keeps_the_rest(tmp_path: Path) -> None:
    definitions = tmp_path / "definitions.json"
    definitions.write_text(json.dumps({"users": [{"name": "ops"}], "policies": []}))
    result = CliRunner().invoke(
        cli, ["bus", "policies", "--queue-type", "quorum", "--write", str(definitions)]
    )
    assert result.exit_code == 0, result.output
    written = json.loads(definitions.read_text())
    assert written["users"] == [{"name": "ops"}]
    assert written["policies"] == dead_letter_policies(all_subscribers(), "quorum")


def test_a_policy_matches_its_own_queue_only() -> None:
    pattern = re.compile(dead_letter_policy("tickets.billing_events")["pattern"])
    assert pattern.match("tickets.billing_events")
    for other in ("tickets.billing_events.parked", "tickets.billing_events.retry.200ms"):
        assert not pattern.match(other)
    assert not pattern.match("tickets.billing-events")  # the dot is literal


def test_only_quorum_queues_get_a_delivery_limit() -> None:
    # A classic queue takes no policy at all that holds a key it does not know.
    assert "delivery-limit" not in dead_letter_policy("notify.outbound")["definition"]
    assert dead_letter_policy("notify.outbound", "quorum")["definition"]["delivery-limit"] == 20


def _apply(
    rabbit: Any, subscriber: str, queue_type: str, delivery_limit: int = 3
) -> dict[str, Any]:
    policy = dead_letter_policy(subscriber, queue_type, delivery_limit=delivery_limit)
    rabbit.ctl(
        "set_policy",
        "--apply-to", policy["apply-to"],
        "--priority", str(policy["priority"]),
        policy["name"], policy["pattern"], json.dumps(policy["definition"]),
    )  # fmt: skip
    return policy


def _publish_one(rabbit: Any, subscriber: str, queue_type: str) -> str:
    connection = pika.BlockingConnection(pika.URLParameters(rabbit.url))
    channel = connection.channel()
    declare_topology(channel, [recording_subscriber(subscriber)], queue_type, 3, 0.2)
    event_id = str(uuid.uuid4())
    body = json.dumps({"event_id": event_id, "event_type": EVENT, "payload": {"seq": 1}})
    channel.confirm_delivery()
    channel.basic_publish(
        EVENTS_EXCHANGE,
        EVENT,
        body.encode(),
        pika.BasicProperties(message_id=event_id, delivery_mode=2),
    )
    connection.close()
    return event_id


def _count(rabbit: Any, queue: str) -> int:
    connection = pika.BlockingConnection(pika.URLParameters(rabbit.url))
    try:
        return int(connection.channel().queue_declare(queue, passive=True).method.message_count)
    finally:
        connection.close()


@pytest.mark.rabbitmq
def test_a_message_that_keeps_killing_its_consumer_is_parked_not_dropped(
    rabbit: Any, unique_name: str
) -> None:
    subscriber = f"probe.poison_{unique_name}"
    policy = _apply(rabbit, subscriber, "quorum", delivery_limit=3)
    try:
        event_id = _publish_one(rabbit, subscriber, "quorum")
        # Each consumer takes the message and dies before it can settle it.
        for _ in range(8):
            connection = pika.BlockingConnection(pika.URLParameters(rabbit.url))
            method, _properties, _body = connection.channel().basic_get(subscriber)
            connection.close()
            if method is None:
                break
        assert _count(rabbit, subscriber) == 0
        wait_until(lambda: _count(rabbit, parked_queue(subscriber)) == 1, 10, "parked")

        store = RabbitParkedStore(rabbit.url, [recording_subscriber(subscriber)])
        [parked] = store.list(subscriber)
        assert parked.event_id == event_id
        assert parked.event_type == EVENT
        assert "dead-lettered by the broker (delivery_limit)" in parked.reason
        assert subscriber in parked.reason

        assert store.replay([event_id], subscriber) == 1
        assert _count(rabbit, subscriber) == 1
        assert _count(rabbit, parked_queue(subscriber)) == 0
    finally:
        rabbit.ctl("clear_policy", policy["name"])


@pytest.mark.rabbitmq
def test_a_message_rejected_outside_the_bus_is_parked(rabbit: Any, unique_name: str) -> None:
    subscriber = f"probe.rejected_{unique_name}"
    policy = _apply(rabbit, subscriber, "classic")
    try:
        event_id = _publish_one(rabbit, subscriber, "classic")
        connection = pika.BlockingConnection(pika.URLParameters(rabbit.url))
        channel = connection.channel()
        method, _properties, _body = channel.basic_get(subscriber)
        assert method is not None
        channel.basic_reject(method.delivery_tag, requeue=False)
        connection.close()
        wait_until(lambda: _count(rabbit, parked_queue(subscriber)) == 1, 10, "parked")

        store = RabbitParkedStore(rabbit.url, [recording_subscriber(subscriber)])
        [parked] = store.list(subscriber)
        assert parked.event_id == event_id
        assert "dead-lettered by the broker (rejected)" in parked.reason
        assert parked.parked_at  # when the broker parked it, from its x-death record
    finally:
        rabbit.ctl("clear_policy", policy["name"])
