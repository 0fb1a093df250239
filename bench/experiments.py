"""Candidate optimisations of Cortesia's bus, tried by monkeypatching inside a worker process.

``bench.event_throughput --experiment NAME`` applies them to the Cortesia worker
only, so that a suggested change to ``shared/`` comes with a measurement. They
are not the library's code and change nothing on disk: each one is what the
suggested change would do, written as a patch.

schema-cache   one EnvelopeSchema instance and one load schema per event type,
               instead of building marshmallow schemas for every message
               (decode_envelope, REGISTRY.load; both the relay and the consumer)
relay-json     the relay reads the headers it needs from the body with json.loads
               instead of validating the envelope again (it was validated when recorded)
inbox-stmt     the inbox insert built once per dialect and executed with parameters
               (no per-message ``insert().values()`` coercion and cache-key work)
relay-adaptive the relay polls again after 2 ms when its last batch found rows, and
               doubles the wait (up to idle_poll_seconds) each time it finds none,
               instead of always waiting idle_poll_seconds after a partial batch
no-pre-ping    PostgreSQL engines without ``pool_pre_ping`` (one round trip less per
               transaction; a stale connection then fails one transaction, which the
               relay retries and the consumer turns into a delayed retry)
"""

from __future__ import annotations

# Schema caching, the relay reading rows as plain JSON and the prepared inbox insert
# were measured here first and are now part of the library.
NAMES = ("relay-adaptive", "no-pre-ping")


def apply(names: list[str]) -> None:
    patches = {
        "relay-adaptive": _relay_adaptive,
        "no-pre-ping": _no_pre_ping,
    }
    for name in names:
        patches[name]()


def _no_pre_ping() -> None:
    from sqlalchemy import Engine, create_engine
    from sqlalchemy.engine import make_url

    from shared import db as db_module

    original = db_module.make_engine

    def make_engine(url: str) -> Engine:
        parsed = make_url(url)
        if parsed.get_backend_name() != "postgresql":
            return original(url)
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_size=5, max_overflow=5)

    db_module.make_engine = make_engine


def _relay_adaptive(busy_wait: float = 0.002) -> None:
    import contextlib

    from shared.bus.relay import OutboxRelay

    publish_batch = OutboxRelay.publish_batch

    def publish_and_adapt(self: OutboxRelay) -> int:
        published = publish_batch(self)
        wait = getattr(self, "_bench_wait", busy_wait)
        self._bench_wait = busy_wait if published else min(wait * 2, self.idle_poll_seconds)  # type: ignore[attr-defined]
        return published

    def idle(self: OutboxRelay) -> None:
        # OutboxRelay._idle with the adaptive wait instead of idle_poll_seconds.
        assert self._connection is not None
        with contextlib.suppress(TimeoutError):
            self._connection.drain_events(timeout=getattr(self, "_bench_wait", busy_wait))
        self._connection.heartbeat_check()
        self._pruner.maybe_prune()

    OutboxRelay.publish_batch = publish_and_adapt  # type: ignore[method-assign]
    OutboxRelay._idle = idle  # type: ignore[method-assign]
