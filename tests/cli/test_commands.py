"""The ``cortesia`` command: help everywhere, embedded run, and the distributed processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from cortesia.cli import main as cli
from shared.db import Database
from shared.testing.servers import free_port, wait_for_port
from tests.support.probe import wait_until

ROOT = Path(__file__).resolve().parents[2]
CORTESIA = [sys.executable, "-m", "cortesia"]


def all_commands(group: Any, prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield prefix
    for name, command in getattr(group, "commands", {}).items():
        yield from all_commands(command, (*prefix, name))


def test_every_command_has_help() -> None:
    commands = list(all_commands(cli))
    assert ("run",) in commands and ("bus", "replay") in commands and ("create-owner",) in commands
    for command in commands:
        result = CliRunner().invoke(cli, [*command, "--help"])
        assert result.exit_code == 0, (command, result.output)
        assert "Usage:" in result.output


def test_worker_refuses_to_start_without_a_broker(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["worker", "training", "--data", str(tmp_path)], env={"CORTESIA_AMQP_URL": ""}
    )
    assert result.exit_code == 2 and "needs CORTESIA_AMQP_URL" in result.output


def test_create_owner_once(tmp_path: Path) -> None:
    args = [
        "create-owner",
        "--name",
        "Ana Souza",
        "--email",
        "ana@example.com",
        "--data",
        str(tmp_path),
    ]
    env = {"CORTESIA_OWNER_PASSWORD": "correct horse battery"}
    created = CliRunner().invoke(cli, args, env=env)
    assert created.exit_code == 0, created.output
    assert "Owner account created for ana@example.com" in created.output
    again = CliRunner().invoke(cli, args, env=env)
    assert again.exit_code == 1 and "an owner already exists" in again.output
    short = CliRunner().invoke(
        cli,
        [*args[:-2], "--data", str(tmp_path / "other")],
        env={"CORTESIA_OWNER_PASSWORD": "short"},
    )
    assert short.exit_code == 1 and "at least 12 characters" in short.output


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_run_serves_the_whole_platform_on_one_port(tmp_path: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [*CORTESIA, "run", "--port", str(port), "--data", str(tmp_path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "CORTESIA_AMQP_URL": ""},
    )
    try:
        assert process.stdout is not None
        banner = process.stdout.readline().decode()
        assert f"http://127.0.0.1:{port}/" in banner
        for service in ("tickets", "billing", "notify", "training"):
            assert get_json(f"http://127.0.0.1:{port}/{service}/readyz")["status"] == "ready"
        assert (tmp_path / "bus.sqlite3").exists() and (tmp_path / "secret_key").exists()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(20)
    assert process.returncode == 0


@pytest.mark.rabbitmq
@pytest.mark.postgres
def test_distributed_processes_talk_through_rabbitmq_and_postgres(
    rabbit: Any, postgres_server: Any, unique_name: str, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "CORTESIA_AMQP_URL": rabbit.url,
        "CORTESIA_DATA": str(tmp_path),
        "CORTESIA_OWNER_PASSWORD": "correct horse battery",
    }
    for service in ("tickets", "billing", "notify", "training"):
        url = postgres_server.create_database(f"{service}_{unique_name}")
        env[f"CORTESIA_{service.upper()}_DATABASE_URL"] = url
    migrated = subprocess.run(
        [*CORTESIA, "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert migrated.returncode == 0, migrated.stderr
    assert "bus: topology declared" in migrated.stdout

    port = free_port()
    processes = [
        subprocess.Popen(
            [*CORTESIA, "worker", "tickets"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [*CORTESIA, "worker", "training"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        ),
        subprocess.Popen(
            [*CORTESIA, "serve", "training", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=ROOT,
            env=env,
            stderr=subprocess.DEVNULL,
        ),
    ]
    try:
        created = subprocess.run(
            [*CORTESIA, "create-owner", "--name", "Ana Souza", "--email", "ana@example.com"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert created.returncode == 0, created.stderr
        training = Database(env["CORTESIA_TRAINING_DATABASE_URL"])

        def owner_replicated() -> bool:
            with training.transaction() as session:
                return session.execute(text("SELECT role FROM staff_directory")).scalar() == "owner"

        wait_until(owner_replicated, 60, "training's worker to replicate the owner")
        training.dispose()
        wait_for_port(port, 30)
        ready = get_json(f"http://127.0.0.1:{port}/readyz")
        assert ready["checks"] == {"database": "ok", "bus": "ok"}
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 30
        for process in processes:
            process.wait(max(1, deadline - time.monotonic()))
    assert [p.returncode for p in processes[:2]] == [0, 0], "workers stop cleanly on SIGTERM"
