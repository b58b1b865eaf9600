"""The emails the project sends, built so that nothing typed or stored can become a header."""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.errors import MessageError
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any

import idna

from mp_mailer.email_policy import MAIL_POLICY

# Controls, and everything str.splitlines() or a mail reader may take for a line break.
_BREAKS_AND_CONTROLS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
# Bidi embeddings, overrides and isolates (and the byte-order mark): they make a header read
# differently on screen from what it says, e.g. reversing " via Free Tibet".
_INVISIBLE_FORMATTING = re.compile(r"[\u202a-\u202e\u2066-\u2069\ufeff]")
MAX_HEADER_TEXT = 300
# Short enough that "<name> via <organisation>" never loses the organisation to MAX_HEADER_TEXT.
MAX_NAME_IN_HEADER = 200
MAX_ORGANISATION_IN_HEADER = 80


def header_text(text: str, limit: int = MAX_HEADER_TEXT) -> str:
    """Text made safe for a header: one line, no controls, nothing the email package decodes.

    Every display name and subject goes through here, whoever supplied it. CPython's email
    package decodes RFC 2047 encoded words ("=?utf-8?q?...?=") in the text it is handed, and
    versions before 3.11.10 and 3.12.5 then write any CR/LF they hid out raw (CVE-2024-6923);
    a space after the "=" means no encoded word can start anywhere. The length cap keeps every
    header line under SMTP's 998-character limit however long one word is.
    """
    text = _INVISIBLE_FORMATTING.sub("", text)
    text = " ".join(_BREAKS_AND_CONTROLS.sub(" ", text).split())
    text = text.replace("=?", "= ?")
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text


class UnusableAddress(ValueError):
    """An email address no message can carry; the forms refuse these before they are stored."""


def mailbox(address: str, display_name: str = "") -> Address:
    """The Address for `address` (and a display name made safe by header_text).

    The domain is written in its IDNA (ASCII) form, so every relay can route it; a non-ASCII
    local part is kept as it is, which needs a relay offering SMTPUTF8. Raises UnusableAddress.
    """
    local_part, at, domain = address.strip().rpartition("@")
    if not (at and local_part and domain) or "=?" in address or _has_unsafe_character(address):
        raise UnusableAddress("not an email address we can send to")
    try:
        ascii_domain = domain if domain.isascii() else idna.encode(domain, uts46=True).decode()
    except idna.IDNAError as e:
        raise UnusableAddress(f"the domain cannot be written in ASCII: {e}") from e
    name = header_text(display_name)
    if not local_part.isascii():
        # Address(addr_spec=...) refuses a non-ASCII local part as a defect; built from its
        # parts, it is written out raw under the SMTPUTF8 policy the relay client then uses.
        return Address(display_name=name, username=local_part, domain=ascii_domain)
    try:
        return Address(display_name=name, addr_spec=f"{local_part}@{ascii_domain}")
    except (ValueError, MessageError) as e:
        raise UnusableAddress(f"not an email address we can send to: {e}") from e


def envelope_address(address: str) -> str:
    """The address as the SMTP envelope carries it: the same form mailbox() writes in headers."""
    return mailbox(address).addr_spec


def _has_unsafe_character(text: str) -> bool:
    return bool(
        _BREAKS_AND_CONTROLS.search(text)
        or _INVISIBLE_FORMATTING.search(text)
        or any(character.isspace() for character in text)
    )


@dataclass(frozen=True)
class Supporter:
    name: str
    email: str
    address: str
    postcode: str


def sign_off(supporter: Supporter) -> str:
    """Always appended by mp_mailer: MPs act only for constituents whose address they can check."""
    address_lines = [line.strip() for line in supporter.address.splitlines() if line.strip()]
    return "\n".join(
        [
            "Yours sincerely,",
            "",
            supporter.name,
            *address_lines,
            supporter.postcode,
            supporter.email,
        ]
    )


def letter_text(body: str, supporter: Supporter, footer: str = "") -> str:
    """The letter as the MP reads it: the body, the sign-off, and any line the campaign adds at
    its foot (services/personal_touch.own_words_line)."""
    text = f"{body.strip()}\n\n{sign_off(supporter)}\n"
    return f"{text}\n{footer.strip()}\n" if footer.strip() else text


def new_message_id(domain: str) -> str:
    return make_msgid(idstring="letter", domain=domain)


@dataclass(frozen=True)
class LetterEnvelope:
    """Everything the email to an MP is built from; plain values, no database objects."""

    message_id: str
    subject: str
    body: str
    supporter: Supporter
    mp_name: str
    mp_email: str
    send_copy: bool
    footer: str = ""


def build_letter_message(
    letter: LetterEnvelope,
    mail_from: Address,
    redirect_to: str | None = None,
    sent_on: Any = None,
) -> EmailMessage:
    """The email to the MP, From the campaign's address showing the supporter, Reply-To them.

    Every header value passes through header_text() or mailbox(), so nothing a supporter, an MP
    record or a template supplies can become a header line. Raises UnusableAddress only for an
    address the forms would have refused.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    # mail_from carries the organisation's name (MAIL_FROM's own, or ORGANISATION_NAME).
    supporter_name = header_text(letter.supporter.name, MAX_NAME_IN_HEADER)
    organisation = header_text(
        mail_from.display_name or mail_from.domain, MAX_ORGANISATION_IN_HEADER
    )
    message["From"] = mailbox(mail_from.addr_spec, f"{supporter_name} via {organisation}")
    message["Reply-To"] = mailbox(letter.supporter.email, supporter_name)
    text = letter_text(letter.body, letter.supporter, letter.footer)
    if redirect_to:
        message["To"] = mailbox(redirect_to)
        text = (
            f"[Test copy: on a live site this letter goes to {letter.mp_name} "
            f"<{letter.mp_email}>, not to this address.]\n\n{text}"
        )
    else:
        message["To"] = mailbox(letter.mp_email, letter.mp_name)
    if letter.send_copy:
        message["Cc"] = mailbox(letter.supporter.email, supporter_name)
    message["Subject"] = header_text(letter.subject)
    message["Message-ID"] = letter.message_id
    if sent_on is not None:
        message["Date"] = format_datetime(sent_on)
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    return message


def build_plain_message(
    *, mail_from: Address, to: str, subject: str, text: str, message_id: str | None = None
) -> EmailMessage:
    """A short service email (a confirmation link, a test send) from the campaign's address.

    Headers are made safe as in build_letter_message; raises UnusableAddress likewise.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    message["From"] = mailbox(mail_from.addr_spec, mail_from.display_name)
    message["To"] = mailbox(to)
    message["Subject"] = header_text(subject)
    if message_id:
        message["Message-ID"] = message_id
    message.set_content(text, charset="utf-8", cte="quoted-printable")
    return message
