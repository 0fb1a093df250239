"""Contacts through the API, and customer search that takes staff's text literally."""

from __future__ import annotations

from flask import Flask

from tests.billing.test_api import Staff, created


def test_contacts_are_added_and_removed_with_clear_refusals(app: Flask) -> None:
    staff = Staff(app, "billing")
    customer = created(
        staff.post("/api/customers", {"name": "Loja 100%", "email": "loja@example.com"})
    )
    contact = created(
        staff.post(
            f"/api/customers/{customer['id']}/contacts",
            {"name": "Rui", "email": "rui@example.com", "receives_invoices": True},
        )
    )
    assert staff.get(f"/api/customers/{customer['id']}").json["contacts"][0]["name"] == "Rui"
    refused = staff.post(f"/api/customers/{customer['id']}/contacts", {"name": "Nobody"})
    assert refused.status_code == 422 and "email or a phone" in refused.json["message"]
    missing = staff.post("/api/customers/999/contacts", {"name": "X", "phone": "+55 11 5555"})
    assert missing.status_code == 404
    gone = staff.client.delete(
        f"/api/customers/{customer['id']}/contacts/{contact['id']}",
        headers={"X-CSRFToken": staff.token},
    )
    assert gone.status_code == 204
    assert staff.get(f"/api/customers/{customer['id']}").json["contacts"] == []


def test_search_treats_percent_and_underscore_as_text(app: Flask) -> None:
    staff = Staff(app, "billing")
    created(staff.post("/api/customers", {"name": "Loja 100%", "email": "loja@example.com"}))
    created(staff.post("/api/customers", {"name": "Loja 1000", "email": "mil@example.com"}))
    names = [c["name"] for c in staff.get("/api/customers?q=100%25").json]
    assert names == ["Loja 100%"]
    assert "Loja 100%" in staff.get("/customers?q=100%25").text
