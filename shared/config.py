"""Settings read from the environment, with safe defaults for embedded mode.

Every variable has a platform-wide form (``CORTESIA_AMQP_URL``) and may be
overridden per service (``CORTESIA_BILLING_AMQP_URL``), so one environment
file can describe a whole deployment.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from shared.clock import CLOCK_FILE_VARIABLE

SERVICES = ("tickets", "billing", "notify", "training")
QUEUE_TYPES = ("classic", "quorum")


class ConfigurationError(RuntimeError):
    """A setting is missing or invalid; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    service: str
    data_dir: Path
    database_url: str
    amqp_url: str | None
    """``None`` selects the embedded in-process bus."""
    production: bool
    queue_type: str = "classic"
    max_attempts: int = 5
    retry_base_seconds: float = 1.0
    prefetch: int = 100
    heartbeat_seconds: int = 20
    public_url: str = "http://localhost:8000/tickets"
    """Where this service's own pages are reached (links in messages are built on it)."""

    @property
    def embedded_bus(self) -> bool:
        return self.amqp_url is None

    @property
    def bus_database_url(self) -> str:
        """Where the embedded bus keeps its deliveries (one file per data directory)."""
        return f"sqlite:///{self.data_dir / 'bus.sqlite3'}"


def _lookup(env: Mapping[str, str], service: str, name: str) -> str | None:
    return env.get(f"CORTESIA_{service.upper()}_{name}") or env.get(f"CORTESIA_{name}") or None


def _int(env: Mapping[str, str], service: str, name: str, default: int, minimum: int) -> int:
    raw = _lookup(env, service, name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigurationError(f"CORTESIA_{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise ConfigurationError(f"CORTESIA_{name} must be at least {minimum}, got {value}")
    return value


def _service_url(env: Mapping[str, str], service: str) -> str:
    """Where this service's pages are reached: its own variable, else its path under the
    platform's address (the one origin every service shares)."""
    own = env.get(f"CORTESIA_{service.upper()}_PUBLIC_URL")
    if own:
        return own.rstrip("/")
    return f"{(env.get('CORTESIA_PUBLIC_URL') or 'http://localhost:8000').rstrip('/')}/{service}"


def data_dir_from(env: Mapping[str, str], override: str | Path | None = None) -> Path:
    return Path(override or env.get("CORTESIA_DATA") or "./var").resolve()


def load_settings(
    service: str,
    env: Mapping[str, str] | None = None,
    data_dir: str | Path | None = None,
) -> Settings:
    if service not in SERVICES:
        raise ConfigurationError(f"unknown service {service!r}; expected one of {SERVICES}")
    env = os.environ if env is None else env
    data = data_dir_from(env, data_dir)
    production = env.get("CORTESIA_ENV", "").lower() == "production"
    if production and env.get(CLOCK_FILE_VARIABLE):
        raise ConfigurationError(
            f"{CLOCK_FILE_VARIABLE} shifts the platform's clock: not allowed in production"
        )
    queue_type = (_lookup(env, service, "QUEUE_TYPE") or "classic").lower()
    if queue_type not in QUEUE_TYPES:
        raise ConfigurationError(f"CORTESIA_QUEUE_TYPE must be one of {QUEUE_TYPES}")
    return Settings(
        service=service,
        data_dir=data,
        database_url=_lookup(env, service, "DATABASE_URL") or f"sqlite:///{data / service}.sqlite3",
        amqp_url=_lookup(env, service, "AMQP_URL"),
        production=production,
        queue_type=queue_type,
        max_attempts=_int(env, service, "BUS_MAX_ATTEMPTS", 5, 1),
        retry_base_seconds=float(_lookup(env, service, "BUS_RETRY_BASE_SECONDS") or 1.0),
        prefetch=_int(env, service, "BUS_PREFETCH", 100, 1),
        heartbeat_seconds=_int(env, service, "BUS_HEARTBEAT", 20, 0),
        public_url=_service_url(env, service),
    )
