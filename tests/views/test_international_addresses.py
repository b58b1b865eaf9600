"""Supporters with international addresses, and hostile stored text, through the whole journey."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.cli import worker_settings
from mp_mailer.clients.smtp_relay import SmtpRelay, SmtpSettings
from mp_mailer.db import utcnow
from mp_mailer.models import DeliveryAttempt, LetterStatus
from mp_mailer.worker import run_worker
from tests.factories import create_letter
from tests.smtp_server import SmtpTestServer
from tests.test_email_headers import LETTER_HEADERS, STORABLE_HOSTILE_CASES, ascii_domain, cut
from tests.views.test_supporter_journey import (
    confirm,
    confirmation_link,
    the_letter,
    write_and_confirm,
    write_letter,
)

INTERNATIONAL = pytest.mark.parametrize(
    "email", ["josé@example.com", "zoë@example.org", "jo@bücher.example"]
)
CONFIRMATION_HEADERS = [
    "Content-Transfer-Encoding",
    "Content-Type",
    "Date",
    "From",
    "MIME-Version",
    "Message-ID",
    "Subject",
    "To",
]


@INTERNATIONAL
def test_confirmation_email_reaches_a_supporter_with_an_international_address(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    email: str,
) -> None:
    write_letter(post_form, email=email)

    deliver()

    [message] = smtp_server.messages
    assert message["To"].addresses[0].addr_spec == ascii_domain(email)
    assert smtp_server.envelopes[0][1] == [ascii_domain(email)]


@INTERNATIONAL
def test_letter_from_a_supporter_with_an_international_address_replies_to_them(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
    email: str,
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver, email=email)

    deliver()

    message = smtp_server.messages[-1]
    assert sorted(message.keys()) == LETTER_HEADERS
    assert message["Reply-To"].addresses[0].addr_spec == ascii_domain(email)
    assert message["Cc"].addresses[0].addr_spec == ascii_domain(email)
    assert smtp_server.envelopes[-1][1] == [
        "diane.abbott.office@parliament.uk",
        ascii_domain(email),
    ]
    assert the_letter(db_session).status == LetterStatus.SENT


def test_letter_with_a_non_ascii_local_part_fails_saying_why_when_the_relay_lacks_smtputf8(
    app: Flask, db_session: Session
) -> None:
    letter = create_letter(db_session, supporter_email="josé@example.com", send_copy=False)
    config = app.extensions["mp_mailer.config"]

    with SmtpTestServer(smtputf8=False) as relay_without_smtputf8:
        settings = SmtpSettings(
            host=relay_without_smtputf8.host, port=relay_without_smtputf8.port, security="none"
        )
        run_worker(
            app.extensions["mp_mailer.session_factory"],
            lambda: SmtpRelay(settings),
            worker_settings(config),
            once=True,
        )

    assert relay_without_smtputf8.messages == []
    assert the_letter(db_session).status == LetterStatus.FAILED
    [attempt] = db_session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.letter_id == letter.id)
    )
    assert "does not offer SMTPUTF8" in (attempt.smtp_reply or "")


@STORABLE_HOSTILE_CASES
def test_confirmation_email_for_a_hostile_mp_name_arrives_with_only_our_headers(
    app: Flask,
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Any,
    supplied: str,
    expected: str,
) -> None:
    create_letter(
        db_session,
        mp_name=supplied,
        status=LetterStatus.AWAITING_CONFIRMATION,
        next_attempt_at=None,
        confirmation_due_at=utcnow(),
    )

    deliver()

    [message] = smtp_server.messages
    assert sorted(message.keys()) == CONFIRMATION_HEADERS
    assert message["Subject"] == cut(f"Confirm your letter to {expected}", 300)


def test_letter_keeps_encoded_words_in_the_address_and_body_out_of_its_headers(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    hostile = "=?utf-8?q?x=0D=0ABcc:_victim@example.net?="
    write_letter(
        post_form,
        address=f"1 Example Road\n{hostile}",
        body=f"Dear Ms Abbott,\n\n{hostile}\n\nPlease press for sanctions on Chen Quanguo now.",
    )
    deliver()
    confirm(seeded_client, confirmation_link(smtp_server))

    deliver()

    message = smtp_server.messages[-1]
    assert sorted(message.keys()) == LETTER_HEADERS
    assert message.get_content().count(hostile) == 2
    assert "victim@example.net" not in smtp_server.envelopes[-1][1]
