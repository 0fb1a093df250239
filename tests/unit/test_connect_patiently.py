"""A bus client waiting for an absent broker stops when asked, and says so plainly."""

from __future__ import annotations

import threading
import time

import pytest
from kombu import Connection

from shared.bus.connection import connect_patiently
from shared.testing.servers import free_port


def test_waiting_for_an_absent_broker_ends_with_interrupted_when_asked_to_stop() -> None:
    stopping = threading.Event()
    threading.Timer(0.3, stopping.set).start()
    started = time.monotonic()
    with (
        Connection(f"amqp://guest:guest@127.0.0.1:{free_port()}//") as connection,
        pytest.raises(InterruptedError, match="probe stopping"),
    ):
        connect_patiently(connection, stopping, "probe")
    assert time.monotonic() - started < 10
