"""Header injection (CVE-2024-6923) and international addresses, as the relay receives the email."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from typing import Any

import pytest

from mp_mailer.clients.smtp_relay import SmtpRelay, SmtpSettings
from mp_mailer.email_messages import (
    LetterEnvelope,
    Supporter,
    build_letter_message,
    build_plain_message,
    letter_text,
)
from tests.hostile_input import (
    HOSTILE_CASES,
    LETTER_HEADERS,
    VICTIM,
    cut,
)
from tests.smtp_server import SmtpTestServer

MAIL_FROM = Address("Free Tibet", "campaigns", "freetibet.example")
SENT_ON = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
SUPPORTER = Supporter(
    name="Jane Doe", email="jane@example.org", address="1 Example Road\nLondon", postcode="SW1A 1AA"
)
LETTER = LetterEnvelope(
    message_id="<letter-1@freetibet.example>",
    subject="Please press for sanctions",
    body="Dear Ms Abbott,\n\nPlease press for sanctions on Chen Quanguo.",
    supporter=SUPPORTER,
    mp_name="Ms Diane Abbott",
    mp_email="diane.abbott.office@parliament.uk",
    send_copy=True,
)


@pytest.fixture
def relay(smtp_server: SmtpTestServer) -> Iterator[SmtpRelay]:
    settings = SmtpSettings(
        host=smtp_server.host, port=smtp_server.port, security="none", local_hostname="localhost"
    )
    with SmtpRelay(settings) as smtp_relay:
        yield smtp_relay


def received_once(smtp_server: SmtpTestServer, relay: SmtpRelay, message: EmailMessage) -> Any:
    relay.send(message)
    [received] = smtp_server.wait_for_messages(1)
    return received


def assert_exactly_the_letter_headers(received: EmailMessage) -> None:
    assert sorted(received.keys()) == LETTER_HEADERS
    for name, value in received.items():
        assert "\n" not in str(value) and "\r" not in str(value), name


@HOSTILE_CASES
def test_letter_from_a_hostile_supporter_name_arrives_with_only_our_headers(
    smtp_server: SmtpTestServer, relay: SmtpRelay, supplied: str, expected: str
) -> None:
    letter = replace(LETTER, supporter=replace(SUPPORTER, name=supplied))

    received = received_once(
        smtp_server, relay, build_letter_message(letter, MAIL_FROM, None, SENT_ON)
    )

    assert_exactly_the_letter_headers(received)
    assert received["From"].addresses[0].display_name == f"{cut(expected, 200)} via Free Tibet"
    assert received["Reply-To"].addresses[0].display_name == cut(expected, 200)
    assert received["Cc"].addresses[0].display_name == cut(expected, 200)
    assert smtp_server.envelopes[-1][1] == ["diane.abbott.office@parliament.uk", "jane@example.org"]
    assert received.get_content() == letter_text(letter.body, letter.supporter)


@HOSTILE_CASES
def test_letter_to_a_hostile_mp_name_arrives_with_only_our_headers(
    smtp_server: SmtpTestServer, relay: SmtpRelay, supplied: str, expected: str
) -> None:
    letter = replace(LETTER, mp_name=supplied)

    received = received_once(
        smtp_server, relay, build_letter_message(letter, MAIL_FROM, None, SENT_ON)
    )

    assert_exactly_the_letter_headers(received)
    assert received["To"].addresses[0].display_name == cut(expected, 300)
    assert received.get_content() == letter_text(letter.body, letter.supporter)


@HOSTILE_CASES
def test_letter_with_a_hostile_subject_arrives_with_only_our_headers(
    smtp_server: SmtpTestServer, relay: SmtpRelay, supplied: str, expected: str
) -> None:
    letter = replace(LETTER, subject=supplied)

    received = received_once(
        smtp_server, relay, build_letter_message(letter, MAIL_FROM, None, SENT_ON)
    )

    assert_exactly_the_letter_headers(received)
    assert received["Subject"] == cut(expected, 300)
    assert received.get_content() == letter_text(letter.body, letter.supporter)


@HOSTILE_CASES
def test_service_email_with_a_hostile_subject_arrives_with_only_our_headers(
    smtp_server: SmtpTestServer, relay: SmtpRelay, supplied: str, expected: str
) -> None:
    message = build_plain_message(
        mail_from=MAIL_FROM, to="jane@example.org", subject=supplied, text="Hello.\n"
    )

    received = received_once(smtp_server, relay, message)

    assert sorted(received.keys()) == [
        "Content-Transfer-Encoding",
        "Content-Type",
        "From",
        "MIME-Version",
        "Subject",
        "To",
    ]
    assert received["Subject"] == cut(expected, 300)
    assert received.get_content() == "Hello.\n"


def test_letter_from_a_hostile_organisation_name_keeps_the_campaign_address(
    smtp_server: SmtpTestServer, relay: SmtpRelay
) -> None:
    mail_from = Address(f"=?utf-8?q?Free_Tibet=0D=0ABcc:_{VICTIM}?=", addr_spec=MAIL_FROM.addr_spec)

    received = received_once(smtp_server, relay, build_letter_message(LETTER, mail_from))

    assert received["From"].addresses[0].display_name == (
        f"Jane Doe via = ?utf-8?q?Free_Tibet=0D=0ABcc:_{VICTIM}?="
    )
    assert received["From"].addresses[0].addr_spec == "campaigns@freetibet.example"
    assert smtp_server.envelopes[-1][1] == ["diane.abbott.office@parliament.uk", "jane@example.org"]
