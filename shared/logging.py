"""JSON logs with the correlation id of the request or event being handled."""

from __future__ import annotations

import logging
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from structlog.contextvars import bind_contextvars, get_contextvars, reset_contextvars

_configured = False


def configure_logging(level: int = logging.INFO) -> None:
    """Route structlog and the standard library through one JSON renderer."""
    global _configured
    if _configured:
        return
    _configured = True
    shared_processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared_processors,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(),
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # py-amqp and kombu are chatty at INFO about every reconnect attempt.
    logging.getLogger("amqp").setLevel(logging.WARNING)
    # Alembic announces each of its plugins at INFO when it is first imported.
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)


def new_correlation_id() -> str:
    return str(uuid.uuid4())


def current_correlation_id() -> str | None:
    value = get_contextvars().get("correlation_id")
    return str(value) if value else None


def current_event_id() -> str | None:
    """The id of the event being handled, if any: it caused whatever is recorded now."""
    value = get_contextvars().get("event_id")
    return str(value) if value else None


@contextmanager
def correlation_scope(correlation_id: str | None, **extra: object) -> Iterator[str]:
    """Bind a correlation id (a new one if none) to every log line in the block."""
    cid = correlation_id or new_correlation_id()
    tokens = bind_contextvars(correlation_id=cid, **extra)
    try:
        yield cid
    finally:
        reset_contextvars(**tokens)
