"""The worker asks each supporter once, REPLY_CHECK_DAYS after their letter was sent, whether
their MP has replied; "not yet" asks once more a week later, then never again. Bounced, erased
and untracked letters are never asked, and a refused email is retried without a duplicate."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import Letter, LetterStatus, ReplyAnswer, ReplyCheck
from mp_mailer.services.supporter_data import erase_letters
from mp_mailer.worker.settings import RelayUnavailable
from tests.conftest import Clock
from tests.factories import create_campaign, create_sent_letter
from tests.journeys import write_and_confirm
from tests.pages import post_with_token, text_of
from tests.smtp_server import SmtpTestServer

SUBJECT = "Free Tibet: has Ms Diane Abbott replied to your letter?"


def _reply_checks_sent(smtp_server: SmtpTestServer) -> list[Any]:
    return [message for message in smtp_server.messages if message["Subject"] == SUBJECT]


def _answer_link(message: Any, answer: str) -> str:
    match = re.search(rf"http://localhost(/replies/\S+\?answer={answer})", message.get_content())
    assert match, f"no {answer} link in the email"
    return match.group(1)


def _answer(client: FlaskClient, message: Any, answer: str, clock: Clock | None = None) -> Any:
    """Press the answer's button, at the worker's time when `clock` is given."""
    link = _answer_link(message, answer)
    with freeze_time(clock() if clock else utcnow()):
        return post_with_token(client, link.split("?")[0], {"answer": answer}, page_url=link)


def test_worker_does_not_ask_about_a_reply_before_reply_check_days(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session, supporter_email="jane@example.org")
    clock.offset = timedelta(days=13, hours=23)

    deliver()

    assert _reply_checks_sent(smtp_server) == []


def test_worker_asks_the_supporter_once_after_reply_check_days(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session, supporter_email="jane@example.org")
    clock.offset = timedelta(days=14, minutes=1)

    deliver()

    [message] = _reply_checks_sent(smtp_server)
    assert message["To"] == "jane@example.org"
    assert message["From"] == "Free Tibet <campaigns@freetibet.example>"
    text = message.get_content()
    assert text.startswith("This is Free Tibet, about our campaign")
    for answer in ("yes", "not_yet", "no"):
        assert f"?answer={answer}\n" in text
    assert "http://localhost/privacy/erase/" in text


def test_worker_does_not_ask_again_on_its_next_pass(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session)
    clock.offset = timedelta(days=14, minutes=1)
    deliver()

    clock.offset = timedelta(days=20)
    deliver()

    assert len(_reply_checks_sent(smtp_server)) == 1


def test_worker_asks_once_more_a_week_after_not_yet_and_then_stops(
    client: FlaskClient,
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Any,
    clock: Clock,
) -> None:
    create_sent_letter(db_session)
    clock.offset = timedelta(days=14, minutes=1)
    deliver()
    [first] = _reply_checks_sent(smtp_server)
    _answer(client, first, "not_yet", clock)

    clock.offset = timedelta(days=20)
    deliver()
    assert len(_reply_checks_sent(smtp_server)) == 1
    clock.offset = timedelta(days=21, minutes=5)
    deliver()
    [_, second] = _reply_checks_sent(smtp_server)
    _answer(client, second, "not_yet", clock)
    clock.offset = timedelta(days=60)
    deliver()

    assert len(_reply_checks_sent(smtp_server)) == 2
    assert "this is the last time" in second.get_content()


def test_worker_never_asks_about_a_bounced_letter(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session, status=LetterStatus.BOUNCED)
    clock.offset = timedelta(days=15)

    deliver()

    assert _reply_checks_sent(smtp_server) == []


def test_worker_asks_about_a_letter_the_mps_office_acknowledged(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session, status=LetterStatus.ACKNOWLEDGED)
    clock.offset = timedelta(days=15)

    deliver()

    assert len(_reply_checks_sent(smtp_server)) == 1


def test_worker_never_asks_a_supporter_whose_details_were_erased(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_sent_letter(db_session)
    erase_letters(db_session, [letter.id], utcnow(), actor_id=None, reason="test")
    clock.offset = timedelta(days=15)

    deliver()

    assert _reply_checks_sent(smtp_server) == []


def test_worker_does_not_send_a_due_second_ask_once_the_supporter_is_erased(
    client: FlaskClient,
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Any,
    clock: Clock,
) -> None:
    letter = create_sent_letter(db_session)
    clock.offset = timedelta(days=15)
    deliver()
    _answer(client, _reply_checks_sent(smtp_server)[0], "not_yet", clock)
    erase_letters(db_session, [letter.id], utcnow(), actor_id=None, reason="test")

    clock.offset = timedelta(days=30)
    deliver()

    assert len(_reply_checks_sent(smtp_server)) == 1


def test_worker_never_asks_when_the_campaign_does_not_track_replies(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    campaign = create_campaign(db_session, track_replies=False)
    create_sent_letter(db_session, campaign)
    clock.offset = timedelta(days=15)

    deliver()

    assert _reply_checks_sent(smtp_server) == []


@pytest.mark.parametrize("app_settings", [{"reply_check_days": 0}])
def test_worker_never_asks_when_reply_check_days_is_zero(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session)
    clock.offset = timedelta(days=15)

    deliver()

    assert _reply_checks_sent(smtp_server) == []
    assert db_session.scalars(select(ReplyCheck)).all() == []


def test_worker_retries_a_refused_reply_check_and_sends_it_once(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session)
    clock.offset = timedelta(days=15)
    smtp_server.fail_next(451, "4.3.0 try again later")
    deliver()
    assert _reply_checks_sent(smtp_server) == []

    clock.offset = timedelta(days=15, hours=2)
    deliver()
    deliver()

    assert len(_reply_checks_sent(smtp_server)) == 1
    check = db_session.scalars(select(ReplyCheck)).one()
    assert (check.attempt_count, check.sent_at is not None) == (1, True)


def test_worker_gives_up_a_reply_check_the_relay_refuses_for_good(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session)
    clock.offset = timedelta(days=15)
    smtp_server.fail_next(550, "5.1.1 no such mailbox")
    deliver()

    clock.offset = timedelta(days=16)
    deliver()

    assert _reply_checks_sent(smtp_server) == []
    check = db_session.scalars(select(ReplyCheck)).one()
    assert (check.sent_at, check.due_at) == (None, None)


def test_worker_sends_the_other_reply_checks_when_one_is_refused(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session, supporter_email="first@example.org")
    create_sent_letter(db_session, supporter_email="second@example.org")
    clock.offset = timedelta(days=15)
    smtp_server.fail_next(451, "4.3.0 try again later")

    deliver()

    assert len(_reply_checks_sent(smtp_server)) == 1


def test_worker_holds_reply_checks_while_the_relay_is_down(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    create_sent_letter(db_session)
    clock.offset = timedelta(days=15)
    smtp_server.stop()
    with pytest.raises(RelayUnavailable):
        deliver()
    smtp_server.start()

    deliver()

    assert len(_reply_checks_sent(smtp_server)) == 1
    assert db_session.scalars(select(ReplyCheck.attempt_count)).one() == 0


def test_supporter_answer_yes_shows_in_staff_figures_end_to_end(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    clock: Clock,
    db_session: Session,
    login_as: Any,
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)
    deliver()
    assert db_session.scalars(select(Letter.status)).one() == LetterStatus.SENT
    clock.offset = timedelta(days=14, hours=1)
    deliver()
    [message] = _reply_checks_sent(smtp_server)
    link = _answer_link(message, "yes")

    page = seeded_client.get(link)
    assert page.status_code == 200
    assert db_session.scalars(select(ReplyCheck.answer)).one() is None
    _answer(seeded_client, message, "yes")

    login_as("staff")
    figures = seeded_client.get("/admin/letters/replies")
    assert "1 of 1 who answered" in text_of(figures, "tfoot")
    db_session.expire_all()
    assert db_session.scalars(select(ReplyCheck.answer)).one() == ReplyAnswer.YES


def test_letter_page_lists_the_reply_check_among_its_delivery_attempts(
    client: FlaskClient,
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Any,
    clock: Clock,
    login_as: Any,
) -> None:
    letter = create_sent_letter(db_session)
    clock.offset = timedelta(days=15)
    deliver()
    login_as("staff")

    response = client.get(f"/admin/letters/{letter.id}")

    assert response.status_code == 200
    assert "Has your MP replied? (to supporter)" in text_of(response, "main")
