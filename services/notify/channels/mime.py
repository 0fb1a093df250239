"""An email's bytes on the wire, written directly from an ``Outgoing`` message.

Notify's emails have one known shape: a plain-text part, maybe an html
alternative, maybe attachments. ``email.message.EmailMessage`` would parse every
header it is given back into objects and fold every header again when it is
flattened, which costs a few milliseconds a message, more than delivering it.
Here the lines are written as they go out, and only the parts that need care are
left to the standard library's encoders: RFC 2047 words for accented headers
(``email.header``), quoted-printable and base64 bodies, RFC 2231 file names. A
receiver reads the result like any other MIME message (the tests read it back
with the email package).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterable
from datetime import UTC, datetime
from email import policy
from email.errors import MessageError
from email.header import Header
from email.headerregistry import Address
from email.quoprimime import body_encode
from email.utils import encode_rfc2231, format_datetime
from functools import lru_cache

from services.notify.channels.base import Attachment, Outgoing

CRLF = "\r\n"
LINE_LENGTH = 78
"""RFC 5322's recommended line length: longer headers are folded, text with longer lines
is quoted-printable encoded (as the email package does)."""
QUOTED_PRINTABLE_LINE = 76
"""RFC 2045's limit for a quoted-printable line."""

# Set from the notification itself; a caller's extra header must not duplicate them (two
# Message-IDs would defeat the receiver's duplicate check).
OWN_HEADERS = frozenset({"from", "to", "subject", "date", "message-id"})


def parse_address(value: str, display_name: str = "") -> Address:
    """``value`` as one address; ValueError naming it when it is not one."""
    if not value or not value.strip():
        raise ValueError("the address is empty")
    try:
        return Address(display_name=display_name, addr_spec=value.strip())
    except (ValueError, IndexError, MessageError) as error:
        raise ValueError(f"{value!r} is not an email address: {error}") from None


def email_bytes(message: Outgoing, sender: Address) -> bytes:
    """The whole email for ``message`` from ``sender``, CRLF line endings; ValueError
    when it cannot be built (a bad address, Message-ID or extra header)."""
    recipient = parse_address(message.to, message.to_name or "")
    _check_message_id(message.message_id)
    lines = [f"From: {mailbox(sender)}", f"To: {mailbox(recipient)}"]
    if message.subject is not None:
        lines.append(_header("Subject", message.subject))
    lines.append(_header("Date", format_datetime(datetime.now(UTC))))
    lines.append(_header("Message-ID", message.message_id))
    for name, value in message.headers.items():
        if name.lower() in OWN_HEADERS:
            raise ValueError(f"the {name} header is set from the notification, not as extra")
        lines.append(_header(name, value))
    lines.append("MIME-Version: 1.0")
    head = CRLF.join(lines) + CRLF
    return (head + _body(message)).encode("utf-8")


def mailbox(address: Address) -> str:
    """``Name <address>`` for a header: an accented name in RFC 2047 words, unless the
    address itself is accented (the message then goes as SMTPUTF8, headers in UTF-8)."""
    name, spec = address.display_name, address.addr_spec
    if name.isascii() or not spec.isascii():
        return str(address)  # quotes a name with commas or dots
    return _encoded_mailbox(name, spec)


def _check_message_id(message_id: str) -> None:
    if not (
        message_id.startswith("<")
        and message_id.endswith(">")
        and "@" in message_id
        and not any(c.isspace() for c in message_id)
    ):
        raise ValueError(f"{message_id!r} is not a Message-ID like <id@domain>")


def _header(name: str, value: str) -> str:
    if not name.isascii() or not name.isprintable() or ":" in name or " " in name:
        raise ValueError(f"{name!r} is not a header name")
    if "\r" in value or "\n" in value:
        # A line break would end the header and start another (a Bcc, say).
        raise ValueError(f"the {name} header may not contain linefeed or carriage return")
    if value.isascii() and (len(name) + 2 + len(value) <= LINE_LENGTH or " " not in value):
        return f"{name}: {value}"  # short, or one word with nowhere to fold
    return f"{name}: {_folded(name, value)}"


# Cached: the sender's name and a kind's subject in one language repeat from message to
# message. A value too long for one line is folded by the email package's own rules:
# rare, so its cost does not matter.


@lru_cache(maxsize=1024)
def _folded(name: str, value: str) -> str:
    """``value`` as it goes after ``name:``, in RFC 2047 words when it is not ASCII."""
    if not value.isascii():
        word = Header(value, "utf-8").encode()
        if len(name) + 2 + len(word) <= LINE_LENGTH:
            return word
    return _folded_by_the_email_package(name, value)


@lru_cache(maxsize=1024)
def _encoded_mailbox(display_name: str, spec: str) -> str:
    word = Header(display_name, "utf-8").encode()
    if len("To: ") + len(word) + len(spec) + 3 <= LINE_LENGTH:
        return f"{word} <{spec}>"
    return _folded_by_the_email_package("To", str(Address(display_name, addr_spec=spec)))


def _folded_by_the_email_package(name: str, value: str) -> str:
    header = policy.SMTP.header_factory(name, value)
    return header.fold(policy=policy.SMTP).partition(":")[2].strip()


# -- the body ------------------------------------------------------------------------


def _body(message: Outgoing) -> str:
    """The Content-Type and what follows it: the headers' last lines, a blank line, the body."""
    text = _text_part("plain", message.text)
    if message.html is not None:
        text = _multipart("alternative", [text, _text_part("html", message.html)])
    if message.attachments:
        text = _multipart("mixed", [text, *(_attachment(a) for a in message.attachments)])
    return text


def _text_part(subtype: str, text: str) -> str:
    lines = text.encode("utf-8").splitlines()
    if max((len(line) for line in lines), default=0) <= LINE_LENGTH and text.isascii():
        encoding, body = "7bit", CRLF.join(line.decode("ascii") for line in lines) + CRLF
    else:
        # Accented text in quoted-printable passes through any relay, 8BITMIME or not.
        latin = b"\n".join(lines).decode("latin-1") + "\n"
        encoding, body = "quoted-printable", body_encode(latin, QUOTED_PRINTABLE_LINE, eol=CRLF)
    return (
        f'Content-Type: text/{subtype}; charset="utf-8"{CRLF}'
        f"Content-Transfer-Encoding: {encoding}{CRLF}{CRLF}{body}"
    )


def _attachment(attachment: Attachment) -> str:
    maintype, _, subtype = attachment.content_type.partition("/")
    if not maintype or not subtype or not attachment.content_type.isascii():
        maintype, subtype = "application", "octet-stream"
    name = attachment.filename
    filename = (
        'filename="{}"'.format(name.replace("\\", "\\\\").replace('"', '\\"'))
        if name.isascii() and name.isprintable()
        else f"filename*={encode_rfc2231(name, 'utf-8')}"
    )
    data = base64.encodebytes(attachment.data).decode("ascii").replace("\n", CRLF)
    return (
        f"Content-Type: {maintype}/{subtype}{CRLF}"
        f"Content-Transfer-Encoding: base64{CRLF}"
        f"Content-Disposition: attachment; {filename}{CRLF}{CRLF}{data}"
    )


def _multipart(subtype: str, parts: Iterable[str]) -> str:
    boundary = f"=_{secrets.token_hex(12)}"  # short: the Content-Type stays on one line
    # Each part ends with a line break; the delimiter's own break comes before it.
    body = "".join(f"--{boundary}{CRLF}{part}{CRLF}" for part in parts)
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"{CRLF}{CRLF}'
        f"{body}--{boundary}--{CRLF}"
    )
