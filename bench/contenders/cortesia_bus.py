"""Cortesia itself: OutboxRelay and SubscriberConsumer, as ``cortesia worker`` runs them.

The subscriber's handler writes one row through the session it is given; an
``after_commit`` hook on SQLAlchemy sessions records when the transaction
holding that row and the inbox record committed (one transaction may hold a batch).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import event, insert
from sqlalchemy.orm import Session

from bench.common import EVENT, Recorder, side_effects
from bench.contenders import Options, spawn
from shared.bus.consumer import SubscriberConsumer
from shared.bus.relay import OutboxRelay
from shared.bus.subscriber import ReceivedEvent, Subscriber
from shared.db import Database

_SEQ = "bench_seq"


class Contender:
    def __init__(
        self, database: Database, amqp_url: str, recorder: Recorder, options: Options
    ) -> None:
        self.name = options.name
        self.options = options
        self.recorder = recorder
        subscriber = Subscriber(self.name)
        name = self.name

        @subscriber.handles(EVENT)
        def record(session: Session, received: ReceivedEvent) -> None:
            seq = received.data["seq"]
            session.execute(
                insert(side_effects).values(subscriber=name, event_id=received.event_id, seq=seq)
            )
            # Several events may share a transaction (the consumer handles batches).
            session.info.setdefault(_SEQ, []).append(seq)

        event.listen(Session, "after_commit", self._after_commit)
        self.consumer = SubscriberConsumer(
            database, subscriber, amqp_url, prefetch=options.prefetch
        )
        relay_options: dict[str, Any] = {}
        if options.relay_batch_size is not None:
            relay_options["batch_size"] = options.relay_batch_size
        if options.relay_idle_poll_seconds is not None:
            relay_options["idle_poll_seconds"] = options.relay_idle_poll_seconds
        self.relay = OutboxRelay(database, amqp_url, **relay_options)
        if recorder.stages:
            # The relay's hook between the broker's confirms and the commit marking the rows.
            self.relay.after_confirm = lambda rows: recorder.confirmed(r.body for r in rows)  # type: ignore[method-assign]
        self.threads: list[threading.Thread] = []

    def _after_commit(self, session: Session) -> None:
        committed_at = time.time()
        for seq in session.info.pop(_SEQ, ()):
            self.recorder.record(seq, committed_at)

    @property
    def settings(self) -> dict[str, Any]:
        return {
            "prefetch": self.consumer.prefetch,
            "relay_batch_size": self.relay.batch_size,
            "relay_idle_poll_seconds": self.relay.idle_poll_seconds,
        }

    def start_consumer(self, timeout: float) -> None:
        self.threads.append(spawn(self.consumer.run, "consumer", self.options))
        if not self.consumer.ready.wait(timeout):
            raise TimeoutError("the Cortesia consumer did not subscribe")

    def start_publisher(self) -> None:
        self.threads.append(spawn(self.relay.run, "relay", self.options))

    def stop(self, timeout: float) -> None:
        self.relay.stop()
        self.consumer.stop()
        for thread in self.threads:
            thread.join(timeout)
