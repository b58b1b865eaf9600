"""Delivery by the outbox worker to a real SMTP server: retries, failures, leases, once only."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, func, select, text, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from mp_mailer.cli import smtp_settings, worker_settings
from mp_mailer.clients.smtp_relay import SmtpRelay, SmtpSettings
from mp_mailer.models import (
    AttemptOutcome,
    DeliveryAttempt,
    EmailKind,
    Letter,
    LetterEvent,
    LetterStatus,
    UserRole,
)
from mp_mailer.services.outbox.claims import (
    claim_next_letter,
    reclaim_expired_leases,
    still_claimed,
)
from mp_mailer.services.outbox.staff_actions import cancel_unsent
from mp_mailer.worker.loop import run_worker
from mp_mailer.worker.settings import RelayUnavailable
from tests.conftest import Clock
from tests.factories import create_campaign, create_letter, create_user
from tests.smtp_server import SmtpTestServer, make_self_signed_tls


def reloaded(db_session: Session, letter: Letter) -> Letter:
    db_session.expire_all()
    return db_session.get_one(Letter, letter.id)


def status_changes(db_session: Session, letter: Letter) -> list[LetterEvent]:
    """The letter's events that changed its status (notes such as the supporter's notice left
    out)."""
    return [e for e in events(db_session, letter) if e.from_status != e.to_status]


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


def test_worker_keeps_the_message_exactly_as_the_relay_received_it(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(
        db_session, supporter_name="Dr Jane Doe-Smith, Fellow of the Royal Society of Literature"
    )

    deliver()

    sent = reloaded(db_session, letter).sent_message or ""
    assert sent.encode() == smtp_server.raw_messages[0]


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
    # The supporter's notice of the failure follows (tests/test_supporter_notices.py).
    letter_attempts = [a for a in attempts(db_session, letter) if a.kind == EmailKind.LETTER]
    assert [(a.outcome, a.smtp_code, a.smtp_reply) for a in letter_attempts] == [
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
    claimed = claim_next_letter(db_session, clock(), outbox_lease(), "dead-worker")

    clock.advance(minutes=10)
    deliver()

    assert claimed is not None and claimed.letter_id == letter.id
    assert len(smtp_server.messages) == 1
    assert reloaded(db_session, letter).status == LetterStatus.SENT


def test_worker_leaves_a_letter_another_worker_is_sending(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session)
    claim_next_letter(db_session, clock(), outbox_lease(), "other-worker")

    deliver()

    assert smtp_server.messages == []
    assert reloaded(db_session, letter).status == LetterStatus.SENDING


def test_claim_gives_a_letter_to_only_one_of_two_workers(db_session: Session, clock: Clock) -> None:
    create_letter(db_session)

    first = claim_next_letter(db_session, clock(), outbox_lease(), "first")
    second = claim_next_letter(db_session, clock(), outbox_lease(), "second")

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


def events(db_session: Session, letter: Letter) -> list[LetterEvent]:
    return list(
        db_session.scalars(
            select(LetterEvent).where(LetterEvent.letter_id == letter.id).order_by(LetterEvent.id)
        )
    )


def test_worker_sends_the_rest_of_a_batch_when_one_letter_cannot_be_built(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, caplog: Any
) -> None:
    campaign = create_campaign(db_session)
    good = [create_letter(db_session, campaign) for _ in range(3)]
    # Written straight into the row: the email package cannot make an address of it.
    poison = create_letter(db_session, campaign, supporter_email="a@b@c")
    good += [create_letter(db_session, campaign) for _ in range(3)]

    deliver()

    assert {str(m["Message-ID"]) for m in smtp_server.messages} == {g.message_id for g in good}
    assert {reloaded(db_session, g).status for g in good} == {LetterStatus.SENT}
    stored = reloaded(db_session, poison)
    assert stored.status == LetterStatus.FAILED
    assert stored.last_error is not None and "could not be made" in stored.last_error
    assert status_changes(db_session, poison)[-1].note == stored.last_error
    # The letter's own email, not the supporter's notice (which fails on the same address).
    logged = [
        r
        for r in caplog.records
        if getattr(r, "letter_id", None) == poison.id and getattr(r, "kind", None) == "letter"
    ]
    assert [r.levelname for r in logged if r.levelno >= logging.ERROR] == ["ERROR"]


def test_worker_sends_a_letter_to_the_mp_when_the_relay_refuses_the_supporters_copy(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(db_session, send_copy=True)
    smtp_server.refuse_recipient(letter.supporter_email, 550, "5.1.1 No such user")

    deliver()

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.SENT
    assert [recipients for _, recipients in smtp_server.envelopes] == [[letter.mp_email]]
    assert [(a.kind, a.outcome, a.smtp_code) for a in attempts(db_session, letter)] == [
        (EmailKind.LETTER, AttemptOutcome.SENT, 250),
        (EmailKind.COPY, AttemptOutcome.FAILED, 550),
    ]
    assert (
        events(db_session, letter)[-1].note == "supporter's copy not sent: 550 5.1.1 No such user"
    )


def test_worker_retries_only_the_copy_when_the_relay_refuses_it_for_now(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session, send_copy=True)
    smtp_server.refuse_recipient(letter.supporter_email, 451, "4.2.2 Mailbox full")
    deliver()

    clock.advance(minutes=2)
    deliver()

    assert reloaded(db_session, letter).status == LetterStatus.SENT
    assert [recipients for _, recipients in smtp_server.envelopes] == [
        [letter.mp_email],
        [letter.supporter_email],
    ]
    assert [(a.kind, a.outcome) for a in attempts(db_session, letter)] == [
        (EmailKind.LETTER, AttemptOutcome.SENT),
        (EmailKind.COPY, AttemptOutcome.RETRY),
        (EmailKind.COPY, AttemptOutcome.SENT),
    ]


def test_worker_sends_the_letter_to_the_mp_and_the_supporter_in_one_transaction_when_both_accept(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    letter = create_letter(db_session, send_copy=True)

    deliver()

    assert [recipients for _, recipients in smtp_server.envelopes] == [
        [letter.mp_email, letter.supporter_email]
    ]
    assert [(a.kind, a.outcome) for a in attempts(db_session, letter)] == [
        (EmailKind.LETTER, AttemptOutcome.SENT),
        (EmailKind.COPY, AttemptOutcome.SENT),
    ]


def test_worker_retries_the_supporter_with_the_message_the_mp_received(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session, send_copy=True)
    smtp_server.refuse_recipient(letter.supporter_email, 451, "4.2.2 Mailbox full")
    deliver()

    clock.advance(minutes=2)
    deliver()

    to_mp, copy = smtp_server.raw_messages
    assert copy == to_mp


def test_worker_waits_60_120_240_seconds_and_so_on_up_to_an_hour_between_refusals(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = create_letter(db_session)
    smtp_server.fail_next(451, "4.3.0 Try again later", times=9)

    waits = []
    for _ in range(9):
        deliver()
        stored = reloaded(db_session, letter)
        assert stored.next_attempt_at is not None
        waits.append(stored.next_attempt_at - attempts(db_session, letter)[-1].started_at)
        clock.advance(hours=2)

    assert [wait.total_seconds() for wait in waits] == [
        60,
        120,
        240,
        480,
        960,
        1920,
        3600,
        3600,
        3600,
    ]


def test_worker_attempts_no_letter_of_a_batch_when_the_relay_is_down(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    campaign = create_campaign(db_session)
    letters = [create_letter(db_session, campaign) for _ in range(5)]
    smtp_server.stop()

    with pytest.raises(RelayUnavailable, match="ConnectionRefusedError"):
        deliver()

    assert {reloaded(db_session, letter).status for letter in letters} == {LetterStatus.QUEUED}
    assert db_session.scalar(select(func.count()).select_from(DeliveryAttempt)) == 0
    assert db_session.scalar(select(func.count()).select_from(LetterEvent)) == 0


def test_worker_waits_longer_after_each_failed_try_when_the_relay_stays_down(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, clock: Clock, caplog: Any
) -> None:
    create_letter(db_session)
    smtp_server.stop()
    stop = threading.Event()
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        clock.advance(seconds=seconds)
        if len(waits) == 8:
            stop.set()
        return stop.is_set()

    run_in_loop(app, clock, stop, wait)

    assert waits == [60, 120, 240, 480, 600, 600, 600, 600]
    outage_lines = [r for r in caplog.records if "cannot be reached" in r.getMessage()]
    assert [r.levelname for r in outage_lines if r.levelno >= logging.WARNING] == ["WARNING"]
    assert "Next try at" in outage_lines[0].getMessage()


def test_worker_gives_back_the_letter_in_hand_when_the_relay_goes_down_mid_batch(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, clock: Clock
) -> None:
    campaign = create_campaign(db_session)
    letters = [create_letter(db_session, campaign) for _ in range(6)]
    smtp_server.delay_seconds = 0.3
    stop = threading.Event()
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        stop.set()
        return True

    worker = threading.Thread(target=run_in_loop, args=(app, clock, stop, wait), daemon=True)
    worker.start()
    smtp_server.wait_for_messages(2)
    smtp_server.stop()
    worker.join(10)

    sent = {str(m["Message-ID"]) for m in smtp_server.messages}
    unsent = [reloaded(db_session, g) for g in letters if g.message_id not in sent]
    assert len(sent) == len(smtp_server.messages) >= 2
    assert unsent and {u.status for u in unsent} <= {LetterStatus.QUEUED}
    assert {u.attempt_count for u in unsent} == {0}
    assert waits == [60]


def test_worker_finishes_the_email_in_hand_then_stops_when_told_to(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, clock: Clock
) -> None:
    campaign = create_campaign(db_session)
    letters = [create_letter(db_session, campaign) for _ in range(5)]
    smtp_server.delay_seconds = 0.3
    stop = threading.Event()

    worker = threading.Thread(target=run_in_loop, args=(app, clock, stop, stop.wait))
    worker.start()
    smtp_server.wait_for_messages(1)
    stop.set()
    worker.join(10)

    statuses = [reloaded(db_session, letter).status for letter in letters]
    assert not worker.is_alive()
    assert statuses.count(LetterStatus.SENT) == len(smtp_server.messages) < len(letters)
    assert set(statuses) == {LetterStatus.SENT, LetterStatus.QUEUED}


def test_worker_pauses_then_carries_on_when_its_loop_fails(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, clock: Clock
) -> None:
    letter = create_letter(db_session)
    real_factory = app.extensions["mp_mailer.session_factory"]
    calls = []

    def flaky_factory() -> Session:
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection"))
        session: Session = real_factory()
        return session

    stop = threading.Event()
    waits: list[tuple[float, int]] = []

    def wait(seconds: float) -> bool:
        waits.append((seconds, len(smtp_server.messages)))
        if smtp_server.messages or len(waits) > 20:
            stop.set()
        return stop.is_set()

    config = app.extensions["mp_mailer.config"]
    delivered = run_worker(
        flaky_factory,  # type: ignore[arg-type]
        lambda: SmtpRelay(smtp_settings(config)),
        worker_settings(config),
        stop=stop,
        clock=clock,
        wait=wait,
    )

    assert delivered == 1
    # The pause came after the failure, before anything was sent.
    assert waits[0] == (config.worker_poll_seconds, 0)
    assert reloaded(db_session, letter).status == LetterStatus.SENT


def test_worker_records_a_long_relay_reply_whole_when_it_gives_up(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    reply = "4.7.1 " + "Greylisted, please try again later. " * 40
    letter = create_letter(
        db_session,
        status=LetterStatus.RETRYING,
        attempt_count=5,
        retry_deadline=clock() - timedelta(minutes=1),
    )
    smtp_server.fail_next(451, reply.strip())

    deliver()

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.FAILED
    assert stored.last_error == f"451 {reply.strip()}"
    assert reply.strip() in status_changes(db_session, letter)[-1].note


def test_worker_sends_the_other_letters_when_recording_one_fails_in_the_database(
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Any,
    refuse_status_change: Callable[[int, str], None],
) -> None:
    campaign = create_campaign(db_session)
    letters = [create_letter(db_session, campaign) for _ in range(4)]
    refuse_status_change(letters[1].id, "sent")

    deliver()

    statuses = [reloaded(db_session, letter).status for letter in letters]
    assert statuses == [
        LetterStatus.SENT,
        LetterStatus.SENDING,
        LetterStatus.SENT,
        LetterStatus.SENT,
    ]
    assert len(smtp_server.messages) == 4


def test_worker_records_the_other_letters_when_one_cannot_be_requeued_in_the_database(
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Any,
    refuse_status_change: Callable[[int, str], None],
) -> None:
    campaign = create_campaign(db_session)
    letters = [create_letter(db_session, campaign) for _ in range(4)]
    refuse_status_change(letters[1].id, "retrying")
    smtp_server.fail_next(451, "4.3.0 Try again later", times=4)

    deliver()

    statuses = [reloaded(db_session, letter).status for letter in letters]
    assert statuses == [
        LetterStatus.RETRYING,
        LetterStatus.SENDING,
        LetterStatus.RETRYING,
        LetterStatus.RETRYING,
    ]


@pytest.fixture
def refuse_status_change(db_session: Session) -> Iterator[Callable[[int, str], None]]:
    """A database that refuses one letter's change to one status, as a full disk or a bug might.

    The trigger is dropped afterwards: PostgreSQL tests share one schema.
    """
    sqlite = db_session.get_bind().dialect.name == "sqlite"

    def refuse(letter_id: int, status: str) -> None:
        if sqlite:
            db_session.execute(
                text(
                    "CREATE TRIGGER refuse_sent BEFORE UPDATE OF status ON letters "
                    f"WHEN NEW.id = {letter_id} AND NEW.status = '{status}' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by test trigger'); END"
                )
            )
        else:
            db_session.execute(
                text(
                    "CREATE FUNCTION refuse_sent() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'refused by test trigger'; END $$ LANGUAGE plpgsql"
                )
            )
            db_session.execute(
                text(
                    "CREATE TRIGGER refuse_sent BEFORE UPDATE ON letters FOR EACH ROW "
                    f"WHEN (NEW.id = {letter_id} AND NEW.status = '{status}') "
                    "EXECUTE FUNCTION refuse_sent()"
                )
            )
        db_session.commit()

    yield refuse
    db_session.rollback()
    db_session.execute(
        text("DROP TRIGGER IF EXISTS refuse_sent" + ("" if sqlite else " ON letters"))
    )
    if not sqlite:
        db_session.execute(text("DROP FUNCTION IF EXISTS refuse_sent()"))
    db_session.commit()


def test_staff_can_cancel_a_sending_letter_once_its_lease_has_run_out(
    db_session: Session, clock: Clock
) -> None:
    letter = create_letter(db_session)
    staff = create_user(db_session, role=UserRole.STAFF)
    claim_next_letter(db_session, clock(), outbox_lease(), "stopped-worker")
    while_held = cancel_unsent(db_session, letter.id, clock(), staff.id)

    clock.advance(minutes=6)
    after_lease = cancel_unsent(db_session, letter.id, clock(), staff.id)

    assert while_held is False
    assert after_lease is True
    assert reloaded(db_session, letter).status == LetterStatus.CANCELLED


def run_in_loop(
    app: Any, clock: Clock, stop: threading.Event, wait: Callable[[float], object]
) -> int:
    config = app.extensions["mp_mailer.config"]
    return run_worker(
        app.extensions["mp_mailer.session_factory"],
        lambda: SmtpRelay(smtp_settings(config)),
        worker_settings(config),
        stop=stop,
        clock=clock,
        wait=wait,
    )


def test_claim_is_no_longer_the_workers_once_its_lease_has_run_out(
    db_session: Session, clock: Clock
) -> None:
    create_letter(db_session)
    claim = claim_next_letter(db_session, clock(), outbox_lease(), "slow-worker")
    assert claim is not None
    held = still_claimed(db_session, claim, clock())

    clock.advance(minutes=6)

    assert held is True
    assert still_claimed(db_session, claim, clock()) is False


def test_claim_is_no_longer_the_workers_once_another_worker_took_it_over(
    db_session: Session, clock: Clock
) -> None:
    create_letter(db_session)
    stale = claim_next_letter(db_session, clock(), outbox_lease(), "slow-worker")
    clock.advance(minutes=6)
    reclaim_expired_leases(db_session, clock())
    current = claim_next_letter(db_session, clock(), outbox_lease(), "next-worker")
    assert stale is not None and current is not None

    assert still_claimed(db_session, stale, clock()) is False
    assert still_claimed(db_session, current, clock()) is True


def test_claim_on_a_letter_is_checked_in_the_database_once_half_its_lease_has_passed(
    db_session: Session, clock: Clock
) -> None:
    # Another worker whose clock runs ahead took the letter over while this one was slow.
    letter = create_letter(db_session)
    claim = claim_next_letter(db_session, clock(), outbox_lease(), "slow-worker")
    assert claim is not None
    db_session.execute(
        update(Letter).where(Letter.id == letter.id).values(claim_token="worker-ahead")
    )
    db_session.commit()

    clock.advance(seconds=outbox_lease().total_seconds() / 2 + 1)

    assert still_claimed(db_session, claim, clock()) is False


def test_claim_on_a_letter_needs_no_query_while_it_is_fresh(
    app: Any, db_session: Session, clock: Clock
) -> None:
    create_letter(db_session)
    claim = claim_next_letter(db_session, clock(), outbox_lease(), "worker")
    assert claim is not None
    statements: list[str] = []

    def record(*args: Any) -> None:
        statements.append(args[2])

    engine = app.extensions["mp_mailer.session_factory"].kw["bind"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        held = still_claimed(db_session, claim, clock())
    finally:
        event.remove(engine, "before_cursor_execute", record)
    assert held is True
    assert statements == []


def test_worker_spends_no_attempt_when_the_relay_stops_answering_mid_send(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, clock: Clock
) -> None:
    letter = create_letter(db_session)
    smtp_server.delay_seconds = 3.0
    settings = SmtpSettings(
        host=smtp_server.host, port=smtp_server.port, security="none", timeout=1.0
    )

    with pytest.raises(RelayUnavailable, match="timed out"):
        run_worker(
            app.extensions["mp_mailer.session_factory"],
            lambda: SmtpRelay(settings),
            worker_settings(app.extensions["mp_mailer.config"]),
            once=True,
            clock=clock,
        )

    stored = reloaded(db_session, letter)
    assert (stored.status, stored.attempt_count) == (LetterStatus.QUEUED, 0)
    assert attempts(db_session, letter) == []
