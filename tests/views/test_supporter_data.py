"""Supporters' data: the privacy notice, staff finding, exporting and erasing one supporter's
letters (each recorded), the signed self-erasure link, and `mp-mailer purge`."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import Letter, LetterStatus, PrivacyRecord, UserRole
from mp_mailer.services.letters import CONFIRMATION_SALT, count_letters_sent
from mp_mailer.services.supporter_data import ERASED_NAME, make_erasure_token
from tests.conftest import TEST_SECRET_KEY
from tests.factories import create_campaign, create_letter
from tests.pages import flash_text, path_for, post_with_token, text_of

FIND = path_for("privacy_requests.find_supporter")


def records(db_session: Session) -> list[tuple[str, int]]:
    db_session.expire_all()
    rows = db_session.scalars(select(PrivacyRecord).order_by(PrivacyRecord.id))
    return [(row.action, row.letter_count) for row in rows]


def fresh(db_session: Session, letter: Letter) -> Letter:
    db_session.expire_all()
    found = db_session.get(Letter, letter.id)
    assert found is not None
    return found


def test_privacy_notice_names_the_organisation_as_data_controller_when_not_edited(
    seeded_client: FlaskClient,
) -> None:
    page = seeded_client.get(path_for("privacy.privacy_notice"))

    assert page.status_code == 200
    assert "Free Tibet runs this site and is the data controller" in text_of(page, ".prose")


def test_privacy_notice_is_linked_from_the_footer_when_a_supporter_page_is_shown(
    seeded_client: FlaskClient,
) -> None:
    page = seeded_client.get("/")

    assert 'href="/privacy"' in str(page.get_data(as_text=True))


def test_privacy_notice_shows_an_admins_text_when_saved(
    client: FlaskClient, login_as: Callable[..., Any]
) -> None:
    login_as(UserRole.ADMIN)
    notice = path_for("privacy_requests.edit_notice")

    post_with_token(client, notice, {"body": "## Ours\n\nFree Tibet <b>controls</b> it."})

    page = client.get(path_for("privacy.privacy_notice"))
    # Markdown, with raw HTML shown as the text it is.
    assert text_of(page, ".prose h2") == "Ours"
    assert "Free Tibet &lt;b&gt;controls&lt;/b&gt; it." in page.get_data(as_text=True)


def test_staff_find_a_supporters_letters_by_any_spelling_when_searching(
    client: FlaskClient, db_session: Session, login_as: Callable[..., Any]
) -> None:
    campaign = create_campaign(db_session)
    create_letter(
        db_session, campaign, supporter_email="jane@gmail.com", supporter_key="jane@gmail.com"
    )
    create_letter(db_session, campaign, supporter_email="someone@example.org")
    login_as(UserRole.STAFF)

    page = post_with_token(client, FIND, {"email": "J.ane+x@gmail.com"})

    assert "1 letter from J.ane+x@gmail.com" in text_of(page, "h2")
    assert records(db_session) == [("find", 1)]


def test_staff_export_a_supporters_letters_as_json_when_asked(
    client: FlaskClient, db_session: Session, login_as: Callable[..., Any]
) -> None:
    create_letter(db_session, supporter_email="jane@example.org", supporter_name="Jane Doe")
    login_as(UserRole.STAFF)

    response = post_with_token(
        client, path_for("privacy_requests.export_supporter"), {"email": "jane@example.org"}, FIND
    )

    assert response.mimetype == "application/json"
    exported = json.loads(response.data)
    assert [letter["name"] for letter in exported["letters"]] == ["Jane Doe"]
    assert records(db_session) == [("export", 1)]


def test_staff_erase_a_supporter_keeps_the_count_when_the_letter_was_sent(
    client: FlaskClient, db_session: Session, login_as: Callable[..., Any]
) -> None:
    letter = create_letter(
        db_session, supporter_email="jane@example.org", status=LetterStatus.SENT, sent_at=utcnow()
    )
    login_as(UserRole.STAFF)

    post_with_token(
        client, path_for("privacy_requests.erase_supporter"), {"email": "jane@example.org"}, FIND
    )

    erased = fresh(db_session, letter)
    assert (erased.supporter_name, erased.supporter_address, erased.body) == (ERASED_NAME, "", "")
    assert "jane" not in erased.supporter_email
    assert erased.status == LetterStatus.SENT
    assert count_letters_sent(db_session, letter.campaign_id) == 1
    assert records(db_session) == [("erase", 1)]


def test_staff_erase_cancels_a_letter_when_it_is_still_queued(
    client: FlaskClient, db_session: Session, login_as: Callable[..., Any]
) -> None:
    letter = create_letter(db_session, supporter_email="jane@example.org")
    login_as(UserRole.STAFF)

    post_with_token(
        client, path_for("privacy_requests.erase_supporter"), {"email": "jane@example.org"}, FIND
    )

    assert fresh(db_session, letter).status == LetterStatus.CANCELLED


def test_staff_erase_leaves_a_letter_alone_when_a_worker_is_sending_it(
    client: FlaskClient, db_session: Session, login_as: Callable[..., Any]
) -> None:
    letter = create_letter(
        db_session, supporter_email="jane@example.org", status=LetterStatus.SENDING
    )
    login_as(UserRole.STAFF)

    response = post_with_token(
        client, path_for("privacy_requests.erase_supporter"), {"email": "jane@example.org"}, FIND
    )

    assert fresh(db_session, letter).supporter_email == "jane@example.org"
    assert "1 letter(s) are being sent right now" in flash_text(client.get(response.location))


def test_data_requests_page_is_refused_when_the_user_is_a_campaigner(
    client: FlaskClient, login_as: Callable[..., Any]
) -> None:
    login_as(UserRole.CAMPAIGNER)

    assert client.get(FIND).status_code == 403


def test_self_erasure_link_erases_every_letter_of_that_supporter_when_confirmed(
    client: FlaskClient, db_session: Session
) -> None:
    first = create_letter(db_session, supporter_email="jane@example.org", status=LetterStatus.SENT)
    second = create_letter(
        db_session, create_campaign(db_session), supporter_email="jane@example.org"
    )
    other = create_letter(db_session, supporter_email="someone@example.org")
    link = f"/privacy/erase/{make_erasure_token(TEST_SECRET_KEY, first.id)}"

    response = post_with_token(client, link, {})

    assert response.status_code == 302
    assert fresh(db_session, first).erased_at is not None
    assert fresh(db_session, second).erased_at is not None
    assert fresh(db_session, other).erased_at is None
    assert records(db_session) == [("self_erase", 2)]


def test_self_erasure_link_says_the_details_are_gone_when_used_again(
    client: FlaskClient, db_session: Session
) -> None:
    letter = create_letter(db_session, supporter_email="jane@example.org")
    link = f"/privacy/erase/{make_erasure_token(TEST_SECRET_KEY, letter.id)}"
    post_with_token(client, link, {})

    again = client.get(link)

    assert "Your details had already been deleted." in text_of(again, ".lead")


@pytest.mark.parametrize("purpose", ["tampered", "confirmation"])
def test_self_erasure_link_is_refused_when_tampered_or_made_for_another_purpose(
    client: FlaskClient, db_session: Session, purpose: str
) -> None:
    letter = create_letter(db_session, supporter_email="jane@example.org")
    token = make_erasure_token(TEST_SECRET_KEY, letter.id)
    if purpose == "tampered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    else:
        token = URLSafeTimedSerializer(TEST_SECRET_KEY, salt=CONFIRMATION_SALT).dumps(letter.id)

    response = post_with_token(client, f"/privacy/erase/{token}", {}, page_url="/")

    assert response.status_code == 400
    assert fresh(db_session, letter).erased_at is None


def test_purge_erases_letters_when_older_than_the_retention_period(
    app: Flask, db_session: Session
) -> None:
    old = create_letter(
        db_session, status=LetterStatus.SENT, created_at=utcnow() - timedelta(days=181)
    )
    recent = create_letter(
        db_session, status=LetterStatus.SENT, created_at=utcnow() - timedelta(days=179)
    )

    result = app.test_cli_runner().invoke(args=["purge"])

    assert result.exit_code == 0, result.output
    assert "Removed supporters' details from 1 letters older than 180 days." in result.output
    assert fresh(db_session, old).erased_at is not None
    assert fresh(db_session, recent).erased_at is None
    assert records(db_session) == [("purge", 1)]


def test_purge_takes_the_days_from_the_option_when_given(app: Flask, db_session: Session) -> None:
    letter = create_letter(
        db_session, status=LetterStatus.SENT, created_at=utcnow() - timedelta(days=31)
    )

    app.test_cli_runner().invoke(args=["purge", "--older-than", "30"])

    assert fresh(db_session, letter).erased_at is not None
    total = db_session.scalar(select(func.count()).select_from(Letter))
    assert total == 1
