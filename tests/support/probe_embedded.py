"""An embedded-bus process over the probe database, for tests that SIGKILL it.

    python -m tests.support.probe_embedded DATA_DIR SUBSCRIBER
Prints "ready" once its threads run.
"""

from __future__ import annotations

import logging
import sys
import threading
from pathlib import Path

from shared.bus.embedded import EmbeddedBus, open_bus_database
from shared.logging import configure_logging
from tests.support.probe import recording_subscriber, sqlite_database


def main(data_dir: str, subscriber_name: str) -> None:
    configure_logging(logging.WARNING)
    directory = Path(data_dir)
    bus = EmbeddedBus(
        bus=open_bus_database(f"sqlite:///{directory / 'bus.sqlite3'}"),
        service_databases={"probe": sqlite_database(directory)},
        subscribers=[recording_subscriber(subscriber_name)],
        idle_poll_seconds=0.05,
    )
    bus.start()
    print("ready", flush=True)
    threading.Event().wait()


if __name__ == "__main__":
    main(*sys.argv[1:3])
