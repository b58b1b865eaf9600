"""The send log's letter page on delivery: when the next try is due, and stuck letters."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import Letter, LetterStatus, User, UserRole
from tests.factories import create_letter

LoginAs = Callable[..., User]
PostForm = Callable[..., Any]


def page_of(client: Any, letter: Letter) -> str:
    return html.unescape(client.get(f"/admin/letters/{letter.id}").data.decode())


def test_letter_page_says_when_the_next_try_is_due_when_the_relay_refused_it_for_now(
    client: Any, db_session: Session, login_as: LoginAs
) -> None:
    due = utcnow().replace(microsecond=0) + timedelta(minutes=4)
    letter = create_letter(
        db_session,
        status=LetterStatus.RETRYING,
        next_attempt_at=due,
        retry_deadline=due + timedelta(hours=72),
    )
    login_as(UserRole.STAFF)

    page = page_of(client, letter)

    assert f'Next try due <time datetime="{due.isoformat()}Z">' in page
    assert "Marked failed if the relay still refuses it after" in page


def test_letter_page_says_when_the_confirmation_email_is_due_when_it_was_refused_for_now(
    client: Any, db_session: Session, login_as: LoginAs
) -> None:
    due = utcnow().replace(microsecond=0) + timedelta(minutes=2)
    letter = create_letter(
        db_session,
        status=LetterStatus.AWAITING_CONFIRMATION,
        next_attempt_at=None,
        confirmation_due_at=due,
    )
    login_as(UserRole.STAFF)

    page = page_of(client, letter)

    assert f'Confirmation email due <time datetime="{due.isoformat()}Z">' in page


def test_staff_can_cancel_a_letter_whose_worker_stopped_mid_send(
    client: Any, db_session: Session, login_as: LoginAs, post_form: PostForm
) -> None:
    letter = create_letter(
        db_session, status=LetterStatus.SENDING, lease_until=utcnow() - timedelta(minutes=1)
    )
    login_as(UserRole.STAFF)
    assert "The worker that was sending this letter stopped" in page_of(client, letter)

    response = post_form(
        f"/admin/letters/{letter.id}/cancel",
        {},
        page_url=f"/admin/letters/{letter.id}",
        follow_redirects=True,
    )

    assert "The letter is cancelled: it will not be sent." in html.unescape(response.data.decode())
    db_session.expire_all()
    assert db_session.get_one(Letter, letter.id).status == LetterStatus.CANCELLED


def test_staff_cannot_cancel_a_letter_a_worker_is_sending_now(
    client: Any, db_session: Session, login_as: LoginAs
) -> None:
    letter = create_letter(
        db_session, status=LetterStatus.SENDING, lease_until=utcnow() + timedelta(minutes=4)
    )
    login_as(UserRole.STAFF)

    page = page_of(client, letter)

    assert "A worker is sending this letter right now." in page
    assert "Cancel this letter" not in page
