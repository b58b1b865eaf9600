"""The confirmation side of the outbox: a confirmed letter is queued, the confirmation email's
results are recorded, and unconfirmed letters expire."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import AttemptOutcome, Letter, LetterStatus
from mp_mailer.services.outbox.transitions import (
    AttemptResult,
    Claim,
    RetryPolicy,
    add_attempt,
    in_hours,
    is_ours,
    lease_free,
    reply_note,
    retry_time,
    transition,
    update_ours,
)

logger = logging.getLogger(__name__)


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
            attempt_count=0,
            retry_deadline=None,
        )


def record_confirmation_sent(
    session: Session, claim: Claim, result: AttemptResult, now: datetime
) -> bool:
    with transaction(session):
        if not _still_awaiting(session, claim):
            return False
        add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.SENT)
        update_ours(
            session,
            claim,
            LetterStatus.AWAITING_CONFIRMATION,
            lease_until=None,
            claim_token=None,
            confirmation_sent_at=now,
            confirmation_due_at=_newer_due_or(claim, None),
            retry_deadline=None,
            attempt_count=0,
            last_error=None,
        )
    return True


def record_confirmation_temporary_failure(
    session: Session, claim: Claim, result: AttemptResult, now: datetime, policy: RetryPolicy
) -> LetterStatus | None:
    """Retry the confirmation email later, or fail the letter once its retry window has passed.

    None if the claim was no longer ours (a newer confirmation, or another worker, took over).
    """
    with transaction(session):
        row = session.execute(
            select(Letter.attempt_count, Letter.retry_deadline).where(
                is_ours(claim), Letter.status == LetterStatus.AWAITING_CONFIRMATION
            )
        ).first()
        if row is None:
            return None
        attempts = row.attempt_count + 1
        deadline = row.retry_deadline or now + policy.window
        reply = reply_note(result)
        if now >= deadline:
            add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.FAILED)
            note = f"confirmation email refused for {in_hours(policy.window)}: {reply}"
            return _fail_awaiting(session, claim, now, note, attempts)
        add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.RETRY)
        update_ours(
            session,
            claim,
            LetterStatus.AWAITING_CONFIRMATION,
            lease_until=None,
            claim_token=None,
            attempt_count=attempts,
            retry_deadline=deadline,
            confirmation_due_at=_newer_due_or(claim, retry_time(policy, attempts, now, deadline)),
            last_error=f"confirmation email: {reply}",
        )
    return LetterStatus.AWAITING_CONFIRMATION


def record_confirmation_permanent_failure(
    session: Session, claim: Claim, result: AttemptResult, now: datetime
) -> LetterStatus | None:
    """The confirmation email cannot be sent: the letter fails, keeping the reason."""
    with transaction(session):
        if not _still_awaiting(session, claim):
            return None
        add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.FAILED)
        note = f"confirmation email refused: {reply_note(result)}"
        attempts = (
            session.scalar(select(Letter.attempt_count).where(Letter.id == claim.letter_id)) or 0
        )
        return _fail_awaiting(session, claim, now, note, attempts + 1)


def _fail_awaiting(
    session: Session, claim: Claim, now: datetime, note: str, attempts: int
) -> LetterStatus | None:
    changed = transition(
        session,
        claim.letter_id,
        [LetterStatus.AWAITING_CONFIRMATION],
        LetterStatus.FAILED,
        now,
        note=note,
        conditions=[is_ours(claim)],
        lease_until=None,
        claim_token=None,
        confirmation_due_at=None,
        attempt_count=attempts,
        last_error=note,
    )
    return LetterStatus.FAILED if changed else None


def _newer_due_or(claim: Claim, value: datetime | None) -> Any:
    """Keep a confirmation due time set after this claim (the supporter wrote again meanwhile,
    so a fresh email is owed); otherwise `value`."""
    return case(
        (Letter.confirmation_due_at > claim.claimed_at, Letter.confirmation_due_at),
        else_=value,
    )


def _still_awaiting(session: Session, claim: Claim) -> bool:
    return (
        session.scalar(
            select(Letter.id).where(
                is_ours(claim), Letter.status == LetterStatus.AWAITING_CONFIRMATION
            )
        )
        is not None
    )


def expire_unconfirmed(session: Session, now: datetime, link_lifetime: timedelta) -> list[int]:
    """Letters not confirmed within the confirmation link's lifetime become `expired`.

    Only letters with no confirmation email pending: a supporter who wrote again gets their new
    link first. The lifetime runs from the last confirmation email sent (or the letter's writing).
    """
    cutoff = now - link_lifetime
    unconfirmed = [
        Letter.confirmation_due_at.is_(None),
        lease_free(now),
        func.coalesce(Letter.confirmation_sent_at, Letter.created_at) < cutoff,
    ]
    with transaction(session):
        candidates = session.scalars(
            select(Letter.id)
            .where(Letter.status == LetterStatus.AWAITING_CONFIRMATION, *unconfirmed)
            .with_for_update(skip_locked=True)
        ).all()
        expired = [
            letter_id
            for letter_id in candidates
            if transition(
                session,
                letter_id,
                [LetterStatus.AWAITING_CONFIRMATION],
                LetterStatus.EXPIRED,
                now,
                note=f"not confirmed within {in_hours(link_lifetime)}",
                conditions=unconfirmed,
                lease_until=None,
                claim_token=None,
            )
        ]
    if expired:
        logger.info("Expired %d unconfirmed letters", len(expired))
    return expired
