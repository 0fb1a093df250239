"""A migrated training database, with the playbook files imported, and the training app."""

from __future__ import annotations

from pathlib import Path

import pytest
from flask import Flask

import services.training as training
from shared.config import load_settings
from shared.db import Database
from shared.migrations import upgrade


@pytest.fixture
def database(tmp_path: Path) -> Database:
    url = f"sqlite:///{tmp_path / 'training.sqlite3'}"
    upgrade(training.MIGRATIONS, url)
    database = Database(url)
    training.after_migrate(database)
    return database


@pytest.fixture
def app(tmp_path: Path, database: Database) -> Flask:
    return training.create_app(load_settings("training", env={}, data_dir=tmp_path), database)
