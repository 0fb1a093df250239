"""A signed-in staff member's browser session for a service's test client."""

from __future__ import annotations

import re
from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from shared.web.auth import SESSION_KEY


class StaffSession:
    """The shared cookie's claims for ``identity``, and the page's CSRF token for writes."""

    def __init__(self, app: Flask, identity: dict[str, Any]) -> None:
        self.client: FlaskClient = app.test_client()
        with self.client.session_transaction() as session:
            session[SESSION_KEY] = identity
            session["_user_id"] = str(identity["id"])
        page = self.client.get("/", headers={"Accept": "text/html"}, follow_redirects=True)
        match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        self.token = match.group(1) if match else ""

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def send(self, method: str, url: str, json: Any) -> Any:
        return self.client.open(url, method=method, json=json, headers={"X-CSRFToken": self.token})

    def post(self, url: str, json: Any) -> Any:
        return self.send("POST", url, json)

    def patch(self, url: str, json: Any) -> Any:
        return self.send("PATCH", url, json)
