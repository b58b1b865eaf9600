"""Hostile input tables for the header-injection tests, and the helpers that state what a header
must then say."""

from __future__ import annotations

import base64

import pytest

VICTIM = "victim@example.net"

LETTER_HEADERS = [
    "Cc",
    "Content-Transfer-Encoding",
    "Content-Type",
    "Date",
    "From",
    "MIME-Version",
    "Message-ID",
    "Reply-To",
    "Subject",
    "To",
]


def cut(text: str, limit: int) -> str:
    """Text over `limit` characters ends, at the limit, with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def ascii_domain(address: str) -> str:
    """The address as it must travel: its domain in IDNA form, its local part as typed."""
    local_part, _, domain = address.rpartition("@")
    return f"{local_part}@{domain.encode('idna').decode()}"


def b_word(text: str) -> str:
    return f"=?utf-8?b?{base64.b64encode(text.encode()).decode()}?="


LONG_NAME = "Jane" + "x" * 1996

# (what a supporter, an MP record or a template supplies, what the header must then say)
HOSTILE_TEXT = {
    "Q word hiding CRLF": (
        f"=?utf-8?q?Jane=0D=0ABcc:_{VICTIM}?=",
        f"= ?utf-8?q?Jane=0D=0ABcc:_{VICTIM}?=",
    ),
    "Q word hiding LF": (f"=?utf-8?q?Jane=0ABcc:_{VICTIM}?=", f"= ?utf-8?q?Jane=0ABcc:_{VICTIM}?="),
    "Q word hiding CR": (f"=?utf-8?q?Jane=0DBcc:_{VICTIM}?=", f"= ?utf-8?q?Jane=0DBcc:_{VICTIM}?="),
    "Q word replacing the body": (
        "=?utf-8?q?Act=0D=0AContent-Type:_text/html=0D=0A=0D=0A<h1>Hi</h1>?=",
        "= ?utf-8?q?Act=0D=0AContent-Type:_text/html=0D=0A=0D=0A<h1>Hi</h1>?=",
    ),
    "B word hiding CRLF": (
        b_word(f"Jane\r\nBcc: {VICTIM}"),
        b_word(f"Jane\r\nBcc: {VICTIM}").replace("=?", "= ?"),
    ),
    "B word hiding LF": (
        b_word(f"Jane\nBcc: {VICTIM}"),
        b_word(f"Jane\nBcc: {VICTIM}").replace("=?", "= ?"),
    ),
    "B word hiding CR": (
        b_word(f"Jane\rBcc: {VICTIM}"),
        b_word(f"Jane\rBcc: {VICTIM}").replace("=?", "= ?"),
    ),
    "line separator U+2028": (f"Jane\u2028Bcc: {VICTIM}", f"Jane Bcc: {VICTIM}"),
    "paragraph separator U+2029": (f"Jane\u2029Bcc: {VICTIM}", f"Jane Bcc: {VICTIM}"),
    "next line U+0085": (f"Jane\u0085Bcc: {VICTIM}", f"Jane Bcc: {VICTIM}"),
    "vertical tab": (f"Jane\vBcc: {VICTIM}", f"Jane Bcc: {VICTIM}"),
    "form feed": (f"Jane\fBcc: {VICTIM}", f"Jane Bcc: {VICTIM}"),
    "NUL": (f"Jane\x00Bcc: {VICTIM}", f"Jane Bcc: {VICTIM}"),
    "bidi override": ("Jane \u202eeoD\u202c", "Jane eoD"),
    "bidi isolate": ("Jane \u2067Doe\u2069", "Jane Doe"),
    "2,000 characters": (LONG_NAME, LONG_NAME),
}

HOSTILE_CASES = pytest.mark.parametrize(
    ("supplied", "expected"), list(HOSTILE_TEXT.values()), ids=list(HOSTILE_TEXT)
)

# For text stored first: PostgreSQL cannot hold NUL, and the columns are shorter than 2,000
# characters. Both cases are covered above, where the text goes straight into the email.
STORABLE = {k: v for k, v in HOSTILE_TEXT.items() if k not in ("NUL", "2,000 characters")}

STORABLE_HOSTILE_CASES = pytest.mark.parametrize(
    ("supplied", "expected"), list(STORABLE.values()), ids=list(STORABLE)
)
