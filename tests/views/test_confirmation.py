"""The confirmation link: works once, expires, can't be forged; one letter per supporter and MP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from freezegun import freeze_time
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import Letter, LetterStatus, SupporterNotice
from mp_mailer.services.letters import make_confirmation_token
from tests.conftest import TEST_SECRET_KEY
from tests.journeys import (
    confirm,
    confirmation_link,
    the_letter,
    write_and_confirm,
    write_letter,
)
from tests.pages import csrf_token_from, path_for
from tests.smtp_server import SmtpTestServer


def test_confirmation_link_replayed_sends_the_letter_only_once(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_letter(post_form)
    deliver()
    link = confirmation_link(smtp_server)
    confirm(seeded_client, link)
    deliver()

    replay = seeded_client.get(link)
    deliver()

    assert replay.headers["Location"] == path_for(
        "supporter.thank_you", slug="ban-chen-quanguo", again=1
    )
    assert [m["To"] for m in smtp_server.messages].count(
        "Ms Diane Abbott <diane.abbott.office@parliament.uk>"
    ) == 1
    assert the_letter(db_session).status == LetterStatus.SENT


def test_confirmation_pressed_twice_queues_the_letter_once(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_letter(post_form)
    deliver()
    link = confirmation_link(smtp_server)
    token = csrf_token_from(seeded_client.get(link).data)

    first = seeded_client.post(link, data={"csrf_token": token})
    second = seeded_client.post(link, data={"csrf_token": token})

    assert first.headers["Location"] == path_for("supporter.thank_you", slug="ban-chen-quanguo")
    assert second.headers["Location"] == path_for(
        "supporter.thank_you", slug="ban-chen-quanguo", again=1
    )
    events = [e.to_status for e in the_letter(db_session).events]
    assert events == [LetterStatus.AWAITING_CONFIRMATION, LetterStatus.QUEUED]


def test_confirmation_link_opened_again_says_the_letter_is_already_on_its_way(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    write_letter(post_form)
    deliver()
    link = confirmation_link(smtp_server)
    confirm(seeded_client, link)

    page = seeded_client.get(link, follow_redirects=True)

    assert "Your letter is already on its way" in page.data.decode()


def test_confirmation_link_refuses_when_expired(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    write_letter(post_form)
    letter = the_letter(db_session)
    with freeze_time(datetime.now(UTC) - timedelta(hours=49)):
        token = make_confirmation_token(TEST_SECRET_KEY, letter.id)

    page = seeded_client.get(path_for("supporter.confirm", token=token))

    assert page.status_code == 400
    assert "This link has expired." in page.data.decode()
    assert the_letter(db_session).status == LetterStatus.AWAITING_CONFIRMATION


def test_confirmation_link_refuses_when_tampered_with(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    write_letter(post_form)
    token = make_confirmation_token(TEST_SECRET_KEY, the_letter(db_session).id)
    forged = make_confirmation_token("another-secret-key-0123456789", the_letter(db_session).id)

    for bad in (token[:-2] + ("AA" if not token.endswith("AA") else "BB"), forged):
        page = seeded_client.get(path_for("supporter.confirm", token=bad))
        assert page.status_code == 400
        assert "This link isn't valid." in BeautifulSoup(page.data, "html.parser").get_text()
    assert the_letter(db_session).status == LetterStatus.AWAITING_CONFIRMATION


def test_confirmation_page_does_not_send_until_the_button_is_pressed(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    write_letter(post_form)
    token = make_confirmation_token(TEST_SECRET_KEY, the_letter(db_session).id)

    page = seeded_client.get(path_for("supporter.confirm", token=token))

    assert BeautifulSoup(page.data, "html.parser").select_one("form button").get_text() == (
        "Send my letter"
    )
    assert the_letter(db_session).status == LetterStatus.AWAITING_CONFIRMATION


def test_second_letter_after_the_first_was_confirmed_is_answered_as_a_new_letter_is(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)

    again = write_letter(post_form, email="JANE@example.org")

    # Exactly what an unknown address gets: nobody learns who has written to whom.
    assert again.status_code == 302
    assert again.headers["Location"] == "/c/ban-chen-quanguo/check-inbox"
    assert len(db_session.scalars(select(Letter)).all()) == 1
    notices = db_session.scalars(select(SupporterNotice)).all()
    assert [(notice.letter_id, notice.kind) for notice in notices] == [
        (the_letter(db_session).id, "already_written")
    ]


def test_second_unconfirmed_letter_leaves_the_first_unchanged(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    write_letter(post_form, subject="First try", name="Jane Doe")

    write_letter(post_form, subject="Second try", name="Someone Else", address="9 Other St\nLeeds")

    letter = the_letter(db_session)
    assert (letter.subject, letter.supporter_name, letter.supporter_address) == (
        "First try",
        "Jane Doe",
        "1 Example Road\nLondon",
    )
    assert letter.status == LetterStatus.AWAITING_CONFIRMATION


def test_second_unconfirmed_letter_sends_the_first_letters_confirmation_again(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_letter(post_form, subject="First try")
    deliver()
    first_link = confirmation_link(smtp_server)

    write_letter(post_form, subject="Second try", name="Someone Else")
    deliver()

    assert len(smtp_server.messages) == 2
    page = seeded_client.get(confirmation_link(smtp_server))
    assert "First try" in page.get_data(as_text=True)
    assert "Someone Else" not in page.get_data(as_text=True)
    assert seeded_client.get(first_link).status_code == 200


@pytest.mark.parametrize("salt", [b"itsdangerous", b"password-reset"], ids=["default", "other"])
def test_confirmation_link_refuses_a_token_signed_for_another_purpose(
    seeded_client: FlaskClient, post_form: Any, db_session: Session, salt: bytes
) -> None:
    write_letter(post_form)
    letter_id = the_letter(db_session).id
    # Same secret key and payload, another salt: what a token minted elsewhere would be.
    other_purpose = URLSafeTimedSerializer(TEST_SECRET_KEY, salt=salt).dumps(letter_id)

    page = seeded_client.get(path_for("supporter.confirm", token=other_purpose))

    assert page.status_code == 400
    assert "This link isn't valid." in BeautifulSoup(page.data, "html.parser").get_text()
    assert the_letter(db_session).status == LetterStatus.AWAITING_CONFIRMATION


def test_confirm_button_pressed_on_a_page_left_open_after_the_letter_was_sent_sends_nothing_more(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_letter(post_form)
    deliver()
    link = confirmation_link(smtp_server)
    left_open = csrf_token_from(seeded_client.get(link).data)
    confirm(seeded_client, link)
    deliver()
    events_before = [e.to_status for e in the_letter(db_session).events]

    pressed = seeded_client.post(link, data={"csrf_token": left_open}, follow_redirects=True)
    deliver()

    assert "Your letter is already on its way" in pressed.data.decode()
    assert [m["To"] for m in smtp_server.messages].count(
        "Ms Diane Abbott <diane.abbott.office@parliament.uk>"
    ) == 1
    letter = the_letter(db_session)
    assert letter.status == LetterStatus.SENT
    assert [e.to_status for e in letter.events] == events_before
