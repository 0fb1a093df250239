"""The contenders of ``bench.event_throughput``: each runs an outbox publisher and a consumer.

Every contender is imported only by the worker process that runs it, so that
one framework's imports never weigh on another's memory.
"""

from __future__ import annotations

import cProfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

NAMES = ("cortesia", "pika", "celery", "faststream")
TUNED = "cortesia-tuned"
"""Cortesia with the benchmark's overrides (--experiment, --relay-idle-poll, ...) applied;
plain ``cortesia`` is always the library as shipped."""
ALL = (*NAMES, TUNED)


def module_for(contender: str) -> str:
    return f"bench.contenders.{'cortesia' if contender == TUNED else contender}_bus"


def queue_name(contender: str, kind: str) -> str:
    return f"bench.{contender.replace('-', '_')}_{kind}"


@dataclass(frozen=True)
class Options:
    kind: str
    """``sqlite`` or ``postgres``: names the queues, so runs never share one."""
    name: str = ""
    """The queue (and subscriber) name, from ``queue_name``."""
    prefetch: int = 100
    batch_size: int = 200
    idle_poll_seconds: float = 0.05
    relay_batch_size: int | None = None
    relay_idle_poll_seconds: float | None = None
    """For Cortesia: ``None`` keeps OutboxRelay's own defaults."""
    profile_dir: Path | None = None


def spawn(target: Callable[[], None], name: str, options: Options) -> threading.Thread:
    """Start a daemon thread; under ``--profile`` its work is written to a pstats file."""
    body = target
    if options.profile_dir is not None:
        directory = options.profile_dir

        def body() -> None:
            profiler = cProfile.Profile()
            profiler.enable()
            try:
                target()
            finally:
                profiler.disable()
                directory.mkdir(parents=True, exist_ok=True)
                profiler.dump_stats(str(directory / f"{name}.pstats"))

    thread = threading.Thread(target=body, name=name, daemon=True)
    thread.start()
    return thread


def queue_names(contender: str, kind: str) -> tuple[list[str], list[str]]:
    """(queues, exchanges) a contender declares, for cleaning up after its run."""
    name = queue_name(contender, kind)
    if contender in ("cortesia", TUNED):
        from shared.bus.topology import delay_queue, parked_queue

        return [name, parked_queue(name), *(delay_queue(name, a, 1.0) for a in range(1, 5))], []
    if contender == "celery":
        return [name], [name]
    return [name], [name]
