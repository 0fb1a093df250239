"""Broker connections that wait for the broker, and the errors that a reconnect cures."""

from __future__ import annotations

import threading

from kombu import Connection
from kombu.exceptions import OperationalError

from shared.logging import get_logger

log = get_logger(__name__)


def recoverable_errors(amqp_url: str) -> tuple[type[BaseException], ...]:
    """The errors after which reconnecting is the cure (kombu lists them per transport)."""
    probe = Connection(amqp_url)  # no I/O: kombu connects lazily
    return (OSError, *probe.connection_errors, *probe.channel_errors)


def connect_patiently(connection: Connection, stopping: threading.Event, who: str) -> None:
    """Connect, retrying with back-off for as long as the broker is away, unless asked to stop.

    Raises InterruptedError when ``stopping`` is set while waiting.
    """

    def give_up_if_stopping() -> None:
        if stopping.is_set():
            raise InterruptedError(f"{who} stopping")

    try:
        connection.ensure_connection(
            max_retries=None,
            interval_start=0.5,
            interval_step=1,
            interval_max=5,
            errback=lambda exc, interval: log.warning(
                "bus.broker_unreachable", client=who, error=str(exc), retry_in=interval
            ),
            callback=give_up_if_stopping,
        )
    except OperationalError as error:
        # kombu re-raises what the callback raised as its own library error.
        if isinstance(error.__cause__, InterruptedError):
            raise error.__cause__ from None
        raise
