"""Recording what the relay said about a letter to an MP: sent, refused for now, or for good."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Result, Update, bindparam, select, update
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import AttemptOutcome, EmailKind, Letter, LetterStatus
from mp_mailer.services.outbox.transitions import (
    LETTERS,
    AttemptResult,
    Claim,
    RetryPolicy,
    add_attempt,
    add_event,
    add_note,
    in_hours,
    is_ours,
    reply_note,
    retry_time,
    transition,
)


@dataclass(frozen=True)
class CopyResult:
    """What became of the supporter's copy sent with the letter; `retry_at` for a RETRY."""

    outcome: AttemptOutcome
    result: AttemptResult
    retry_at: datetime | None = None


def _marking_sent(*guard: ColumnElement[bool]) -> Update:
    """The UPDATE that records the relay's acceptance of letter `letter_id` at `sent_at`."""
    return (
        update(LETTERS)
        .where(LETTERS.c.id == bindparam("letter_id"), *guard)
        .values(
            status=LetterStatus.SENT,
            sent_at=bindparam("sent_at"),
            lease_until=None,
            claim_token=None,
            next_attempt_at=None,
            retry_deadline=None,
            copy_due_at=bindparam("copy_due_at"),
            attempt_count=LETTERS.c.attempt_count + 1,
            last_error=None,
            sent_message=bindparam("sent_message"),
        )
    )


# Built once: every letter is recorded with the first, so building it each time would cost more
# than running it. The second records a letter whose lease ran out while the relay took it.
_SENT_UNDER_CLAIM = _marking_sent(
    LETTERS.c.status == LetterStatus.SENDING, LETTERS.c.claim_token == bindparam("token")
)
_SENT_AFTER_LEASE = _marking_sent(
    LETTERS.c.status.in_([LetterStatus.SENDING, LetterStatus.RETRYING, LetterStatus.QUEUED])
)


def record_sent(
    session: Session,
    claim: Claim,
    result: AttemptResult,
    now: datetime,
    sent_message: str | None,
    copy: CopyResult | None = None,
) -> bool:
    """The relay accepted the letter for the MP; `copy` says how the supporter's copy fared.

    Recorded even if the claim has meanwhile expired (a very slow relay): the relay's acceptance
    is a fact, and recording it stops another worker sending the letter again.
    """
    parameters = {
        "letter_id": claim.letter_id,
        "token": claim.token,
        "sent_at": now,
        "copy_due_at": copy.retry_at if copy is not None else None,
        "sent_message": sent_message,
    }
    with transaction(session):
        add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.SENT)
        # Nearly always the letter is still ours and `sending`; only after that fails is its
        # status read, to record a letter whose lease ran out while the relay took it.
        from_status: LetterStatus | None = LetterStatus.SENDING
        changed = _updated_one(session.execute(_SENT_UNDER_CLAIM, parameters))
        if not changed:
            from_status = session.scalar(
                select(LETTERS.c.status).where(LETTERS.c.id == claim.letter_id)
            )
            changed = _updated_one(session.execute(_SENT_AFTER_LEASE, parameters))
        if not changed:
            return False
        add_event(session, claim.letter_id, now, from_status, LetterStatus.SENT, reply_note(result))
        if copy is not None:
            add_attempt(session, claim.letter_id, EmailKind.COPY, now, copy.result, copy.outcome)
            if copy.outcome == AttemptOutcome.FAILED:
                add_note(
                    session,
                    claim.letter_id,
                    now,
                    f"supporter's copy not sent: {reply_note(copy.result)}",
                )
    return True


def _updated_one(result: Result[Any]) -> bool:
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record_temporary_failure(
    session: Session, claim: Claim, result: AttemptResult, now: datetime, policy: RetryPolicy
) -> LetterStatus | None:
    """The relay refused the letter for now: requeue with backoff, or fail it once the retry
    window (started by its first refusal) has passed. None if the claim was no longer ours."""
    with transaction(session):
        row = session.execute(
            select(Letter.attempt_count, Letter.retry_deadline).where(is_ours(claim))
        ).first()
        if row is None:
            return None
        attempts = row.attempt_count + 1
        deadline = row.retry_deadline or now + policy.window
        exhausted = now >= deadline
        add_attempt(
            session,
            claim.letter_id,
            claim.kind,
            now,
            result,
            AttemptOutcome.FAILED if exhausted else AttemptOutcome.RETRY,
        )
        reply = reply_note(result)
        new_status = LetterStatus.FAILED if exhausted else LetterStatus.RETRYING
        changed = transition(
            session,
            claim.letter_id,
            [LetterStatus.SENDING],
            new_status,
            now,
            note=f"gave up: refused for {in_hours(policy.window)}, {attempts} attempts: {reply}"
            if exhausted
            else reply,
            conditions=[is_ours(claim)],
            lease_until=None,
            claim_token=None,
            attempt_count=attempts,
            retry_deadline=deadline,
            next_attempt_at=None if exhausted else retry_time(policy, attempts, now, deadline),
            last_error=reply,
            # A final failure owes the supporter one notice (services.supporter_notices).
            notice_due_at=now if exhausted else None,
        )
    return new_status if changed else None


def record_permanent_failure(
    session: Session, claim: Claim, result: AttemptResult, now: datetime
) -> bool:
    """The relay refused the letter for good (5xx), or it could not be built or sent at all."""
    with transaction(session):
        add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.FAILED)
        return transition(
            session,
            claim.letter_id,
            [LetterStatus.SENDING],
            LetterStatus.FAILED,
            now,
            note=reply_note(result),
            conditions=[is_ours(claim)],
            lease_until=None,
            claim_token=None,
            next_attempt_at=None,
            attempt_count=Letter.attempt_count + 1,
            last_error=reply_note(result),
            notice_due_at=now,
        )
