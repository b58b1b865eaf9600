"""Outbox records that the worker tests do not reach (gaps found by `make mutation`): history of a
confirmation, a permanent failure under a claim another worker took over, a staff retry."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import AttemptOutcome, DeliveryAttempt, Letter, LetterEvent, LetterStatus
from mp_mailer.services.outbox.claims import claim_next_letter, reclaim_expired_leases
from mp_mailer.services.outbox.confirmations import queue_confirmed
from mp_mailer.services.outbox.letter_results import record_permanent_failure, record_sent
from mp_mailer.services.outbox.staff_actions import retry_failed
from mp_mailer.services.outbox.transitions import AttemptResult, transition
from tests.conftest import Clock
from tests.factories import create_letter, create_user

LEASE = timedelta(minutes=5)
REFUSAL = AttemptResult(duration_ms=40, smtp_code=550, smtp_reply="5.1.1 mailbox unknown")
ACCEPTED = AttemptResult(duration_ms=40, smtp_code=250, smtp_reply="2.0.0 queued as 4F2x")


def test_queue_confirmed_records_when_and_why_the_letter_was_queued_when_confirmed(
    db_session: Session, clock: Clock
) -> None:
    letter = create_letter(
        db_session, status=LetterStatus.AWAITING_CONFIRMATION, next_attempt_at=None
    )
    clock.advance(hours=3)
    confirmed_at = clock()

    queue_confirmed(db_session, letter.id, confirmed_at)

    event = db_session.scalars(select(LetterEvent).where(LetterEvent.letter_id == letter.id)).one()
    assert (event.from_status, event.to_status) == (
        LetterStatus.AWAITING_CONFIRMATION,
        LetterStatus.QUEUED,
    )
    assert event.note == "confirmed by the supporter"
    assert event.at == confirmed_at


def test_record_permanent_failure_changes_nothing_when_another_worker_holds_the_claim(
    db_session: Session, clock: Clock
) -> None:
    letter = create_letter(db_session)
    stale = claim_next_letter(db_session, clock(), LEASE, "stopped-worker")
    clock.advance(minutes=6)
    reclaim_expired_leases(db_session, clock())
    current = claim_next_letter(db_session, clock(), LEASE, "next-worker")
    assert stale is not None and current is not None

    recorded = record_permanent_failure(db_session, stale, REFUSAL, clock())

    row = db_session.get_one(Letter, letter.id, populate_existing=True)
    assert recorded is False
    assert (row.status, row.claim_token) == (LetterStatus.SENDING, "next-worker")


def test_record_permanent_failure_records_the_attempt_at_the_time_it_was_made_when_refused(
    db_session: Session, clock: Clock
) -> None:
    letter = create_letter(db_session)
    clock.advance(hours=2)
    claim = claim_next_letter(db_session, clock(), LEASE, "worker")
    assert claim is not None
    refused_at = clock()

    record_permanent_failure(db_session, claim, REFUSAL, refused_at)

    attempt = db_session.scalars(
        select(DeliveryAttempt).where(DeliveryAttempt.letter_id == letter.id)
    ).one()
    assert (attempt.outcome, attempt.smtp_code) == (AttemptOutcome.FAILED, 550)
    assert attempt.started_at == refused_at


def test_retry_failed_queues_a_letter_that_failed_at_sending_when_another_failed_at_confirmation(
    db_session: Session, clock: Clock
) -> None:
    failed_sending = create_letter(db_session, status=LetterStatus.SENDING)
    failed_confirming = create_letter(db_session, status=LetterStatus.AWAITING_CONFIRMATION)
    transition(db_session, failed_sending.id, [LetterStatus.SENDING], LetterStatus.FAILED, clock())
    transition(
        db_session,
        failed_confirming.id,
        [LetterStatus.AWAITING_CONFIRMATION],
        LetterStatus.FAILED,
        clock(),
    )
    db_session.commit()
    staff = create_user(db_session)

    retried = retry_failed(db_session, failed_sending.id, clock(), staff.id)

    row = db_session.get_one(Letter, failed_sending.id, populate_existing=True)
    assert retried is True
    assert row.status == LetterStatus.QUEUED


def test_record_sent_marks_a_letter_sent_when_its_lease_ran_out_while_the_relay_took_it(
    db_session: Session, clock: Clock
) -> None:
    letter = create_letter(db_session)
    slow = claim_next_letter(db_session, clock(), LEASE, "slow-worker")
    clock.advance(minutes=6)
    reclaim_expired_leases(db_session, clock())
    assert slow is not None

    recorded = record_sent(db_session, slow, ACCEPTED, clock(), "the email as sent")

    row = db_session.get_one(Letter, letter.id, populate_existing=True)
    last = db_session.scalars(
        select(LetterEvent).where(LetterEvent.letter_id == letter.id).order_by(LetterEvent.id)
    ).all()[-1]
    assert recorded is True
    assert (row.status, row.sent_message) == (LetterStatus.SENT, "the email as sent")
    assert (last.from_status, last.to_status) == (LetterStatus.RETRYING, LetterStatus.SENT)


def test_record_sent_records_the_move_from_sending_when_the_claim_is_still_held(
    db_session: Session, clock: Clock
) -> None:
    letter = create_letter(db_session)
    claim = claim_next_letter(db_session, clock(), LEASE, "worker")
    assert claim is not None

    record_sent(db_session, claim, ACCEPTED, clock(), None)

    events = db_session.scalars(
        select(LetterEvent).where(LetterEvent.letter_id == letter.id).order_by(LetterEvent.id)
    ).all()
    assert [(e.from_status, e.to_status) for e in events] == [
        (LetterStatus.QUEUED, LetterStatus.SENDING),
        (LetterStatus.SENDING, LetterStatus.SENT),
    ]
    assert events[-1].note == "250 2.0.0 queued as 4F2x"
