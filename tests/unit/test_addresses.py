"""Addresses are refused where they are typed when no mail server would take them."""

from __future__ import annotations

import pytest

from shared.addresses import UndeliverableAddress, deliverable_address


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("  Ana.Souza+loja@Example.COM ", "ana.souza+loja@example.com"),
        ("joao@padaria-são-jorge.com.br", "joao@xn--padaria-so-jorge-mnb.com.br"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_addresses_are_kept_in_the_form_mail_servers_take(typed: str, kept: str) -> None:
    assert deliverable_address(typed) == kept


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("luísa@loja.example", "non-ASCII letters before the @"),
        ("ana", "not an email address"),
        ("@example.com", "not an email address"),
        ("ana@", "not an email address"),
        ("ana..souza@example.com", "not an email address"),
        ("ana souza@example.com", "not an email address"),
        ("ana@localhost", "not a valid domain"),
        ("ana@-example.com", "not a valid domain"),
    ],
)
def test_undeliverable_addresses_are_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(UndeliverableAddress, match=why):
        deliverable_address(typed)
