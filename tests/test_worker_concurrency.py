"""Several workers on one outbox: each email is claimed by one worker for one send, never twice."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from mp_mailer.cli import smtp_settings, worker_settings
from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.models import Letter, LetterStatus, ReplyCheck
from mp_mailer.services.outbox.claims import claim_next_letter
from mp_mailer.services.outbox.transitions import DUE_STATUSES, transition
from mp_mailer.worker.loop import run_worker
from tests.conftest import Clock
from tests.factories import create_campaign, create_letter, create_sent_letter
from tests.smtp_server import SmtpTestServer

LETTERS = 12
# Longer than one slow send, far shorter than a batch of them: a worker holding a batch under
# one lease (as before) has it taken over and sent again by another worker.
LEASE = timedelta(seconds=3)
RELAY_DELAY_SECONDS = 0.3


def sent_count(app: Flask) -> int:
    with app.extensions["mp_mailer.session_factory"]() as session:
        return (
            session.scalar(
                select(func.count()).select_from(Letter).where(Letter.status == LetterStatus.SENT)
            )
            or 0
        )


def confirmations_sent(app: Flask) -> int:
    with app.extensions["mp_mailer.session_factory"]() as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Letter)
                .where(Letter.confirmation_sent_at.is_not(None))
            )
            or 0
        )


def run_workers(app: Flask, workers: int, done: Callable[[], bool], timeout: float = 60) -> None:
    """Run `workers` worker threads until `done()` (or the timeout), then stop them."""
    config = app.extensions["mp_mailer.config"]
    settings = dataclasses.replace(worker_settings(config), lease=LEASE, poll_seconds=0.05)
    stop = threading.Event()
    threads = [
        threading.Thread(
            target=run_worker,
            args=(
                app.extensions["mp_mailer.session_factory"],
                lambda: SmtpRelay(smtp_settings(config)),
                settings,
            ),
            kwargs={"stop": stop},
            daemon=True,
        )
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + timeout
    while not done() and time.monotonic() < deadline:
        time.sleep(0.1)
    # Keep going past a lease, so a late duplicate would have time to arrive.
    time.sleep(LEASE.total_seconds() + 0.5)
    stop.set()
    for thread in threads:
        thread.join(10)
        assert not thread.is_alive()


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_send_each_letter_once_when_the_relay_is_slow_and_the_lease_short(
    app: Flask, db_session: Session, smtp_server: SmtpTestServer, workers: int
) -> None:
    campaign = create_campaign(db_session)
    letters = [create_letter(db_session, campaign) for _ in range(LETTERS)]
    smtp_server.delay_seconds = RELAY_DELAY_SECONDS

    run_workers(app, workers, lambda: sent_count(app) >= LETTERS)

    deliveries = Counter(str(message["Message-ID"]) for message in smtp_server.messages)
    assert deliveries == Counter({letter.message_id: 1 for letter in letters})
    assert sent_count(app) == LETTERS


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_send_each_confirmation_once_when_the_relay_is_slow_and_the_lease_short(
    app: Flask, db_session: Session, smtp_server: SmtpTestServer, workers: int
) -> None:
    campaign = create_campaign(db_session)
    for _ in range(LETTERS):
        create_letter(
            db_session,
            campaign,
            status=LetterStatus.AWAITING_CONFIRMATION,
            next_attempt_at=None,
            confirmation_due_at=Clock()(),
        )
    smtp_server.delay_seconds = RELAY_DELAY_SECONDS

    run_workers(app, workers, lambda: confirmations_sent(app) >= LETTERS)

    recipients = Counter(str(message["To"]) for message in smtp_server.messages)
    assert len(recipients) == LETTERS
    assert set(recipients.values()) == {1}


@pytest.mark.parametrize("workers", [2, 4])
def test_workers_send_each_reply_check_once_when_the_relay_is_slow_and_the_lease_short(
    app: Flask, db_session: Session, smtp_server: SmtpTestServer, workers: int
) -> None:
    campaign = create_campaign(db_session)
    sent_at = Clock()() - timedelta(days=15)
    for _ in range(LETTERS):
        create_sent_letter(db_session, campaign, sent_at=sent_at)
    smtp_server.delay_seconds = RELAY_DELAY_SECONDS

    run_workers(app, workers, lambda: reply_checks_sent(app) >= LETTERS)

    deliveries = Counter(str(message["Message-ID"]) for message in smtp_server.messages)
    assert len(deliveries) == LETTERS
    assert set(deliveries.values()) == {1}


def reply_checks_sent(app: Flask) -> int:
    with app.extensions["mp_mailer.session_factory"]() as session:
        return (
            session.scalar(
                select(func.count()).select_from(ReplyCheck).where(ReplyCheck.sent_at.is_not(None))
            )
            or 0
        )


def test_claim_gets_nothing_while_another_session_holds_the_letter_on_postgresql(
    app: Flask, db_session: Session, clock: Clock
) -> None:
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("row locks with SKIP LOCKED are PostgreSQL's; SQLite has one writer")
    letter = create_letter(db_session)
    # A claim that waited for the other session's lock would hang the test; fail it instead.
    db_session.execute(text("SET lock_timeout = '2s'"))
    with app.extensions["mp_mailer.session_factory"]() as other:
        # The first half of a claim, in another worker's session: the row is now locked.
        selected = other.scalar(
            select(Letter.id)
            .where(Letter.status.in_(DUE_STATUSES))
            .with_for_update(skip_locked=True)
        )

        second = claim_next_letter(db_session, clock(), LEASE, "second-worker")

        first = transition(other, letter.id, DUE_STATUSES, LetterStatus.SENDING, clock())
        other.commit()
    assert selected == letter.id
    assert second is None
    assert first is True


def test_claim_gets_nothing_once_another_worker_has_claimed_the_letter(
    db_session: Session, clock: Clock
) -> None:
    letter = create_letter(db_session)
    first = claim_next_letter(db_session, clock(), LEASE, "first-worker")

    stale = transition(db_session, letter.id, DUE_STATUSES, LetterStatus.SENDING, clock())
    db_session.commit()

    assert first is not None
    assert stale is False
