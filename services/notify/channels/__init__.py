"""Notify's delivery channels: email over SMTP, SMS and chat through an HTTP provider.

Each channel takes one rendered ``Outgoing`` message for one recipient and
returns the provider's reference, or raises ``DeliveryError`` saying whether a
retry could help. Retries, scheduling and the delivery log belong to the
dispatcher; a channel only keeps its connection healthy.
"""

from __future__ import annotations

from services.notify.channels.base import Attachment, Channel, DeliveryError, Outgoing
from services.notify.channels.email import SmtpChannel, SmtpSettings
from services.notify.channels.provider import HttpProviderChannel, provider_channels_from_env

__all__ = [
    "Attachment",
    "Channel",
    "DeliveryError",
    "HttpProviderChannel",
    "Outgoing",
    "SmtpChannel",
    "SmtpSettings",
    "provider_channels_from_env",
]
