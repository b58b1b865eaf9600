"""A supporter answers "has your MP replied?" from the email's link: the link only opens a page,
its button records the answer once, and the link answers its own letter's check and no other.
A pasted reply is kept only with the supporter's consent, and goes when their details do."""

from __future__ import annotations

from datetime import timedelta

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import ReplyAnswer, ReplyCheck
from mp_mailer.services.reply_checks import AnswerOutcome, answer_check, make_answer_token
from mp_mailer.services.supporter_data import (
    erase_letters,
    export_letters,
    purge_old_letters,
)
from tests.conftest import TEST_SECRET_KEY
from tests.factories import create_reply_check, create_sent_letter
from tests.pages import page_errors, post_with_token, soup, text_of


def _fresh(session: Session, check: ReplyCheck) -> ReplyCheck:
    session.expire_all()
    return session.get_one(ReplyCheck, check.id)


def _link(check: ReplyCheck, letter_id: int | None = None) -> str:
    return f"/replies/{make_answer_token(TEST_SECRET_KEY, check.id, letter_id or check.letter_id)}"


def _press(client: FlaskClient, link: str, **data: str) -> object:
    return post_with_token(client, link, {"answer": "yes", **data}, page_url=link)


def test_answer_link_shows_a_confirm_form_and_records_nothing_when_opened(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))

    response = client.get(_link(check) + "?answer=no")

    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("input[name=answer][value=no]").has_attr("checked")
    assert page.select_one("form[method=post] input[name=csrf_token]") is not None
    assert _fresh(db_session, check).answer is None


def test_answer_is_recorded_when_the_supporter_presses_the_button(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))

    response = post_with_token(client, _link(check), {"answer": "no"})

    assert response.status_code == 302
    assert _fresh(db_session, check).answer == ReplyAnswer.NO


def test_second_answer_changes_nothing_and_says_already_answered(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))
    post_with_token(client, _link(check), {"answer": "no"})

    response = post_with_token(
        client, _link(check), {"answer": "yes"}, page_url="/", follow_redirects=True
    )

    assert "already answered" in text_of(response, "main")
    assert _fresh(db_session, check).answer == ReplyAnswer.NO


def test_tampered_answer_link_is_refused_and_records_nothing(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))
    token = make_answer_token(TEST_SECRET_KEY, check.id, check.letter_id)
    tampered = f"/replies/{token[:-2]}{'A' if token[-2] != 'A' else 'B'}{token[-1]}"

    response = post_with_token(client, tampered, {"answer": "yes"}, page_url="/")

    assert response.status_code == 400
    assert _fresh(db_session, check).answer is None


def test_answer_link_for_another_letter_is_refused(
    client: FlaskClient, db_session: Session
) -> None:
    mine = create_reply_check(db_session, create_sent_letter(db_session))
    theirs = create_reply_check(db_session, create_sent_letter(db_session))
    # A link signed for my letter but naming their check: it must not answer theirs.
    crossed = _link(theirs, letter_id=mine.letter_id)

    response = post_with_token(client, crossed, {"answer": "yes"}, page_url="/")

    assert response.status_code == 400
    assert _fresh(db_session, theirs).answer is None
    assert _fresh(db_session, mine).answer is None


def test_answer_link_signed_with_another_key_is_refused(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))
    forged = f"/replies/{make_answer_token('another-key', check.id, check.letter_id)}"

    response = client.get(forged)

    assert response.status_code == 400


def test_answer_link_for_a_check_not_yet_sent_is_refused(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session), sent_at=None)

    response = client.get(_link(check))

    assert response.status_code == 400


def test_reply_text_is_kept_when_the_supporter_consents(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))

    _press(client, _link(check), reply_text="Thank you for writing.", keep_reply="y")

    stored = _fresh(db_session, check)
    assert (stored.reply_text, stored.reply_text_consent) == ("Thank you for writing.", True)


def test_reply_text_without_consent_is_refused_and_kept_on_the_page(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))

    response = _press(client, _link(check), reply_text="Thank you for writing.")

    assert response.status_code == 200
    assert "Tick the box to let us keep the reply" in page_errors(response)
    assert "Thank you for writing." in soup(response).select_one("textarea").text
    assert _fresh(db_session, check).answer is None


def test_consent_box_is_unticked_when_the_page_opens(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))

    response = client.get(_link(check) + "?answer=yes")

    assert not soup(response).select_one("input[name=keep_reply]").has_attr("checked")


def test_reply_text_is_not_kept_with_an_answer_other_than_yes(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))

    _press(client, _link(check), answer="no", reply_text="Some text", keep_reply="y")

    assert _fresh(db_session, check).reply_text is None


def test_erasure_removes_the_kept_reply_text_and_keeps_the_answer(
    db_session: Session,
) -> None:
    letter = create_sent_letter(db_session)
    check = create_reply_check(
        db_session,
        letter,
        answer=ReplyAnswer.YES,
        reply_text="Dear Jane, thank you",
        reply_text_consent=True,
    )

    erase_letters(db_session, [letter.id], utcnow(), actor_id=None, reason="request")

    stored = _fresh(db_session, check)
    assert (stored.reply_text, stored.answer) == (None, ReplyAnswer.YES)


def test_purge_removes_the_kept_reply_text_of_old_letters(db_session: Session) -> None:
    old = utcnow() - timedelta(days=400)
    letter = create_sent_letter(db_session, created_at=old, sent_at=old)
    check = create_reply_check(
        db_session, letter, answer=ReplyAnswer.YES, reply_text="Dear Jane", reply_text_consent=True
    )

    purge_old_letters(db_session, utcnow(), 180)

    assert _fresh(db_session, check).reply_text is None


def test_subject_access_export_includes_the_answer_and_kept_reply(db_session: Session) -> None:
    letter = create_sent_letter(db_session)
    create_reply_check(
        db_session, letter, answer=ReplyAnswer.YES, reply_text="Dear Jane", reply_text_consent=True
    )

    exported = export_letters([letter])

    [asked] = exported["letters"][0]["asked_whether_the_mp_replied"]
    assert (asked["answer"], asked["reply_text"]) == ("yes", "Dear Jane")


def test_not_yet_schedules_one_more_ask_a_week_later(
    client: FlaskClient, db_session: Session
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))

    post_with_token(client, _link(check), {"answer": "not_yet"})

    second = db_session.scalars(select(ReplyCheck).where(ReplyCheck.round == 2)).one()
    assert second.due_at is not None
    assert timedelta(days=6, hours=23) < second.due_at - utcnow() <= timedelta(days=7)


def test_answer_check_changes_nothing_when_the_check_was_answered_meanwhile(
    db_session: Session,
) -> None:
    check = create_reply_check(db_session, create_sent_letter(db_session))
    token = make_answer_token(TEST_SECRET_KEY, check.id, check.letter_id)
    answer_check(db_session, TEST_SECRET_KEY, token, ReplyAnswer.NO, utcnow())

    outcome = answer_check(db_session, TEST_SECRET_KEY, token, ReplyAnswer.YES, utcnow())

    assert outcome == AnswerOutcome.ALREADY_ANSWERED
    assert _fresh(db_session, check).answer == ReplyAnswer.NO
