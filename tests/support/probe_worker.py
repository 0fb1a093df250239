"""A probe worker process (relay and one recording consumer) that tests can SIGKILL.

    python -m tests.support.probe_worker DATABASE_URL AMQP_URL SUBSCRIBER
Prints "ready" once subscribed.
"""

from __future__ import annotations

import logging
import signal
import sys
import threading

from shared.bus.consumer import SubscriberConsumer
from shared.bus.relay import OutboxRelay
from shared.db import Database
from shared.logging import configure_logging
from tests.support.probe import recording_subscriber


def main(database_url: str, amqp_url: str, subscriber_name: str) -> None:
    configure_logging(logging.WARNING)
    database = Database(database_url)
    consumer = SubscriberConsumer(
        database, recording_subscriber(subscriber_name), amqp_url, prefetch=50, heartbeat_seconds=10
    )
    relay = OutboxRelay(database, amqp_url, heartbeat_seconds=10)
    threads = [threading.Thread(target=c.run, daemon=True) for c in (consumer, relay)]
    for thread in threads:
        thread.start()
    consumer.ready.wait(60)
    print("ready", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    stop.wait()
    consumer.stop()
    relay.stop()
    for thread in threads:
        thread.join(20)


if __name__ == "__main__":
    main(*sys.argv[1:4])
