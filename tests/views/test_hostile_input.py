"""A hostile-input corpus on every public and staff form field: each answer is a 2xx with the
text escaped or a 4xx with a message, nothing reaches an email header, nothing is half-stored."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, Letter, User, UserRole
from tests.journeys import LETTER_URL, supporter_details
from tests.pages import csrf_token_from, page_errors, path_for, post_with_token, route_arguments
from tests.smtp_server import SmtpTestServer

SCRIPT = "<script>alert(1)</script>"
CORPUS = {
    "very long": "x" * 70_000,
    "nul": "Jane\x00Doe",
    "crlf": "Jane\r\nBcc: victim@example.org",
    "unicode line breaks": "Jane\u2028Bcc: x@example.org\u2029\x85",
    "encoded word": "=?utf-8?q?Jane=0D=0ABcc:_x@example.org?=",
    "html and script": f'{SCRIPT}<img src=x onerror="alert(1)">',
    "jinja": "{{ config }}{% for x in range(10**9) %}{% endfor %}",
    "replacement character": "Jane \ufffd\ufffd Doe",
    "emoji": "Jane 🏔️🇨🇳 Doe 👩🏽‍💻",
    "bidi override": "Jane \u202eeoD\u202c",
    "sql": "Robert'); DROP TABLE letters;--",
    "odd email": '"jane doe"@[127.0.0.1]',
    "odd postcode": "SW1A\t1AA\u200b",
}
CORPUS_IDS = list(CORPUS)
LETTER_FIELDS = ("subject", "body", "name", "email", "address", "postcode")
EMAIL_HEADERS = {
    "Date",
    "Message-ID",
    "From",
    "To",
    "Subject",
    "Content-Type",
    "Content-Transfer-Encoding",
    "MIME-Version",
}


def count(db_session: Session, model: type) -> int:
    db_session.expire_all()
    return db_session.scalar(select(func.count()).select_from(model)) or 0


def assert_answered_safely(response: Any) -> None:
    """A 2xx/3xx with nothing unescaped, or a 4xx that says what was wrong."""
    page = response.get_data(as_text=True)
    assert response.status_code < 500
    assert SCRIPT not in page
    assert "Traceback" not in page
    for name, value in response.headers.items():
        assert "\n" not in value and "\r" not in value, name
    if 400 <= response.status_code < 500 and response.status_code != 404:
        assert page_errors(response) or "<h1" in page


@pytest.mark.parametrize("field", LETTER_FIELDS)
def test_letter_form_answers_safely_when_a_field_is_hostile(
    seeded_client: FlaskClient,
    post_form: Any,
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Any,
    field: str,
) -> None:
    for number, (name, hostile) in enumerate(CORPUS.items()):
        # A new address each time, so one answer never depends on the one before.
        details = supporter_details(**{"email": f"supporter{number}@example.org", field: hostile})
        before = count(db_session, Letter)

        response = post_form(LETTER_URL, details, page_url=f"{LETTER_URL}?postcode=SW1A 1AA")

        assert_answered_safely(response)
        stored = count(db_session, Letter) - before
        assert stored == (1 if response.status_code == 302 else 0), name
    deliver()
    for message in smtp_server.messages:
        assert set(message.keys()) == EMAIL_HEADERS
        assert all("\n" not in str(value) for value in message.values())


@pytest.mark.parametrize("hostile", CORPUS.values(), ids=CORPUS_IDS)
def test_postcode_form_answers_safely_when_the_postcode_is_hostile(
    seeded_client: FlaskClient, post_form: Any, hostile: str
) -> None:
    response = post_form("/", {"postcode": hostile})

    assert_answered_safely(response)


def test_letter_form_answers_safely_when_the_body_is_invalid_utf8(
    seeded_client: FlaskClient, db_session: Session
) -> None:
    token = csrf_token_from(seeded_client.get(f"{LETTER_URL}?postcode=SW1A 1AA").data)
    body = f"csrf_token={token}&postcode=SW1A+1AA&name=%FF%FE%FA&send=1".encode()

    response = seeded_client.post(
        LETTER_URL, data=body, content_type="application/x-www-form-urlencoded"
    )

    assert_answered_safely(response)
    assert count(db_session, Letter) == 0


STAFF_FORMS = {
    "campaign": (
        "campaigns.new_campaign",
        ("title", "slug", "intro_markdown", "thank_you_text", "share_text", "petition_url"),
    ),
    "template": ("campaigns.edit_template", ("subject_template", "body_template", "note")),
    "user": ("users.new_user", ("email", "password")),
    "data request": ("privacy_requests.find_supporter", ("email",)),
    "privacy notice": ("privacy_requests.edit_notice", ("body",)),
    "password": ("auth.change_password", ("current_password", "new_password")),
}


def staff_form_data(form: str, field: str, hostile: str) -> dict[str, str]:
    base = {
        "campaign": {
            "title": "Free Tenzin",
            "slug": "free-tenzin",
            "status": "draft",
            "target": "constituency_mp",
            "intro_markdown": "Intro",
            "thank_you_text": "Thanks",
            "share_text": "Share",
            "petition_url": "https://example.org/p",
        },
        "template": {
            "subject_template": "Hi {{ mp.name }}",
            "body_template": "Dear MP",
            "note": "n",
        },
        "user": {"email": "new@example.org", "role": "staff", "password": "a long password!"},
        "data request": {"email": "jane@example.org"},
        "privacy notice": {"body": "Notice"},
        "password": {"current_password": "x", "new_password": "y", "confirm_password": "y"},
    }[form]
    return {**base, field: hostile}


STAFF_CORPUS = {
    name: CORPUS[name]
    for name in ("very long", "nul", "crlf", "html and script", "jinja", "bidi override", "sql")
}


@pytest.mark.parametrize("form", list(STAFF_FORMS))
def test_staff_form_answers_safely_when_a_field_is_hostile(
    seeded_client: FlaskClient,
    db_session: Session,
    login_as: Callable[..., Any],
    form: str,
) -> None:
    login_as(UserRole.ADMIN)
    endpoint, fields = STAFF_FORMS[form]
    campaign_id = db_session.scalars(select(Campaign.id)).first()
    values = {"campaign_id": campaign_id} if "campaign_id" in route_arguments(endpoint) else {}
    url = path_for(endpoint, **values)
    for field in fields:
        for name, hostile in STAFF_CORPUS.items():
            users_before = count(db_session, User)

            response = post_with_token(seeded_client, url, staff_form_data(form, field, hostile))

            assert_answered_safely(response)
            if response.status_code != 302 and form == "user":
                assert count(db_session, User) == users_before, f"{field}: {name}"
