"""Watching the bus from outside: background components (relays, consumers) started for a
test, and an independent pika client that sees the events crossing the broker."""

from __future__ import annotations

import json
import threading
from typing import Any, Protocol

import pika

from shared.bus.topology import EVENTS_EXCHANGE


class Component(Protocol):
    def run(self) -> None: ...
    def stop(self) -> None: ...


class Running:
    """Components running in daemon threads until the test ends."""

    def __init__(self) -> None:
        self._components: list[Component] = []

    def start(self, component: Component) -> None:
        self._components.append(component)
        threading.Thread(target=component.run, daemon=True).start()

    def stop_all(self) -> None:
        for component in self._components:
            component.stop()


class WireObserver:
    """An exclusive queue bound to the given event types on the events exchange."""

    def __init__(self, amqp_url: str, *event_types: str) -> None:
        self.connection = pika.BlockingConnection(pika.URLParameters(amqp_url))
        self.channel = self.connection.channel()
        self.channel.exchange_declare(EVENTS_EXCHANGE, "topic", durable=True)
        self.queue = self.channel.queue_declare("", exclusive=True).method.queue
        for event_type in event_types:
            self.channel.queue_bind(self.queue, EVENTS_EXCHANGE, routing_key=event_type)

    def next(self, timeout: float = 30) -> tuple[Any, dict[str, Any]]:
        """The next message's properties and decoded envelope."""
        for _ in range(int(timeout * 10)):
            method, properties, body = self.channel.basic_get(self.queue, auto_ack=True)
            if method is not None:
                return properties, json.loads(body)
            self.connection.sleep(0.1)
        raise AssertionError(f"no event reached the observer's queue within {timeout} s")

    def until(self, event_type: str, timeout: float = 60) -> list[dict[str, Any]]:
        """Every envelope seen up to and including the first of ``event_type``."""
        seen: list[dict[str, Any]] = []
        while True:
            try:
                _, envelope = self.next(timeout)
            except AssertionError:
                raise AssertionError(f"{event_type} never reached the observer: {seen}") from None
            seen.append(envelope)
            if envelope["event_type"] == event_type:
                return seen

    def close(self) -> None:
        self.connection.close()
