"""Playbook versions: the repository's files imported, the owner's edits on top, each a version.

``import_files`` runs after training's migrations: a file whose text is new
(a first install, or a release that changed it) becomes the playbook's next
version; the owner's edits since stay in the history, and the newest version
is the one in force. Every new version is announced as
``training.playbook_published.v1``.
"""

from __future__ import annotations

import difflib
import hashlib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from services.training.content import (
    PLAYBOOKS,
    Playbook,
    PlaybookError,
    parse_playbook,
)
from services.training.models import PlaybookVersion
from shared import clock
from shared.bus.outbox import record_event

PRODUCER = "training"
FILE_AUTHOR = "playbook files"


class UnknownPlaybook(LookupError):
    pass


@dataclass(frozen=True)
class Current:
    playbook: Playbook
    version: int
    source: str


@lru_cache(maxsize=512)
def _parsed(source: str, playbook_id: str) -> Playbook:
    """A stored version, parsed once per process: progress pages and every quiz answer read
    the whole curriculum, and a stored text was validated when it was saved."""
    return parse_playbook(source, playbook_id)


def _hash(source: str) -> str:
    return hashlib.sha256(source.encode()).hexdigest()


def import_files(session: Session, folder: Path = PLAYBOOKS) -> list[str]:
    """Record each playbook file whose text was not imported before; the ids imported."""
    imported = []
    for path in sorted(folder.glob("*/*.yaml")):
        source = path.read_text(encoding="utf-8")
        playbook = parse_playbook(source, str(path.relative_to(folder)))
        seen = session.execute(
            select(PlaybookVersion.id).where(
                PlaybookVersion.playbook_id == playbook.playbook_id,
                PlaybookVersion.from_file.is_(True),
                PlaybookVersion.source_hash == _hash(source),
            )
        ).first()
        if seen is None:
            _publish(session, playbook, source, FILE_AUTHOR, None, from_file=True)
            imported.append(playbook.playbook_id)
    return imported


def publish_edit(
    session: Session, playbook_id: str, source: str, author: str, note: str | None
) -> int:
    """The owner's edit of a playbook, validated, as its next version; the version number."""
    in_force = current(session, playbook_id)  # only an existing playbook can be edited
    playbook = parse_playbook(source, playbook_id)
    if playbook.playbook_id != playbook_id:
        raise PlaybookError(
            f"{playbook_id}: the id cannot change (the text says {playbook.playbook_id})"
        )
    if source == in_force.source:
        raise PlaybookError(f"{playbook_id}: nothing changed")
    return _publish(session, playbook, source, author, note, from_file=False)


def _publish(
    session: Session,
    playbook: Playbook,
    source: str,
    author: str,
    note: str | None,
    *,
    from_file: bool,
) -> int:
    latest = session.execute(
        select(func.max(PlaybookVersion.version)).where(
            PlaybookVersion.playbook_id == playbook.playbook_id
        )
    ).scalar_one()
    version = (latest or 0) + 1
    session.add(
        PlaybookVersion(
            playbook_id=playbook.playbook_id,
            version=version,
            kind=playbook.kind,
            source=source,
            source_hash=_hash(source),
            from_file=from_file,
            author=author,
            note=note,
            created_at=clock.now(),
        )
    )
    session.flush()
    record_event(
        session,
        PRODUCER,
        "training.playbook_published.v1",
        {
            "playbook_id": playbook.playbook_id,
            "version": version,
            "kind": playbook.kind,
            "rules": list(playbook.rules),
            "situation": playbook.situation,
            "author": author,
        },
    )
    return version


def current(session: Session, playbook_id: str) -> Current:
    row = session.execute(
        select(PlaybookVersion)
        .where(PlaybookVersion.playbook_id == playbook_id)
        .order_by(PlaybookVersion.version.desc())
        .limit(1)
    ).scalar_one_or_none()
    if row is None:
        raise UnknownPlaybook(f"There is no playbook {playbook_id!r}.")
    return Current(_parsed(row.source, playbook_id), row.version, row.source)


def all_current(session: Session) -> list[Current]:
    latest = (
        select(PlaybookVersion.playbook_id, func.max(PlaybookVersion.version).label("version"))
        .group_by(PlaybookVersion.playbook_id)
        .subquery()
    )
    rows = session.execute(
        select(PlaybookVersion)
        .join(
            latest,
            (PlaybookVersion.playbook_id == latest.c.playbook_id)
            & (PlaybookVersion.version == latest.c.version),
        )
        .order_by(PlaybookVersion.playbook_id)
    ).scalars()
    return [Current(_parsed(r.source, r.playbook_id), r.version, r.source) for r in rows]


def history(session: Session, playbook_id: str) -> list[PlaybookVersion]:
    rows = list(
        session.execute(
            select(PlaybookVersion)
            .where(PlaybookVersion.playbook_id == playbook_id)
            .order_by(PlaybookVersion.version)
        ).scalars()
    )
    if not rows:
        raise UnknownPlaybook(f"There is no playbook {playbook_id!r}.")
    return rows


def diff(session: Session, playbook_id: str, older: int, newer: int) -> str:
    """A unified diff of two versions' texts."""
    versions = {row.version: row for row in history(session, playbook_id)}
    for number in (older, newer):
        if number not in versions:
            raise UnknownPlaybook(f"{playbook_id} has no version {number}.")
    return "".join(
        difflib.unified_diff(
            versions[older].source.splitlines(keepends=True),
            versions[newer].source.splitlines(keepends=True),
            fromfile=f"{playbook_id} v{older}",
            tofile=f"{playbook_id} v{newer}",
        )
    )
