"""The session-signing secret: generated once per data directory, required in production."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from shared.config import ConfigurationError

SECRET_FILE = "secret_key"
MIN_SECRET_LENGTH = 32


def session_secret(data_dir: Path, production: bool, env: Mapping[str, str] | None = None) -> str:
    """Return the secret every service signs sessions with.

    There is deliberately no default value: in production the operator must
    supply ``CORTESIA_SECRET_KEY``; elsewhere a random secret is written to the
    data directory on first run (mode 0600) so that all services of one
    installation, and its restarts, share it.
    """
    env = os.environ if env is None else env
    configured = env.get("CORTESIA_SECRET_KEY")
    if configured:
        if len(configured) < MIN_SECRET_LENGTH:
            raise ConfigurationError(
                f"CORTESIA_SECRET_KEY must be at least {MIN_SECRET_LENGTH} characters"
            )
        return configured
    if production:
        raise ConfigurationError("CORTESIA_SECRET_KEY is required when CORTESIA_ENV=production")
    path = data_dir / SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()
