"""Supporters' safety: one letter per person however they spell their address, emails to one
address capped, the owner told by email, refusals that keep the letter, Enter that sends nothing,
and a letter page that works when the campaign's template fails for an MP."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.config import smtp_settings
from mp_mailer.db import utcnow
from mp_mailer.models import Letter, LetterStatus, LetterTemplate, SupporterNotice
from mp_mailer.services.supporter_emails import SupporterEmailSettings, already_written_message
from mp_mailer.services.supporter_mail import deliver_due_notices
from tests.journeys import (
    LETTER_URL,
    supporter_details,
    the_letter,
    write_and_confirm,
    write_letter,
)
from tests.pages import page_errors, soup, text_of
from tests.smtp_server import SmtpTestServer


def letters_stored(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Letter)) or 0


def email_settings(app: Flask) -> SupporterEmailSettings:
    config = app.extensions["mp_mailer.config"]
    return SupporterEmailSettings(
        secret_key=config.secret_key,
        public_url=config.public_url,
        mail_from=config.mail_from_address,
        confirmation_max_age_hours=config.confirmation_max_age_hours,
    )


def send_notices(app: Flask, db_session: Session) -> int:
    settings = email_settings(app)
    relay = SmtpRelay(smtp_settings(app.extensions["mp_mailer.config"]))
    with relay:
        return deliver_due_notices(
            db_session,
            lambda letter: already_written_message(letter, settings),
            relay.send,
            utcnow(),
        )


def test_letter_from_a_plus_tagged_address_is_not_a_second_letter_when_one_was_written(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    write_letter(post_form, email="jane@gmail.com")

    write_letter(post_form, email="J.ane+mp@googlemail.com")

    assert letters_stored(db_session) == 1


def test_already_written_notice_reaches_the_owner_when_someone_writes_again_as_them(
    app: Flask,
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)
    deliver()
    before = len(smtp_server.messages)
    write_letter(post_form, name="Claim your refund now at https://evil.example")

    assert send_notices(app, db_session) == 1

    notice = smtp_server.messages[before]
    assert notice["To"] == "jane@example.org"
    assert notice["Subject"] == "Free Tibet: your letter to Ms Diane Abbott"
    text = notice.get_content()
    assert text.splitlines()[0] == "This is Free Tibet, about our campaign “Ban Chen Quanguo”."
    assert "evil.example" not in text
    assert "http://localhost/privacy\n" in text
    assert "http://localhost/privacy/erase/" in text


def test_already_written_notice_is_sent_once_when_delivered_twice(
    app: Flask,
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)
    write_letter(post_form)
    send_notices(app, db_session)

    assert send_notices(app, db_session) == 0
    assert db_session.scalars(select(SupporterNotice.sent_at)).one() is not None


def test_emails_to_one_address_are_capped_when_letters_keep_arriving_for_it(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    for _ in range(3):
        write_letter(post_form, email="victim@example.org")

    refused = write_letter(post_form, email="victim@example.org", body="Kept words " * 10)

    assert refused.status_code == 200
    assert "We have already sent several emails to this address" in page_errors(refused)
    assert "Kept words Kept words" in text_of(refused, "textarea#body")


@pytest.fixture
def one_letter_per_hour(app_settings: dict[str, Any]) -> None:
    """Asked for before the app: the limiter on, one accepted letter per client address."""
    app_settings.update(ratelimit_enabled=True, letters_per_address="1 per hour")


@pytest.mark.usefixtures("one_letter_per_hour")
def test_letter_form_is_shown_again_with_everything_typed_when_letters_are_rate_limited(
    seeded_client: FlaskClient, post_form: Any
) -> None:
    write_letter(post_form, email="first@example.org")

    refused = write_letter(post_form, email="second@example.org", body="My own words " * 10)

    assert refused.status_code == 429
    notice = text_of(refused, ".notice--warning")
    assert "Please try again in 60 minutes" in notice
    assert "My own words My own words" in text_of(refused, "textarea#body")
    assert soup(refused).select_one("input#email")["value"] == "second@example.org"  # type: ignore[index]


@pytest.mark.usefixtures("one_letter_per_hour")
def test_letter_rate_limit_counts_only_accepted_letters_when_forms_are_sent_back(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    write_letter(post_form, address="one line only")

    accepted = write_letter(post_form)

    assert accepted.status_code == 302
    assert letters_stored(db_session) == 1


def test_letter_form_sends_nothing_when_submitted_without_its_send_button(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    details = supporter_details()
    del details["send"]

    page = post_form(LETTER_URL, details, page_url=f"{LETTER_URL}?postcode=SW1A 1AA")

    assert page.status_code == 200
    assert letters_stored(db_session) == 0
    assert "Your letter has not been sent" in text_of(page, ".notice--warning")
    assert "Jane Doe" in page.get_data(as_text=True)


def test_letter_form_makes_enter_in_a_text_field_submit_nothing_when_shown(
    seeded_client: FlaskClient,
) -> None:
    page = seeded_client.get(f"{LETTER_URL}?postcode=SW1A 1AA")

    first_button = soup(page).select_one("form.letter-form button[type=submit]")
    assert first_button is not None
    assert first_button.has_attr("disabled")


def test_letter_page_lets_the_supporter_write_when_the_template_fails_for_their_mp(
    seeded_client: FlaskClient, db_session: Session
) -> None:
    template = db_session.scalars(select(LetterTemplate)).one()
    template.body_template = "{{ mp.party[40] }}"
    db_session.commit()

    page = seeded_client.get(f"{LETTER_URL}?postcode=SW1A 1AA")

    assert page.status_code == 200
    assert "We couldn't start this letter for you" in text_of(page, ".notice--warning")
    assert soup(page).select_one("textarea#body") is not None


def test_confirm_page_shows_the_sign_off_the_mp_will_see_when_opened(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_letter(post_form, name="Jane Doe", address="1 Example Road\nLondon")
    deliver()
    from tests.journeys import confirmation_link

    page = seeded_client.get(confirmation_link(smtp_server))

    preview = text_of(page, ".letter-preview")
    assert "Yours sincerely, Jane Doe 1 Example Road London SW1A 1AA jane@example.org" in preview
    assert the_letter(db_session).supporter_name == "Jane Doe"


def test_letter_written_again_replaces_the_first_when_the_first_had_expired(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    write_letter(post_form, subject="First try")
    letter = the_letter(db_session)
    letter.status = LetterStatus.EXPIRED
    db_session.commit()

    response = write_letter(post_form, subject="Second try")

    assert response.status_code == 302
    again = the_letter(db_session)
    assert (again.subject, again.status) == ("Second try", LetterStatus.AWAITING_CONFIRMATION)
