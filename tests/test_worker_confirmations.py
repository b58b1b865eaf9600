"""Confirmation emails: sent once with their own headers, retried in a window, failed or expired
for good, and never recorded over another worker's claim."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mp_mailer.cli import worker_settings
from mp_mailer.models import (
    AttemptOutcome,
    DeliveryAttempt,
    EmailKind,
    Letter,
    LetterEvent,
    LetterStatus,
    UserRole,
)
from mp_mailer.services.letters import make_confirmation_token
from mp_mailer.services.outbox.claims import claim_next_confirmation
from mp_mailer.services.outbox.confirmations import (
    record_confirmation_sent,
    record_confirmation_temporary_failure,
)
from mp_mailer.services.outbox.staff_actions import retry_failed
from mp_mailer.services.outbox.transitions import AttemptResult, RetryPolicy
from mp_mailer.worker.loop import ClaimOrder
from tests.conftest import TEST_SECRET_KEY, Clock
from tests.factories import create_campaign, create_letter, create_user
from tests.smtp_server import SmtpTestServer

LEASE = timedelta(minutes=5)


def awaiting(db_session: Session, clock: Clock, **overrides: Any) -> Letter:
    values: dict[str, Any] = {
        "status": LetterStatus.AWAITING_CONFIRMATION,
        "next_attempt_at": None,
        "confirmation_due_at": clock(),
    }
    return create_letter(db_session, **(values | overrides))


def reloaded(db_session: Session, letter: Letter) -> Letter:
    db_session.expire_all()
    return db_session.get_one(Letter, letter.id)


def confirmation_attempts(db_session: Session, letter: Letter) -> list[DeliveryAttempt]:
    return list(
        db_session.scalars(
            select(DeliveryAttempt)
            .where(
                DeliveryAttempt.letter_id == letter.id,
                DeliveryAttempt.kind == EmailKind.CONFIRMATION,
            )
            .order_by(DeliveryAttempt.id)
        )
    )


def last_event(db_session: Session, letter: Letter) -> LetterEvent:
    event = db_session.scalars(
        select(LetterEvent)
        .where(LetterEvent.letter_id == letter.id)
        .order_by(LetterEvent.id.desc())
        .limit(1)
    ).one()
    return event


def test_confirmation_email_carries_a_message_id_and_a_date(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    awaiting(db_session, clock)

    deliver()

    [message] = smtp_server.messages
    assert str(message["Message-ID"]).endswith("@freetibet.example>")
    assert message["Date"] is not None


def test_confirmation_email_is_retried_after_60_seconds_when_the_relay_refuses_it_with_451(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    smtp_server.fail_next(451, "4.3.0 Try again later")

    deliver()

    stored = reloaded(db_session, letter)
    [attempt] = confirmation_attempts(db_session, letter)
    assert (attempt.outcome, attempt.smtp_code) == (AttemptOutcome.RETRY, 451)
    assert stored.status == LetterStatus.AWAITING_CONFIRMATION
    assert stored.confirmation_due_at == attempt.started_at + timedelta(seconds=60)
    assert smtp_server.messages == []


def test_confirmation_email_goes_out_when_its_retry_is_due(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    smtp_server.fail_next(451, "4.3.0 Try again later")
    deliver()
    deliver()
    assert smtp_server.messages == []

    clock.advance(seconds=61)
    deliver()

    assert len(smtp_server.messages) == 1
    assert reloaded(db_session, letter).confirmation_sent_at is not None
    assert [a.outcome for a in confirmation_attempts(db_session, letter)] == [
        AttemptOutcome.RETRY,
        AttemptOutcome.SENT,
    ]


def test_confirmation_email_refused_with_550_fails_the_letter_keeping_the_reason(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    smtp_server.fail_next(550, "5.1.1 No such mailbox", stage="rcpt")

    deliver()

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.FAILED
    assert stored.confirmation_due_at is None
    assert stored.last_error == "confirmation email refused: 550 5.1.1 No such mailbox"
    assert last_event(db_session, letter).note == stored.last_error
    assert [(a.outcome, a.smtp_code) for a in confirmation_attempts(db_session, letter)] == [
        (AttemptOutcome.FAILED, 550)
    ]


def test_confirmation_email_fails_the_letter_when_refused_past_its_retry_window(
    app: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    window_hours = app.extensions["mp_mailer.config"].delivery_retry_window_hours
    letter = awaiting(db_session, clock)
    smtp_server.fail_next(451, "4.3.0 Try again later", times=1000)

    for _ in range(window_hours + 1):
        deliver()
        clock.advance(hours=1)

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.FAILED
    assert len(confirmation_attempts(db_session, letter)) == window_hours + 1
    assert stored.last_error is not None and "72 hours" in stored.last_error


def test_worker_sends_the_other_confirmations_when_one_cannot_be_built(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    campaign = create_campaign(db_session)
    first = awaiting(db_session, clock, campaign=campaign)
    poison = awaiting(db_session, clock, campaign=campaign, supporter_email="a@b@c")
    last = awaiting(db_session, clock, campaign=campaign)

    deliver()

    assert sorted(str(m["To"]) for m in smtp_server.messages) == sorted(
        [first.supporter_email, last.supporter_email]
    )
    stored = reloaded(db_session, poison)
    assert stored.status == LetterStatus.FAILED
    assert stored.last_error is not None and "could not be made" in stored.last_error


def test_unconfirmed_letter_expires_once_its_link_has_expired(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    deliver()

    clock.advance(hours=48, minutes=1)
    deliver()

    assert reloaded(db_session, letter).status == LetterStatus.EXPIRED
    assert last_event(db_session, letter).note == "not confirmed within 48 hours"


def test_unconfirmed_letter_waits_while_its_link_still_works(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    deliver()

    clock.advance(hours=47)
    deliver()

    assert reloaded(db_session, letter).status == LetterStatus.AWAITING_CONFIRMATION


def test_record_confirmation_attempt_changes_nothing_once_another_worker_holds_the_claim(
    db_session: Session, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    stale = claim_next_confirmation(db_session, clock(), LEASE, "stopped-worker")
    clock.advance(minutes=6)
    current = claim_next_confirmation(db_session, clock(), LEASE, "current-worker")
    held = reloaded(db_session, letter)
    assert stale is not None and current is not None

    result = AttemptResult(duration_ms=5, smtp_code=451, smtp_reply="4.3.0 later")
    recorded = record_confirmation_temporary_failure(
        db_session, stale, result, clock(), RetryPolicy(base_delay=timedelta(seconds=60))
    )

    stored = reloaded(db_session, letter)
    assert recorded is None
    assert (stored.lease_until, stored.claim_token) == (held.lease_until, "current-worker")
    assert stored.confirmation_due_at == held.confirmation_due_at
    assert confirmation_attempts(db_session, letter) == []


def test_staff_retry_of_a_letter_whose_confirmation_failed_sends_a_new_confirmation(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    smtp_server.fail_next(550, "5.1.1 No such mailbox", stage="rcpt")
    deliver()
    staff = create_user(db_session, role=UserRole.STAFF)

    retry_failed(db_session, letter.id, clock(), staff.id)
    deliver()

    stored = reloaded(db_session, letter)
    assert stored.status == LetterStatus.AWAITING_CONFIRMATION
    assert stored.confirmation_sent_at is not None
    [message] = smtp_server.messages
    assert str(message["To"]) == letter.supporter_email


def test_record_confirmation_sent_keeps_a_due_time_set_after_its_claim(
    db_session: Session, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    claim = claim_next_confirmation(db_session, clock(), LEASE, "worker")
    assert claim is not None
    # The supporter writes again while the first email is on its way: a new one is owed.
    clock.advance(seconds=1)
    newer_due = clock()
    db_session.execute(
        update(Letter).where(Letter.id == letter.id).values(confirmation_due_at=newer_due)
    )
    db_session.commit()

    result = AttemptResult(duration_ms=5, smtp_code=250, smtp_reply="2.0.0 OK")
    record_confirmation_sent(db_session, claim, result, clock())

    stored = reloaded(db_session, letter)
    assert stored.confirmation_sent_at is not None
    assert stored.confirmation_due_at == newer_due


def test_confirmation_link_of_an_expired_letter_says_it_has_expired(
    client: Any, db_session: Session, smtp_server: SmtpTestServer, deliver: Any, clock: Clock
) -> None:
    letter = awaiting(db_session, clock)
    deliver()
    clock.advance(hours=49)
    deliver()
    # A token signed a moment ago: only the letter's state can refuse it.
    token = make_confirmation_token(TEST_SECRET_KEY, letter.id)

    page = client.get(f"/confirm/{token}")

    assert page.status_code == 400
    assert "This link has expired." in page.data.decode()
    assert reloaded(db_session, letter).status == LetterStatus.EXPIRED


class SteppedMonotonic:
    """The worker's monotonic clock, which a test moves by hand."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self) -> float:
        return self.seconds


def test_claim_order_sends_letters_first_when_a_confirmation_arrives_within_a_second_of_none(
    app: Any, db_session: Session, clock: Clock
) -> None:
    monotonic = SteppedMonotonic()
    order = ClaimOrder(worker_settings(app.extensions["mp_mailer.config"]), monotonic)
    create_letter(db_session)
    first = order.claim_next(db_session, clock)
    waiting = awaiting(db_session, clock)
    second_letter = create_letter(db_session)

    monotonic.seconds = 0.5
    claim = order.claim_next(db_session, clock)

    assert first is not None and first.kind == EmailKind.LETTER
    assert claim is not None
    assert (claim.kind, claim.letter_id) == (EmailKind.LETTER, second_letter.id)
    assert reloaded(db_session, waiting).claim_token is None


def test_claim_order_claims_a_waiting_confirmation_first_once_a_second_has_passed(
    app: Any, db_session: Session, clock: Clock
) -> None:
    monotonic = SteppedMonotonic()
    order = ClaimOrder(worker_settings(app.extensions["mp_mailer.config"]), monotonic)
    create_letter(db_session)
    order.claim_next(db_session, clock)
    waiting = awaiting(db_session, clock)
    create_letter(db_session)

    monotonic.seconds = 1.0
    claim = order.claim_next(db_session, clock)

    assert claim is not None
    assert (claim.kind, claim.letter_id) == (EmailKind.CONFIRMATION, waiting.id)
