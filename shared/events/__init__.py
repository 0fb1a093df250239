"""Event contracts: the envelope, the schema registry and every event's schema."""

from shared.events.envelope import Envelope, EnvelopeSchema, InvalidEvent
from shared.events.registry import REGISTRY, EventRegistry

__all__ = ["REGISTRY", "Envelope", "EnvelopeSchema", "EventRegistry", "InvalidEvent"]
