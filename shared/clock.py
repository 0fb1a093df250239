"""The platform's clock: where every service reads the business moment.

A ticket opened, an invoice falling due, a message held until the customer's
morning: each is judged against ``now()``. Normally that is the system clock.

A rehearsal or staging deployment may point ``CORTESIA_CLOCK_FILE`` at a file
holding an offset in seconds (``cortesia clock set`` writes it). Every process
of the platform that reads the same file then lives at the same shifted
moment, and moves when the file changes: rehearse a month of billing in an
afternoon, or see what a customer receives at three in the morning. The bus's
own timers (retry back-off, parking) stay on the system clock: they measure
waiting, not business time. Production refuses the setting
(``shared.config.load_settings``).

A process that tells a story before it serves anyone (``cortesia run --demo``
seeding a year of the company's life) moves only itself, with ``travel``.
"""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

CLOCK_FILE_VARIABLE = "CORTESIA_CLOCK_FILE"
_REREAD_SECONDS = 0.25
"""How stale a process's view of the offset may be: a moved clock reaches every
process within this, and the file is not read on every call."""


class _OffsetFile:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._path: str | None = None
        self._offset = 0.0
        self._read_at = float("-inf")

    def offset(self) -> float:
        path = os.environ.get(CLOCK_FILE_VARIABLE)
        if not path:
            return 0.0
        with self._lock:
            stale = time.monotonic() - self._read_at > _REREAD_SECONDS
            if path != self._path or stale:
                self._path, self._offset = path, read_offset(Path(path))
                self._read_at = time.monotonic()
            return self._offset


def read_offset(path: Path) -> float:
    """The offset in seconds the file holds; 0 while it is missing or being replaced."""
    try:
        text = path.read_text(encoding="ascii").strip()
    except (FileNotFoundError, UnicodeDecodeError):
        return 0.0
    try:
        return float(text or 0)
    except ValueError:
        raise ValueError(f"{path} must hold an offset in seconds, found {text[:40]!r}") from None


def write_offset(path: Path, offset: timedelta) -> None:
    """Move every process reading ``path`` to the system time plus ``offset``.

    Written beside and renamed over, so that a reader never sees half a number.
    """
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    partial.write_text(f"{offset.total_seconds():.6f}\n", encoding="ascii")
    partial.replace(path)


_offset_file = _OffsetFile()
_travelled: timedelta | None = None
"""This process's own offset while it travels (``travel``), over the file's."""


def travel(moment: datetime | None) -> None:
    """Live this whole process at ``moment``, its time moving on from there; ``None``
    brings it back. Every thread sees it at once: for a process whose threads all take
    part in what it tells, as the demo's seeding does before the platform serves."""
    global _travelled
    _travelled = None if moment is None else moment - datetime.now(UTC)


def now() -> datetime:
    """The business moment, in UTC."""
    if _travelled is not None:
        return datetime.now(UTC) + _travelled
    return datetime.now(UTC) + timedelta(seconds=_offset_file.offset())
