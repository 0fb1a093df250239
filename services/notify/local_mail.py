"""The embedded platform's own mail server: when no SMTP server is configured, notify
delivers over SMTP to this one, on the loopback interface, which keeps every message in
a Maildir under the data directory (readable by any mail client, shown in notify's
pages). Delivery goes through the same SMTP channel as in production."""

from __future__ import annotations

import mailbox
import socket
from dataclasses import dataclass
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class _Keeper:
    def __init__(self, maildir: Path) -> None:
        self.maildir = maildir

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        box = mailbox.Maildir(self.maildir, create=True)
        box.add(envelope.original_content or envelope.content)
        return "250 2.0.0 OK: kept"


class LocalMailServer:
    """An SMTP server on 127.0.0.1 that keeps what it receives in ``maildir``."""

    def __init__(self, maildir: Path, port: int | None = None) -> None:
        self.maildir = maildir
        self.port = port or _free_port()
        self._controller = Controller(_Keeper(maildir), hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.maildir.parent.mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(self.maildir, create=True)
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()


@dataclass(frozen=True)
class KeptMessage:
    key: str
    to: str
    subject: str
    date: datetime | None
    message: EmailMessage


def kept_messages(maildir: Path, limit: int = 200) -> list[KeptMessage]:
    """The newest messages first."""
    if not (maildir / "cur").exists():
        return []
    box = mailbox.Maildir(maildir, create=False)
    parser = BytesParser(policy=policy.default)
    kept: list[KeptMessage] = []
    for key in box.iterkeys():
        message = parser.parsebytes(box.get_bytes(key))
        assert isinstance(message, EmailMessage)
        raw_date = message.get("Date")
        kept.append(
            KeptMessage(
                key=key,
                to=str(message.get("To", "")),
                subject=str(message.get("Subject", "")),
                date=parsedate_to_datetime(raw_date) if raw_date else None,
                message=message,
            )
        )
    kept.sort(key=lambda item: item.date.timestamp() if item.date else 0, reverse=True)
    return kept[:limit]
