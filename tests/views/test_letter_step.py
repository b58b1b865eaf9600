"""The letter form: what it refuses, what it keeps, and what it never lets into an email header."""

from __future__ import annotations

from email.headerregistry import Address
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.email_messages import LetterEnvelope, Supporter, build_letter_message
from mp_mailer.models import Letter
from tests.journeys import LETTER_URL, supporter_details, write_letter
from tests.pages import page_errors


def letters_stored(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Letter)) or 0


def field_value(response: Any, field_id: str) -> str:
    element = BeautifulSoup(response.data, "html.parser").select_one(f"#{field_id}")
    assert element is not None
    return element.get_text() if element.name == "textarea" else str(element.get("value", ""))


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("name", "Jane\r\nBcc: victim@example.com", "Full name must be on one line."),
        ("subject", "Hello\r\nBcc: victim@example.com", "Subject must be on one line."),
        ("subject", "Hello\nX-Injected: yes", "Subject must be on one line."),
        ("email", "jane@example.org\r\nBcc: victim@example.com", "Enter an email address"),
        ("email", "jane@example.org>, victim@example.com", "Enter an email address"),
        ("name", "Jane\x00Doe", "Full name contains characters we can't send."),
        ("name", "=?utf-8?q?Jane=0D=0ABcc:_victim@example.com?=", "Full name can't contain"),
        ("name", "=?UTF-8?B?SmFuZQ0KQmNjOiB2aWN0aW1AZXhhbXBsZS5jb20=?=", "Full name can't contain"),
        ("subject", "=?utf-8?q?Act=0D=0AContent-Type:_text/html?=", "Subject can't contain"),
        ("subject", "=?utf-8?b?QWN0DQpYLUluamVjdGVkOiB5ZXM=?=", "Subject can't contain"),
        ("email", "=?utf-8?q?a=0D=0A?=@example.org", "Enter an email address"),
        ("name", "Jane \u202eeoD", "Full name contains characters we can't send."),
        ("name", "Jane \u2067Doe\u2069", "Full name contains characters we can't send."),
        ("subject", "Please act\u2028now", "Subject contains characters we can't send."),
        ("name", "Jane\u0085Doe", "Full name contains characters we can't send."),
        ("name", "Jane\vDoe", "Full name contains characters we can't send."),
        ("name", "Jane\fDoe", "Full name contains characters we can't send."),
    ],
)
def test_letter_form_refuses_header_tricks_in_supporter_fields(
    seeded_client: FlaskClient,
    post_form: Any,
    db_session: Session,
    field: str,
    value: str,
    message: str,
) -> None:
    response = write_letter(post_form, **{field: value})

    assert response.status_code == 200
    assert message in page_errors(response)
    assert letters_stored(db_session) == 0


def test_letter_form_keeps_everything_typed_when_it_refuses_a_field(
    seeded_client: FlaskClient, post_form: Any
) -> None:
    response = write_letter(post_form, email="not-an-email", body="My own words. " * 10)

    assert field_value(response, "body").strip() == ("My own words. " * 10).strip()
    assert field_value(response, "name") == "Jane Doe"
    assert field_value(response, "address").strip() == "1 Example Road\nLondon"
    assert field_value(response, "email") == "not-an-email"


def test_letter_form_asks_for_a_full_address(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    response = write_letter(post_form, address="London")

    assert "Enter your full address on separate lines" in page_errors(response)
    assert letters_stored(db_session) == 0


def test_letter_form_refuses_a_post_without_a_csrf_token(
    seeded_client: FlaskClient, db_session: Session
) -> None:
    response = seeded_client.post(LETTER_URL, data=supporter_details())

    assert response.status_code == 400
    assert letters_stored(db_session) == 0


def test_letter_form_keeps_the_letter_when_its_csrf_token_is_wrong(
    seeded_client: FlaskClient, db_session: Session
) -> None:
    response = seeded_client.post(
        LETTER_URL, data={"csrf_token": "forged", **supporter_details(body="Kept words " * 8)}
    )

    assert response.status_code == 400
    assert "has not been sent yet" in response.data.decode()
    assert field_value(response, "body").strip() == ("Kept words " * 8).strip()
    assert letters_stored(db_session) == 0


def test_letter_message_collapses_line_breaks_that_reach_it_in_a_name_or_subject() -> None:
    letter = LetterEnvelope(
        message_id="<letter-1@freetibet.example>",
        subject="Hi\r\nBcc: victim@example.com",
        body="Dear MP,\n\nText.",
        supporter=Supporter(
            name="Jane\r\nBcc: victim@example.com",
            email="jane@example.org",
            address="1 Road\nTown",
            postcode="SW1A 1AA",
        ),
        mp_name="Ms Diane Abbott",
        mp_email="mp@parliament.uk",
        send_copy=False,
    )
    message = build_letter_message(letter, Address("Free Tibet", "campaigns", "freetibet.example"))

    assert message["Bcc"] is None
    assert message["Subject"] == "Hi Bcc: victim@example.com"
    assert message["From"].addresses[0].addr_spec == "campaigns@freetibet.example"
    assert message["Reply-To"].addresses[0].addr_spec == "jane@example.org"
    assert sorted(message.keys()) == [
        "Content-Transfer-Encoding",
        "Content-Type",
        "From",
        "MIME-Version",
        "Message-ID",
        "Reply-To",
        "Subject",
        "To",
    ]


def test_letter_message_quotes_a_name_with_commas_and_quotes_as_one_address() -> None:
    letter = LetterEnvelope(
        message_id="<letter-2@freetibet.example>",
        subject="Hello",
        body="Text.",
        supporter=Supporter(
            name='Doe, Jane "JD" <admin@evil.example>',
            email="jane@example.org",
            address="1 Road\nTown",
            postcode="SW1A 1AA",
        ),
        mp_name="Ms Diane Abbott",
        mp_email="mp@parliament.uk",
        send_copy=True,
    )

    message = build_letter_message(letter, Address("Free Tibet", "campaigns", "freetibet.example"))

    assert [a.addr_spec for a in message["Reply-To"].addresses] == ["jane@example.org"]
    assert [a.addr_spec for a in message["Cc"].addresses] == ["jane@example.org"]
    assert [a.addr_spec for a in message["From"].addresses] == ["campaigns@freetibet.example"]
