"""Work a service does on its own schedule beside its web and bus traffic (billing's daily
run, notify's deliveries), in its worker process or in the embedded platform."""

from __future__ import annotations

import threading
from typing import Protocol

from shared.logging import get_logger

log = get_logger(__name__)


class BackgroundJob(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class PeriodicJob:
    """Calls ``tick`` in a thread of its own every ``every_seconds`` (at once again while it
    answers True: there is more to do). A failing tick is logged and the loop goes on: the
    jobs built on it redo on the next tick whatever did not commit."""

    name = "periodic-job"
    every_seconds = 1.0

    def __init__(self) -> None:
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def tick(self) -> bool:
        raise NotImplementedError

    def start(self) -> None:
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name=self.name, daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout)
            self._thread = None

    def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                more = self.tick()
            except Exception:
                log.exception("job.tick_failed", job=self.name)
                more = False
            if not more:
                self._stopping.wait(self.every_seconds)
