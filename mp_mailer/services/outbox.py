"""The letter outbox: the only code that changes a letter's status, each change guarded by the
status it expects, so a replayed or concurrent change does nothing."""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import (
    AttemptOutcome,
    DeliveryAttempt,
    EmailKind,
    Letter,
    LetterEvent,
    LetterStatus,
)

logger = logging.getLogger(__name__)

DUE_STATUSES = (LetterStatus.QUEUED, LetterStatus.RETRYING)
MAX_BACKOFF = timedelta(hours=1)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    base_delay: timedelta

    def delay_after(self, attempt_number: int) -> timedelta:
        return min(self.base_delay * (1 << max(attempt_number - 1, 0)), MAX_BACKOFF)


@dataclass(frozen=True)
class AttemptResult:
    duration_ms: int
    smtp_code: int | None
    smtp_reply: str | None


def transition(
    session: Session,
    letter_id: int,
    expected: Collection[LetterStatus],
    new_status: LetterStatus,
    now: datetime,
    *,
    actor_id: int | None = None,
    note: str = "",
    **values: Any,
) -> bool:
    """Move a letter to new_status if it is in one of the expected statuses; False if it was not.

    Does not commit: callers own the transaction.
    """
    current = session.scalar(select(Letter.status).where(Letter.id == letter_id))
    result = session.execute(
        update(Letter)
        .where(Letter.id == letter_id, Letter.status.in_(list(expected)))
        .values(status=new_status, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    session.add(
        LetterEvent(
            letter_id=letter_id,
            at=now,
            from_status=current,
            to_status=new_status,
            actor_id=actor_id,
            note=note,
        )
    )
    return True


def queue_confirmed(session: Session, letter_id: int, now: datetime) -> bool:
    with transaction(session):
        return transition(
            session,
            letter_id,
            [LetterStatus.AWAITING_CONFIRMATION],
            LetterStatus.QUEUED,
            now,
            note="confirmed by the supporter",
            confirmed_at=now,
            next_attempt_at=now,
            confirmation_due_at=None,
        )


def claim_due_letters(
    session: Session, now: datetime, lease: timedelta, limit: int = 20
) -> list[int]:
    """Atomically take up to `limit` due letters for this worker, leasing them until now+lease."""
    with transaction(session):
        candidates = session.scalars(
            select(Letter.id)
            .where(Letter.status.in_(DUE_STATUSES), Letter.next_attempt_at <= now)
            .order_by(Letter.next_attempt_at, Letter.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = [
            letter_id
            for letter_id in candidates
            if transition(
                session,
                letter_id,
                DUE_STATUSES,
                LetterStatus.SENDING,
                now,
                note="claimed by a worker",
                lease_until=now + lease,
            )
        ]
    return claimed


def reclaim_expired_leases(session: Session, now: datetime) -> list[int]:
    """Letters whose worker died mid-send go back to the queue once their lease has run out."""
    with transaction(session):
        expired = session.scalars(
            select(Letter.id)
            .where(Letter.status == LetterStatus.SENDING, Letter.lease_until < now)
            .with_for_update(skip_locked=True)
        ).all()
        reclaimed = [
            letter_id
            for letter_id in expired
            if transition(
                session,
                letter_id,
                [LetterStatus.SENDING],
                LetterStatus.RETRYING,
                now,
                note="lease expired: the worker sending it stopped",
                lease_until=None,
                next_attempt_at=now,
            )
        ]
    for letter_id in reclaimed:
        logger.warning("Reclaimed a letter from a stopped worker", extra={"letter_id": letter_id})
    return reclaimed


def release_claim(session: Session, letter_id: int, now: datetime, note: str) -> bool:
    """Hand a claimed letter back untouched (no attempt was made), e.g. when the relay is down."""
    with transaction(session):
        return transition(
            session,
            letter_id,
            [LetterStatus.SENDING],
            LetterStatus.RETRYING,
            now,
            note=note,
            lease_until=None,
        )


def record_sent(
    session: Session, letter_id: int, result: AttemptResult, now: datetime, sent_message: str
) -> bool:
    with transaction(session):
        _add_attempt(session, letter_id, EmailKind.LETTER, now, result, AttemptOutcome.SENT)
        return transition(
            session,
            letter_id,
            [LetterStatus.SENDING],
            LetterStatus.SENT,
            now,
            note=_reply_note(result),
            sent_at=now,
            lease_until=None,
            next_attempt_at=None,
            attempt_count=Letter.attempt_count + 1,
            last_error=None,
            sent_message=sent_message,
        )


def record_temporary_failure(
    session: Session,
    letter_id: int,
    result: AttemptResult,
    now: datetime,
    policy: RetryPolicy,
) -> LetterStatus | None:
    """Requeue with backoff, or fail the letter once its attempts are used up."""
    with transaction(session):
        attempts = (
            session.scalar(select(Letter.attempt_count).where(Letter.id == letter_id)) or 0
        ) + 1
        exhausted = attempts >= policy.max_attempts
        outcome = AttemptOutcome.FAILED if exhausted else AttemptOutcome.RETRY
        _add_attempt(session, letter_id, EmailKind.LETTER, now, result, outcome)
        new_status = LetterStatus.FAILED if exhausted else LetterStatus.RETRYING
        note = _reply_note(result)
        if exhausted:
            note = f"gave up after {attempts} attempts: {note}"
        changed = transition(
            session,
            letter_id,
            [LetterStatus.SENDING],
            new_status,
            now,
            note=note,
            lease_until=None,
            attempt_count=attempts,
            next_attempt_at=None if exhausted else now + policy.delay_after(attempts),
            last_error=_reply_note(result),
        )
    return new_status if changed else None


def record_permanent_failure(
    session: Session, letter_id: int, result: AttemptResult, now: datetime
) -> bool:
    with transaction(session):
        _add_attempt(session, letter_id, EmailKind.LETTER, now, result, AttemptOutcome.FAILED)
        return transition(
            session,
            letter_id,
            [LetterStatus.SENDING],
            LetterStatus.FAILED,
            now,
            note=_reply_note(result),
            lease_until=None,
            next_attempt_at=None,
            attempt_count=Letter.attempt_count + 1,
            last_error=_reply_note(result),
        )


def retry_failed(session: Session, letter_id: int, now: datetime, actor_id: int) -> bool:
    """A staff member sends a failed letter again; refused (False) unless it is failed."""
    with transaction(session):
        return transition(
            session,
            letter_id,
            [LetterStatus.FAILED],
            LetterStatus.QUEUED,
            now,
            actor_id=actor_id,
            note="retry requested by staff",
            next_attempt_at=now,
            attempt_count=0,
        )


def cancel_unsent(session: Session, letter_id: int, now: datetime, actor_id: int) -> bool:
    """A staff member stops a letter that has not gone yet; refused (False) once it is sending."""
    with transaction(session):
        return transition(
            session,
            letter_id,
            [LetterStatus.AWAITING_CONFIRMATION, LetterStatus.QUEUED, LetterStatus.RETRYING],
            LetterStatus.CANCELLED,
            now,
            actor_id=actor_id,
            note="cancelled by staff",
            next_attempt_at=None,
            confirmation_due_at=None,
        )


def claim_due_confirmations(
    session: Session, now: datetime, lease: timedelta, limit: int = 20
) -> list[int]:
    """Take confirmation emails that are due; the lease stops two workers sending the same one."""
    with transaction(session):
        candidates = session.scalars(
            select(Letter.id)
            .where(
                Letter.status == LetterStatus.AWAITING_CONFIRMATION,
                Letter.confirmation_due_at <= now,
                or_(Letter.lease_until.is_(None), Letter.lease_until < now),
            )
            .order_by(Letter.confirmation_due_at, Letter.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for letter_id in candidates:
            result = session.execute(
                update(Letter)
                .where(
                    Letter.id == letter_id,
                    Letter.status == LetterStatus.AWAITING_CONFIRMATION,
                    or_(Letter.lease_until.is_(None), Letter.lease_until < now),
                )
                .values(lease_until=now + lease)
            )
            if result.rowcount == 1:  # type: ignore[attr-defined]
                claimed.append(letter_id)
    return claimed


def record_confirmation_attempt(
    session: Session,
    letter_id: int,
    result: AttemptResult,
    outcome: AttemptOutcome,
    now: datetime,
    retry_at: datetime | None = None,
) -> None:
    with transaction(session):
        _add_attempt(session, letter_id, EmailKind.CONFIRMATION, now, result, outcome)
        values: dict[str, Any] = {"lease_until": None}
        if outcome == AttemptOutcome.SENT:
            values |= {"confirmation_sent_at": now, "confirmation_due_at": None}
        elif outcome == AttemptOutcome.RETRY:
            values |= {"confirmation_due_at": retry_at}
        else:
            values |= {"confirmation_due_at": None, "last_error": _reply_note(result)}
        session.execute(update(Letter).where(Letter.id == letter_id).values(**values))


def _add_attempt(
    session: Session,
    letter_id: int,
    kind: EmailKind,
    now: datetime,
    result: AttemptResult,
    outcome: AttemptOutcome,
) -> None:
    session.add(
        DeliveryAttempt(
            letter_id=letter_id,
            kind=kind,
            started_at=now,
            duration_ms=result.duration_ms,
            outcome=outcome,
            smtp_code=result.smtp_code,
            smtp_reply=(result.smtp_reply or "")[:1000] or None,
        )
    )


def _reply_note(result: AttemptResult) -> str:
    reply = (result.smtp_reply or "no reply").strip()
    return (f"{result.smtp_code} {reply}" if result.smtp_code else reply)[:500]


def release_confirmation_claim(session: Session, letter_id: int) -> None:
    with transaction(session):
        session.execute(
            update(Letter)
            .where(Letter.id == letter_id, Letter.status == LetterStatus.AWAITING_CONFIRMATION)
            .values(lease_until=None)
        )
