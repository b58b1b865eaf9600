"""What staff may do to a letter: send a failed one again, or cancel one not yet sent."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import LetterEvent, LetterStatus
from mp_mailer.services.outbox.transitions import lease_free, transition


def retry_failed(session: Session, letter_id: int, now: datetime, actor_id: int) -> bool:
    """A staff member sends a failed letter again; refused (False) unless it is failed.

    A letter that failed at its confirmation email gets a new confirmation email, never a send.
    """
    with transaction(session):
        failed_awaiting = (
            session.scalar(
                select(LetterEvent.from_status)
                .where(
                    LetterEvent.letter_id == letter_id, LetterEvent.to_status == LetterStatus.FAILED
                )
                .order_by(LetterEvent.id.desc())
                .limit(1)
            )
            == LetterStatus.AWAITING_CONFIRMATION
        )
        if failed_awaiting:
            return transition(
                session,
                letter_id,
                [LetterStatus.FAILED],
                LetterStatus.AWAITING_CONFIRMATION,
                now,
                actor_id=actor_id,
                note="confirmation email retry requested by staff",
                confirmation_due_at=now,
                attempt_count=0,
                retry_deadline=None,
            )
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
            retry_deadline=None,
        )


def cancel_unsent(session: Session, letter_id: int, now: datetime, actor_id: int) -> bool:
    """A staff member stops a letter that has not gone yet; refused (False) while a worker holds
    it under a live lease, or once it is sent, failed, cancelled or expired.

    A letter `sending` under an expired lease (its worker stopped) can be cancelled.
    """
    with transaction(session):
        return transition(
            session,
            letter_id,
            [
                LetterStatus.AWAITING_CONFIRMATION,
                LetterStatus.QUEUED,
                LetterStatus.RETRYING,
                LetterStatus.SENDING,
            ],
            LetterStatus.CANCELLED,
            now,
            actor_id=actor_id,
            note="cancelled by staff",
            conditions=[lease_free(now)],
            next_attempt_at=None,
            confirmation_due_at=None,
            lease_until=None,
            claim_token=None,
        )
