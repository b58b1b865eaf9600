"""The worker sends supporters' own emails: the confirmation plainly the organisation's, with the
privacy notice and an erasure link, and the "you have already written" notice, once."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import SupporterNotice
from tests.journeys import write_and_confirm, write_letter
from tests.smtp_server import SmtpTestServer


def test_worker_confirmation_opens_with_the_organisation_and_ends_with_the_privacy_links(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    write_letter(post_form, name="Claim your refund now at https://evil.example")

    deliver()

    [message] = smtp_server.messages
    text = message.get_content()
    assert text.splitlines()[0] == "This is Free Tibet, about our campaign “Ban Chen Quanguo”."
    assert "evil.example" not in text
    assert "http://localhost/privacy\n" in text
    assert "http://localhost/privacy/erase/" in text


def test_worker_sends_the_already_written_notice_to_the_owner_when_someone_writes_as_them(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)
    deliver()
    before = len(smtp_server.messages)
    write_letter(post_form)

    deliver()

    notices = [
        message
        for message in smtp_server.messages[before:]
        if message["Subject"] == "Free Tibet: your letter to Ms Diane Abbott"
    ]
    assert [message["To"] for message in notices] == ["jane@example.org"]


def test_worker_sends_the_already_written_notice_once_when_run_again(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)
    deliver()
    write_letter(post_form)
    deliver()
    count = len(smtp_server.messages)

    deliver()

    assert len(smtp_server.messages) == count
    assert db_session.scalars(select(SupporterNotice.sent_at)).one() is not None
