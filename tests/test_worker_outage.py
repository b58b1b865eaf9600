"""A long relay outage with a thousand letters waiting: nothing lost, nothing doubled, no spin."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.cli import smtp_settings, worker_settings
from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.models import DeliveryAttempt, Letter, LetterEvent, LetterStatus
from mp_mailer.worker import run_worker
from tests.conftest import Clock
from tests.factories import create_campaign, create_queued_letters
from tests.smtp_server import SmtpTestServer

LETTERS = 1000
OUTAGE_HOURS = 6
# Capped exponential waits through the outage: 60 s doubling to 10 minutes, then each 10.
MAX_WAITS = OUTAGE_HOURS * 6 + 6


def count(db_session: Session, model: Any, *conditions: Any) -> int:
    db_session.expire_all()
    found = db_session.scalar(select(func.count()).select_from(model).where(*conditions)) or 0
    db_session.rollback()  # no transaction left open while the worker runs
    return found


def test_worker_delivers_every_letter_once_after_a_six_hour_relay_outage(
    app: Flask, db_session: Session, smtp_server: SmtpTestServer, clock: Clock
) -> None:
    campaign = create_campaign(db_session)
    create_queued_letters(db_session, campaign, LETTERS)
    smtp_server.stop()
    stop = threading.Event()
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        """The worker's pause: the simulated clock moves on instead of the test sleeping."""
        waits.append(seconds)
        clock.advance(seconds=seconds)
        if clock.offset.total_seconds() >= OUTAGE_HOURS * 3600 and not smtp_server.running:
            smtp_server.start()
        # The bound only stops a broken worker hanging the test; the asserts below then fail.
        if (
            count(db_session, Letter, Letter.status == LetterStatus.SENT) == LETTERS
            or len(waits) > 10 * MAX_WAITS
        ):
            stop.set()
        return stop.is_set()

    config = app.extensions["mp_mailer.config"]
    run_worker(
        app.extensions["mp_mailer.session_factory"],
        lambda: SmtpRelay(smtp_settings(config)),
        worker_settings(config),
        stop=stop,
        clock=clock,
        wait=wait,
    )

    deliveries = Counter(str(message["Message-ID"]) for message in smtp_server.messages)
    assert len(deliveries) == LETTERS
    assert set(deliveries.values()) == {1}
    assert count(db_session, Letter, Letter.status == LetterStatus.SENT) == LETTERS
    assert count(db_session, Letter, Letter.status == LetterStatus.FAILED) == 0
    assert count(db_session, DeliveryAttempt) == LETTERS
    # Each letter: claimed, then sent. The outage itself adds nothing.
    assert count(db_session, LetterEvent) == 2 * LETTERS
    assert len(waits) <= MAX_WAITS
