"""The last check before sending: the serialised bytes carry exactly the headers set on the
message, each once and on one line, and read back as what was set."""

from __future__ import annotations

import email.parser
import email.policy
import email.utils
import re
from email.message import EmailMessage

from mp_mailer.clients.smtp_replies import SmtpMessageRefused
from mp_mailer.email_policy import MAIL_POLICY

MAX_LINE_OCTETS = 998


# Any character that str.splitlines() or some mail reader treats as ending a line, and NUL.
_LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029\x00")


_FIELD_NAME = re.compile(rb"[!-9;-~]+")


_HEADER_CONTROLS = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")


_BARE_CR_OR_LF = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def check_serialised(content: bytes, message: EmailMessage) -> None:
    """Refuse bytes whose headers are not exactly `message`'s own, each once, each one line.

    This is the last line of defence against header injection, whatever let it through (the
    email package decoding an encoded word into a raw CRLF, CVE-2024-6923, is one way): the
    check is on the bytes about to be sent. Raises SmtpMessageRefused.
    """
    head, separator, body = content.partition(b"\r\n\r\n")
    if not separator:
        raise SmtpMessageRefused("no blank line separates the headers from the body")
    found = _field_names(head)
    expected = [name.lower() for name in message if name.lower() != "bcc"]
    duplicated = sorted({name for name in found if found.count(name) > 1})
    if duplicated:
        raise SmtpMessageRefused(f"header set more than once: {', '.join(duplicated)}")
    if sorted(found) != sorted(expected):
        unexpected = sorted(set(found) - set(expected)) or ["none"]
        missing = sorted(set(expected) - set(found)) or ["none"]
        raise SmtpMessageRefused(
            f"headers are not the ones set: unexpected {', '.join(unexpected)}; "
            f"missing {', '.join(missing)}"
        )
    for name, value in message.items():
        if _LINE_BREAKS.intersection(str(value)):
            raise SmtpMessageRefused(f"the {name} header's value has a line break in it")
    # Read back as a mail program would: CPython's folding can drop the quotes around a long
    # display name, and "Doe, Jane" then becomes two addresses.
    parsed = email.parser.Parser(policy=MAIL_POLICY).parsestr(
        head.decode("utf-8", errors="replace") + "\r\n\r\n", headersonly=True
    )
    for name, value in message.items():
        if _meaning(parsed[name]) != _meaning(value):
            raise SmtpMessageRefused(f"the {name} header reads back differently from what was set")
    if _BARE_CR_OR_LF.search(body) or b"\x00" in body:
        raise SmtpMessageRefused("the body has a bare CR, LF or NUL")


def _meaning(value: object) -> object:
    addresses = getattr(value, "addresses", None)
    if addresses is not None:
        return [(address.display_name, address.addr_spec) for address in addresses]
    return " ".join(str(value).split())


def _field_names(head: bytes) -> list[str]:
    names: list[str] = []
    for number, line in enumerate(head.split(b"\r\n"), start=1):
        if len(line) > MAX_LINE_OCTETS:
            raise SmtpMessageRefused(f"header line {number} is longer than {MAX_LINE_OCTETS}")
        if _HEADER_CONTROLS.search(line):
            raise SmtpMessageRefused(f"header line {number} has a control character or bare CR/LF")
        if line[:1] in (b" ", b"\t"):
            # A folded line; one of only whitespace reads as the end of the headers to some.
            if not names or not line.strip(b" \t"):
                raise SmtpMessageRefused(f"header line {number} continues nothing")
            continue
        name, colon, _ = line.partition(b":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            raise SmtpMessageRefused(f"header line {number} is not a header")
        names.append(name.decode("ascii").lower())
    return names
