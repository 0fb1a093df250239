"""Email addresses the platform can deliver to, checked where people type them.

An address is kept only if a mail server will take it: the part before the @ in
plain ASCII (an accented one needs SMTPUTF8, which few servers offer, so the message
would fail hours later instead of the form failing now), and an international domain
written the way DNS knows it (``exámple.com`` becomes ``xn--exmple-qta.com``, the
same domain).
"""

from __future__ import annotations

import re

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class UndeliverableAddress(ValueError):
    """An address refused, with words a person can act on."""


def deliverable_address(value: str) -> str:
    """``value`` as the platform stores it (trimmed, lower case, ASCII domain), or
    UndeliverableAddress saying what is wrong with it."""
    address = (value or "").strip()
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain:
        raise UndeliverableAddress(f"{address!r} is not an email address.")
    if not local.isascii():
        raise UndeliverableAddress(
            f"{address!r} has accents or other non-ASCII letters before the @; most mail "
            "servers refuse such addresses. Use the person's plain address."
        )
    if not _LOCAL_PART.match(local) or ".." in local or local[0] == "." or local[-1] == ".":
        raise UndeliverableAddress(f"{address!r} is not an email address.")
    try:
        ascii_domain = domain.rstrip(".").encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise UndeliverableAddress(f"{domain!r} is not a valid domain name.") from None
    labels = ascii_domain.split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise UndeliverableAddress(f"{domain!r} is not a valid domain name.")
    return f"{local.lower()}@{ascii_domain}"
