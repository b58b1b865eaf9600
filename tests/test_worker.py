"""Delivery by the outbox worker to a real SMTP server: retries, failures, leases, once only."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.cli import worker_settings
from mp_mailer.clients.smtp_relay import SmtpRelay, SmtpSettings
from mp_mailer.models import AttemptOutcome, DeliveryAttempt, Letter, LetterStatus
from mp_mailer.services import outbox
from mp_mailer.worker import RelayUnavailable, run_worker
from tests.conftest import Clock
from tests.factories import create_letter
from tests.smtp_server import SmtpTestServer, make_self_signed_tls


def reloaded(db_session: Session, letter: Letter) -> Letter:
    db_session.expire_all()
    return db_session.get_one(Letter, letter.id)


def attempts(db_session: Session, letter: Letter) -> list[DeliveryAttempt]:
    return list(
        db_session.scalars(
            select(DeliveryAttempt)
            .where(DeliveryAttempt.letter_id == letter.id)
            .order_by(DeliveryAttempt.id)
        )
    )


def test_worker_sends_a_queued_letter_once_when_run_twice(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(db_session)

    deliver()
    deliver()

    assert len(smtp_server.messages) == 1
    assert reloaded(db_session, letter).status == LetterStatus.SENT


def test_worker_records_the_relays_reply_for_a_sent_letter(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(db_session)

    deliver()

    [attempt] = attempts(db_session, letter)
    assert attempt.outcome == AttemptOutcome.SENT
    assert attempt.smtp_code == 250
    assert attempt.smtp_reply == "2.0.0 OK queued as test-1"


def test_worker_keeps_the_message_as_sent(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(db_session)

    deliver()

    sent = reloaded(db_session, letter).sent_message or ""
    assert f"Message-ID: {letter.message_id}" in sent
    assert "Dear Ms Abbott," in sent


def test_worker_delivers_once_when_the_relay_is_down_then_back(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session)
    smtp_server.stop()
    with pytest.raises(RelayUnavailable):
        deliver()
    smtp_server.restart()

    clock.advance(hours=2)
    deliver()
    deliver()

    assert len(smtp_server.messages) == 1
    assert reloaded(db_session, letter).status == LetterStatus.SENT


def test_worker_spends_none_of_a_letters_attempts_when_the_relay_is_down(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(db_session)
    due_at = letter.next_attempt_at
    smtp_server.stop()

    with pytest.raises(RelayUnavailable):
        deliver()

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.QUEUED
    assert stored.attempt_count == 0
    assert stored.next_attempt_at == due_at
    assert attempts(db_session, letter) == []


def test_worker_does_not_retry_before_the_backoff_has_passed(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(db_session)
    smtp_server.fail_next(451, "4.3.0 Try again later")
    deliver()

    deliver()

    assert smtp_server.messages == []
    assert len(attempts(db_session, letter)) == 1


def test_worker_sends_after_a_temporary_refusal(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session)
    smtp_server.fail_next(451, "4.3.0 Try again later")
    deliver()

    clock.advance(minutes=5)
    deliver()

    assert len(smtp_server.messages) == 1
    assert [(a.outcome, a.smtp_code) for a in attempts(db_session, letter)] == [
        (AttemptOutcome.RETRY, 451),
        (AttemptOutcome.SENT, 250),
    ]


def test_worker_fails_a_letter_the_relay_refuses_permanently(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(db_session)
    smtp_server.fail_next(550, "5.1.1 Mailbox unavailable", stage="rcpt")

    deliver()

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.FAILED
    assert stored.last_error == "550 5.1.1 Mailbox unavailable"
    assert [(a.outcome, a.smtp_code, a.smtp_reply) for a in attempts(db_session, letter)] == [
        (AttemptOutcome.FAILED, 550, "5.1.1 Mailbox unavailable")
    ]


def test_worker_fails_a_letter_once_its_retry_window_has_passed(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session)
    window_hours = app.extensions["mp_mailer.config"].delivery_retry_window_hours
    smtp_server.fail_next(451, "4.3.0 Try again later", times=1000)

    tries = 0
    while reloaded(db_session, letter).status != LetterStatus.FAILED and tries < 200:
        deliver()
        tries += 1
        clock.advance(hours=1)

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.FAILED
    assert stored.attempt_count == tries
    # One try an hour (the backoff's cap) from the first refusal to the window's end, inclusive.
    assert tries == window_hours + 1
    assert smtp_server.messages == []


def test_worker_keeps_retrying_a_letter_while_within_its_retry_window(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session)
    window_hours = app.extensions["mp_mailer.config"].delivery_retry_window_hours
    smtp_server.fail_next(451, "4.3.0 Try again later", times=window_hours)

    for _ in range(window_hours + 1):
        deliver()
        clock.advance(hours=1)

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.SENT
    assert len(smtp_server.messages) == 1


def test_worker_reclaims_a_letter_whose_worker_died_mid_send(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session)
    claimed = outbox.claim_next_letter(db_session, clock(), outbox_lease(), "dead-worker")

    clock.advance(minutes=10)
    deliver()

    assert claimed is not None and claimed.letter_id == letter.id
    assert len(smtp_server.messages) == 1
    assert reloaded(db_session, letter).status == LetterStatus.SENT


def test_worker_leaves_a_letter_another_worker_is_sending(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session)
    outbox.claim_next_letter(db_session, clock(), outbox_lease(), "other-worker")

    deliver()

    assert smtp_server.messages == []
    assert reloaded(db_session, letter).status == LetterStatus.SENDING


def test_claim_gives_a_letter_to_only_one_of_two_workers(db_session: Session, clock: Clock) -> None:
    create_letter(db_session)

    first = outbox.claim_next_letter(db_session, clock(), outbox_lease(), "first")
    second = outbox.claim_next_letter(db_session, clock(), outbox_lease(), "second")

    assert first is not None
    assert second is None


def test_worker_keeps_letters_queued_when_the_relay_refuses_our_login(
    app: Any, db_session: Session, tmp_path: Path, clock: Clock
) -> None:
    server_tls, client_tls = make_self_signed_tls(tmp_path)
    letter = create_letter(db_session)
    with SmtpTestServer(
        tls_context_for_starttls=server_tls, auth_credentials=("mailer", "right-password")
    ) as relay:
        settings = SmtpSettings(
            host=relay.host,
            port=relay.port,
            security="starttls",
            username="mailer",
            password="wrong-password",
        )

        with pytest.raises(RelayUnavailable, match="535"):
            run_worker(
                app.extensions["mp_mailer.session_factory"],
                lambda: SmtpRelay(settings, ssl_context=client_tls),
                worker_settings(app.extensions["mp_mailer.config"]),
                once=True,
                clock=clock,
            )

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.QUEUED
    assert stored.attempt_count == 0
    assert attempts(db_session, letter) == []


def outbox_lease() -> timedelta:
    return timedelta(minutes=5)
