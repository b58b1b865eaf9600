"""Recording what became of the supporter's copy of a letter sent on its own after the letter."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import AttemptOutcome, DeliveryAttempt, EmailKind, Letter, LetterStatus
from mp_mailer.services.outbox.transitions import (
    AttemptResult,
    Claim,
    RetryPolicy,
    add_attempt,
    add_note,
    is_ours,
    reply_note,
    retry_time,
    update_ours,
)


def record_copy_sent(session: Session, claim: Claim, result: AttemptResult, now: datetime) -> bool:
    with transaction(session):
        if not _copy_still_ours(session, claim):
            return False
        add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.SENT)
        update_ours(
            session, claim, LetterStatus.SENT, lease_until=None, claim_token=None, copy_due_at=None
        )
        add_note(session, claim.letter_id, now, f"supporter's copy sent: {reply_note(result)}")
    return True


def record_copy_failure(
    session: Session,
    claim: Claim,
    result: AttemptResult,
    now: datetime,
    policy: RetryPolicy,
    *,
    permanent: bool,
) -> bool:
    """A refused copy is noted and, if temporary and within the window from the letter's sending,
    tried again later. The letter stays sent: its delivery depends on the MP only."""
    with transaction(session):
        sent_at = session.scalar(select(Letter.sent_at).where(is_ours(claim)))
        if sent_at is None or not _copy_still_ours(session, claim):
            return False
        attempts = session.scalar(
            select(func.count())
            .select_from(DeliveryAttempt)
            .where(
                DeliveryAttempt.letter_id == claim.letter_id,
                DeliveryAttempt.kind == EmailKind.COPY,
            )
        )
        final = permanent or now >= sent_at + policy.window
        add_attempt(
            session,
            claim.letter_id,
            claim.kind,
            now,
            result,
            AttemptOutcome.FAILED if final else AttemptOutcome.RETRY,
        )
        deadline = sent_at + policy.window
        retry_at = None if final else retry_time(policy, (attempts or 0) + 1, now, deadline)
        update_ours(
            session,
            claim,
            LetterStatus.SENT,
            lease_until=None,
            claim_token=None,
            copy_due_at=retry_at,
        )
        if final:
            note = f"supporter's copy not sent: {reply_note(result)}"
            add_note(session, claim.letter_id, now, note)
    return True


def _copy_still_ours(session: Session, claim: Claim) -> bool:
    return (
        session.scalar(
            select(Letter.id).where(
                is_ours(claim), Letter.status == LetterStatus.SENT, Letter.copy_due_at.is_not(None)
            )
        )
        is not None
    )
