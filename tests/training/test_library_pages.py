"""The playbook library pages: reading for all staff, editing with history and diff and tuning
the reply checker for the owner."""

from __future__ import annotations

import html

import pytest
from flask import Flask

from tests.support.staff import StaffSession

OWNER = {"id": 1, "name": "Ana", "email": "ana@example.com", "role": "owner"}
AGENT = {"id": 3, "name": "Caio", "email": "caio@example.com", "role": "agent"}


@pytest.fixture
def owner(app: Flask) -> StaffSession:
    return StaffSession(app, OWNER)


def test_staff_read_the_library_and_a_script_in_every_language(app: Flask) -> None:
    agent = StaffSession(app, AGENT)
    listing = agent.get("/playbooks/")
    assert listing.status_code == 200
    assert "reactivation_first" in listing.text and "Cause, fix, prevention" in listing.text
    script = agent.get("/playbooks/reactivation-first")
    assert script.status_code == 200 and "por supuesto" in script.text.lower()
    assert "Publish" not in script.text, "only the owner sees the editor"
    assert agent.get("/playbooks/nothing-here").status_code == 404
    assert agent.client.post("/playbooks/p-resolve", data={"source": "x"}).status_code in (400, 403)


def test_the_owner_edits_a_playbook_and_reads_the_diff(owner: StaffSession) -> None:
    page = owner.get("/playbooks/p-polite")
    source = page.text.split('name="source"', 1)[1].split(">", 1)[1].split("</textarea>", 1)[0]
    assert "kind: lesson" in source
    edited = html.unescape(source).replace("kind: lesson", "kind: lesson\n# tone checked", 1)
    saved = owner.client.post(
        "/playbooks/p-polite",
        data={"source": edited, "note": "Tone", "csrf_token": owner.token},
    )
    assert saved.status_code == 303
    after = owner.get("/playbooks/p-polite")
    assert "v2" in after.text and "Tone" in after.text
    diff = owner.get("/playbooks/p-polite/diff?from=1&to=2")
    assert diff.status_code == 200 and "+# tone checked" in diff.text
    assert owner.get("/playbooks/p-polite/diff").status_code == 400

    broken = owner.client.post(
        "/playbooks/p-polite", data={"source": "kind: poem", "csrf_token": owner.token}
    )
    assert broken.status_code == 422 and "kind must be one of" in broken.text


def test_the_owner_tunes_the_checker_from_its_page(owner: StaffSession, app: Flask) -> None:
    assert StaffSession(app, AGENT).get("/playbooks/checker").status_code == 403
    page = owner.get("/playbooks/checker")
    assert page.status_code == 200 and "P-ESCALATE:dead-end" in page.text
    saved = owner.client.post(
        "/playbooks/checker/P-POLITE:greeting",
        data={"severity": "off", "csrf_token": owner.token},
    )
    assert saved.status_code == 303
    settings = owner.get("/api/checker/settings").get_json()
    assert settings["P-POLITE:greeting"]["severity"] == "off"
    refused = owner.client.post(
        "/playbooks/checker/P-POLITE:greeting",
        data={"severity": "loud", "csrf_token": owner.token},
        follow_redirects=True,
    )
    assert "severity must be one of" in refused.text
