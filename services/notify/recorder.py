"""Writing down what was done while the next thing is being done: a thread that records
items in groups, never far behind the one producing them.

The dispatcher must record each delivery soon after the server accepted it (until
then a crash would send it again), but a commit per message waits for the disk
as long as a delivery takes. Here the deliveries go on while the last ones are
committed: the recorder takes every item that arrived during its previous
commit as one group. ``most_unrecorded`` bounds how far ahead the producer may
get; at that many items waiting or being recorded, ``make_room`` (and ``add``) waits.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Generic, TypeVar

from shared.logging import get_logger

log = get_logger(__name__)

Item = TypeVar("Item")


class RecordingFailed(RuntimeError):
    """The recorder could not record a group; what was not recorded stays as it was."""


class GroupRecorder(Generic[Item]):
    """``record`` called in a thread of its own with the items added since its last call.

    Use it as a context manager: leaving the block waits until every item added is
    recorded, and raises ``RecordingFailed`` if a group could not be. After a
    failure ``add`` raises at once, so the producer stops making what it cannot
    record.
    """

    def __init__(
        self, record: Callable[[list[Item]], None], *, most_unrecorded: int, name: str
    ) -> None:
        if most_unrecorded < 1:
            raise ValueError(f"most_unrecorded must be at least 1, got {most_unrecorded}")
        self._record = record
        self._most_unrecorded = most_unrecorded
        self._changed = threading.Condition()
        self._waiting: list[Item] = []
        self._unrecorded = 0
        """Items waiting plus the group being recorded."""
        self._closing = False
        self._failure: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)

    def __enter__(self) -> GroupRecorder[Item]:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        # Whatever happened to the producer, what it handed over is still recorded.
        with self._changed:
            self._closing = True
            self._changed.notify_all()
        self._thread.join()
        if self._failure is not None and error is None:
            raise RecordingFailed(f"recording failed: {self._failure!r}") from self._failure

    def make_room(self) -> None:
        """Wait until one more item may be made: call it before making the item (sending
        the message), so that what is done and not yet recorded never exceeds the bound."""
        with self._changed:
            while self._failure is None and self._unrecorded >= self._most_unrecorded:
                self._changed.wait()
            if self._failure is not None:
                raise RecordingFailed(f"recording failed: {self._failure!r}") from self._failure

    def add(self, item: Item) -> None:
        self.make_room()
        with self._changed:
            self._waiting.append(item)
            self._unrecorded += 1
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._waiting and not self._closing:
                    self._changed.wait()
                if not self._waiting:
                    return
                group, self._waiting = self._waiting, []
            try:
                self._record(group)
            except BaseException as failure:
                log.exception("recorder.failed", recorder=self._thread.name, items=len(group))
                with self._changed:
                    self._failure = failure
                    self._changed.notify_all()
                return
            with self._changed:
                self._unrecorded -= len(group)
                self._changed.notify_all()
