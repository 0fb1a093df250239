"""A migrated billing database and the billing app over it, for each test."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

import services.billing as billing
from shared.config import load_settings
from shared.db import Database
from shared.migrations import upgrade


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'billing.sqlite3'}"
    upgrade(billing.MIGRATIONS, url)
    return Database(url)


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Flask:
    return billing.create_app(load_settings("billing", env={}, data_dir=tmp_path), database)
