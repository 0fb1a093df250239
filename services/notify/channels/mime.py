"""An email's bytes on the wire, written directly from an ``Outgoing`` message.

Notify's emails have one known shape: a plain-text part, maybe an html
alternative, maybe attachments. ``email.message.EmailMessage`` would parse every
header it is given back into objects and fold every header again when it is
flattened, which costs a few milliseconds a message, more than delivering it.
Here the lines are written as they go out, accented header values (the subject,
display names, extra headers) included: they become RFC 2047 encoded words here,
because a subject carries an invoice number, differs in every message, and no
cache would spare ``email.header`` its cost, most of a message's. The standard
library still writes the quoted-printable and base64 bodies and the RFC 2231
file names, and folds the rare all-ASCII value too long for one line. A
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
from email.headerregistry import Address
from email.quoprimime import body_encode
from email.utils import encode_rfc2231, format_datetime

from services.notify.channels.base import Attachment, Outgoing

CRLF = "\r\n"
LINE_LENGTH = 78
"""RFC 5322's recommended line length: longer headers are folded, text with longer lines
is quoted-printable encoded (as the email package does)."""
QUOTED_PRINTABLE_LINE = 76
"""RFC 2045's limit for a quoted-printable line."""
ENCODED_WORD_LENGTH = 75
"""RFC 2047's limit for one encoded word, ``=?utf-8?b?`` and ``?=`` included."""

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
    lines = [_mailbox_header("From", sender), _mailbox_header("To", recipient)]
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


def _mailbox_header(name: str, address: Address) -> str:
    """``Name: Display Name <address>``: an accented display name in RFC 2047 words,
    unless the address itself is accented (the message then goes as SMTPUTF8, headers
    in UTF-8)."""
    display_name, spec = address.display_name, address.addr_spec
    if display_name.isascii() or not spec.isascii():
        return f"{name}: {address}"  # str() quotes a name with commas or dots
    lines = _encoded_words(display_name, first_line=f"{name}: ")
    angle_addr = f"<{spec}>"
    if len(lines[-1]) + 1 + len(angle_addr) <= LINE_LENGTH:
        lines[-1] += f" {angle_addr}"
    else:
        lines.append(f" {angle_addr}")  # folding before the "<" is allowed
    return CRLF.join(lines)


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
    first_line = f"{name}: "
    if not value.isascii():
        return CRLF.join(_encoded_words(value, first_line))
    if len(first_line) + len(value) <= LINE_LENGTH or " " not in value:
        return first_line + value  # short, or one word with nowhere to fold
    # An ASCII value too long for its line is rare (subjects are short): the email
    # package's cost does not matter here.
    return first_line + _folded_by_the_email_package(name, value)


def _folded_by_the_email_package(name: str, value: str) -> str:
    header = policy.SMTP.header_factory(name, value)
    return header.fold(policy=policy.SMTP).partition(":")[2].strip()


# -- RFC 2047 encoded words -----------------------------------------------------------
#
# Base64 ("b") rather than quoted-printable ("q"): its length is a fixed 4 characters
# for every 3 bytes, so how many bytes fit in a word is one division, and the same
# words are valid in a Subject and in a display name (where "q" must escape more).

_WORD_START = "=?utf-8?b?"
_WORD_END = "?="
_SHORTEST_WORD = len(_WORD_START) + 8 + len(_WORD_END)
"""A word that holds any one character: the longest is 4 UTF-8 bytes, 8 in base64."""


def _encoded_words(value: str, first_line: str) -> list[str]:
    """The lines of ``value`` as encoded words, the first after ``first_line``, each
    further line one folding space and one word; no line longer than LINE_LENGTH
    unless ``first_line`` alone leaves no room for a word.

    A reader decodes each word on its own, so a word holds whole characters (RFC 2047
    §5), and drops the folding whitespace between two words (§6.2): a space of the
    value is inside a word, never the fold itself.
    """
    data = value.encode("utf-8")
    lines: list[str] = []
    prefix = first_line
    start = 0
    while start < len(data):
        # Beside a header name too long to leave room for a word of one character (a
        # made-up extra header), that word goes anyway: a line that long is the name's
        # doing, and within RFC 5322's hard limit of 998. Python's reader would keep the
        # space of a fold right after the colon as part of the value.
        room = min(ENCODED_WORD_LENGTH, max(LINE_LENGTH - len(prefix), _SHORTEST_WORD))
        end = start + _bytes_in_a_word(room)
        if end < len(data):
            end = _word_end(data, start, end)
        encoded = base64.b64encode(data[start:end]).decode("ascii")
        lines.append(f"{prefix}{_WORD_START}{encoded}{_WORD_END}")
        prefix, start = " ", end
    return lines


def _bytes_in_a_word(room: int) -> int:
    """How many bytes fit, base64 encoded, in a word of at most ``room`` characters."""
    return (room - len(_WORD_START) - len(_WORD_END)) // 4 * 3


def _word_end(data: bytes, start: int, limit: int) -> int:
    """Where the word that starts at ``start`` and may run up to ``limit`` ends."""
    # Just after a space in the second half of the word, when there is one: a reader
    # that keeps the fold's whitespace between two words (Python's address parser did,
    # CPython gh-128110) then shows a doubled space rather than a word cut in two.
    # A space byte is always a whole character in UTF-8.
    space = data.rfind(b" ", start + (limit - start) // 2, limit)
    if space != -1:
        return space + 1
    # Otherwise before the character that would not fit whole: back over its
    # continuation bytes (10xxxxxx) to its first byte.
    end = limit
    while data[end] & 0b1100_0000 == 0b1000_0000:
        end -= 1
    return end


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
