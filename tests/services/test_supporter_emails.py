"""The emails a supporter receives: plainly the campaign's, no typed text in the first line, the
privacy notice and a working self-erasure link in each."""

from __future__ import annotations

import re
from email.headerregistry import Address

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from mp_mailer.services.supporter_emails import (
    SupporterEmailSettings,
    already_written_message,
    confirmation_message,
)
from tests.conftest import PUBLIC_URL, TEST_SECRET_KEY
from tests.factories import create_letter
from tests.pages import post_with_token

SETTINGS = SupporterEmailSettings(
    secret_key=TEST_SECRET_KEY,
    public_url=PUBLIC_URL,
    mail_from=Address("Free Tibet", "campaigns", "freetibet.example"),
    confirmation_max_age_hours=48,
)
ATTACKER_NAME = "Claim your refund now at https://evil.example"


def test_confirmation_message_opens_with_the_organisation_when_the_name_is_hostile(
    db_session: Session,
) -> None:
    letter = create_letter(db_session, supporter_name=ATTACKER_NAME)

    message = confirmation_message(letter, SETTINGS)

    text = message.get_content()
    assert text.startswith("This is Free Tibet, about our campaign")
    assert "evil.example" not in text
    assert message["Subject"] == "Free Tibet: confirm your letter to Ms Diane Abbott"
    assert message["From"] == "Free Tibet <campaigns@freetibet.example>"


def test_confirmation_message_links_the_privacy_notice_and_erasure_when_sent(
    db_session: Session,
) -> None:
    letter = create_letter(db_session)

    text = confirmation_message(letter, SETTINGS).get_content()

    assert "Free Tibet is the data controller" in text
    assert f"{PUBLIC_URL}/privacy\n" in text
    assert f"{PUBLIC_URL}/privacy/erase/" in text
    assert f"{PUBLIC_URL}/confirm/" in text


def test_erasure_link_in_an_email_erases_the_details_when_followed(
    client: FlaskClient, db_session: Session
) -> None:
    letter = create_letter(db_session)
    text = already_written_message(letter, SETTINGS).get_content()
    match = re.search(r"http://localhost(/privacy/erase/\S+)", text)
    assert match

    post_with_token(client, match.group(1), {})

    db_session.expire_all()
    assert letter.erased_at is not None
