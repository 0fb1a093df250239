"""The platform started as its users start it, once per run mode for the whole package."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.testing.smtp import MailSink
from tests.e2e.harness import Distributed, Embedded, Platform

E2E_VHOST = "e2e"


@pytest.fixture(scope="package")
def sink() -> Iterator[MailSink]:
    with MailSink() as running:
        yield running


def _private_vhost(rabbit: Any) -> str:
    """A virtual host of its own, where the broker allows it: the session's other tests
    run consumers on the same queue names."""
    control = getattr(rabbit, "ctl", None)
    if control is None:
        return str(rabbit.url)
    control("add_vhost", E2E_VHOST)
    user = rabbit.url.split("//", 1)[1].split(":", 1)[0]
    control("set_permissions", "-p", E2E_VHOST, user, ".*", ".*", ".*")
    return str(rabbit.url).rsplit("/", 1)[0] + f"/{E2E_VHOST}"


@pytest.fixture(scope="package", params=["distributed", "embedded"])
def platform(
    request: pytest.FixtureRequest, sink: MailSink, rabbit: Any, postgres_server: Any
) -> Iterator[Platform]:
    root = Path(tempfile.mkdtemp(prefix=f"cortesia-e2e-{request.param}-"))
    sink.clear()  # what the other mode's platform sent is not this one's mail
    started: Platform
    if request.param == "distributed":
        admin_url = getattr(postgres_server, "admin_url", None)
        assert admin_url, "the distributed platform needs the PostgreSQL server's admin URL"
        started = Distributed(root, sink, _private_vhost(rabbit), admin_url)
    else:
        started = Embedded(root, sink)
    started.start()
    yield started
    started.stop()
    if not os.environ.get("CORTESIA_E2E_KEEP"):
        shutil.rmtree(root, ignore_errors=True)
