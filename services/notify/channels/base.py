"""What every delivery channel takes, returns and raises.

A channel delivers one rendered message to one recipient and answers with the
provider's reference for the delivery log. It never retries on its own beyond
reopening a connection the provider closed: the dispatcher owns retries, and
tells them apart by ``DeliveryError.permanent``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    """A MIME type such as ``application/pdf``."""
    data: bytes


@dataclass(frozen=True)
class Outgoing:
    """One rendered message for one recipient on one channel."""

    notification_id: int
    channel: str
    """``"email"``, ``"sms"`` or ``"chat"``."""
    to: str
    """An email address, a phone number in E.164 form or a chat handle."""
    to_name: str | None
    subject: str | None
    """Email only."""
    text: str
    html: str | None
    """Email only; without it the email is plain text."""
    message_id: str
    """Stable for the notification, e.g. ``<n42.a1b2@cortesia.local>``: a retried delivery
    carries the same id, so receivers and providers can drop the duplicate."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Extra email headers: List-Unsubscribe, List-Unsubscribe-Post, In-Reply-To, References."""
    attachments: tuple[Attachment, ...] = ()


class DeliveryError(Exception):
    """A delivery failed; ``reason`` is written for staff reading the delivery log.

    ``permanent`` means retrying the same message cannot help (the recipient was
    refused, the provider rejected the request). Otherwise the failure is
    transient (server down, timeouts, temporary refusals) and a later attempt
    may succeed.
    """

    def __init__(self, reason: str, *, permanent: bool) -> None:
        super().__init__(reason)
        self.reason = reason
        self.permanent = permanent

    def __repr__(self) -> str:
        return f"DeliveryError({self.reason!r}, permanent={self.permanent})"


class Channel(Protocol):
    name: str

    def send(self, message: Outgoing) -> str:
        """Deliver ``message``; return the provider's reference, or raise DeliveryError."""
        ...

    def close(self) -> None:
        """Release connections; the channel may be used again afterwards."""
        ...
