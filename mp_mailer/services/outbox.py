"""The letter outbox: the only code that changes a letter's status, each change guarded by the
status it expects (and, for a worker, by its own claim), so a replayed or concurrent change does
nothing."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select, update
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
# Relay replies are kept whole in Text columns; this only stops a hostile relay filling the disk.
MAX_STORED_REPLY = 10_000


@dataclass(frozen=True)
class RetryPolicy:
    """When to try an email again after the relay refused it for now, and when to give up."""

    base_delay: timedelta
    window: timedelta = timedelta(hours=72)
    max_delay: timedelta = MAX_BACKOFF

    def delay_after(self, attempt_number: int) -> timedelta:
        """60 s, 120 s, 240 s ... (for a 60 s base), never more than max_delay."""
        exponent = min(max(attempt_number - 1, 0), 30)
        return min(self.base_delay * (1 << exponent), self.max_delay)


@dataclass(frozen=True)
class AttemptResult:
    duration_ms: int
    smtp_code: int | None
    smtp_reply: str | None


@dataclass(frozen=True)
class Claim:
    """One email a worker holds: which letter, which email, and the worker's token for it."""

    letter_id: int
    kind: EmailKind
    token: str
    claimed_at: datetime


def new_claim_token() -> str:
    return str(uuid.uuid4())


def transition(
    session: Session,
    letter_id: int,
    expected: Collection[LetterStatus],
    new_status: LetterStatus,
    now: datetime,
    *,
    actor_id: int | None = None,
    note: str = "",
    conditions: Sequence[ColumnElement[bool]] = (),
    **values: Any,
) -> bool:
    """Move a letter to new_status if it is in one of the expected statuses (and meets the extra
    `conditions`); False if it was not.

    Does not commit: callers own the transaction.
    """
    current = session.scalar(select(Letter.status).where(Letter.id == letter_id))
    result = session.execute(
        update(Letter)
        .where(Letter.id == letter_id, Letter.status.in_(list(expected)), *conditions)
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
            attempt_count=0,
            retry_deadline=None,
        )


# --- Claiming: one email at a time, under a lease that covers only that one send ---------------


def _lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(Letter.lease_until.is_(None), Letter.lease_until < now)


def _is_ours(claim: Claim) -> ColumnElement[bool]:
    return and_(Letter.id == claim.letter_id, Letter.claim_token == claim.token)


def _next_candidate(
    session: Session, due: Sequence[ColumnElement[bool]], order: Sequence[Any]
) -> int | None:
    # SKIP LOCKED (PostgreSQL): a row another worker is claiming right now is passed over, not
    # waited for; the guarded UPDATE that follows is what makes the claim safe on every database.
    return session.scalar(
        select(Letter.id).where(*due).order_by(*order).limit(1).with_for_update(skip_locked=True)
    )


def claim_next_letter(
    session: Session, now: datetime, lease: timedelta, token: str
) -> Claim | None:
    """Take the most overdue queued letter for this worker until now+lease; None if none is due."""
    with transaction(session):
        due = [Letter.status.in_(DUE_STATUSES), Letter.next_attempt_at <= now]
        letter_id = _next_candidate(session, due, [Letter.next_attempt_at, Letter.id])
        if letter_id is None or not transition(
            session,
            letter_id,
            DUE_STATUSES,
            LetterStatus.SENDING,
            now,
            note="claimed by a worker",
            conditions=[Letter.next_attempt_at <= now],
            lease_until=now + lease,
            claim_token=token,
        ):
            return None
    return Claim(letter_id, EmailKind.LETTER, token, now)


def claim_next_confirmation(
    session: Session, now: datetime, lease: timedelta, token: str
) -> Claim | None:
    """Take the next due confirmation email; the letter stays awaiting_confirmation."""
    due = [
        Letter.status == LetterStatus.AWAITING_CONFIRMATION,
        Letter.confirmation_due_at <= now,
        _lease_free(now),
    ]
    order = [Letter.confirmation_due_at, Letter.id]
    return _claim_without_status_change(
        session, due, order, now, lease, token, EmailKind.CONFIRMATION
    )


def claim_next_copy(session: Session, now: datetime, lease: timedelta, token: str) -> Claim | None:
    """Take the next due supporter's copy of a letter the MP has already accepted."""
    due = [Letter.status == LetterStatus.SENT, Letter.copy_due_at <= now, _lease_free(now)]
    return _claim_without_status_change(
        session, due, [Letter.copy_due_at, Letter.id], now, lease, token, EmailKind.COPY
    )


def _claim_without_status_change(
    session: Session,
    due: list[ColumnElement[bool]],
    order: Sequence[Any],
    now: datetime,
    lease: timedelta,
    token: str,
    kind: EmailKind,
) -> Claim | None:
    with transaction(session):
        letter_id = _next_candidate(session, due, order)
        if letter_id is None:
            return None
        result = session.execute(
            update(Letter)
            .where(Letter.id == letter_id, *due)
            .values(lease_until=now + lease, claim_token=token)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return None
    return Claim(letter_id, kind, token, now)


def still_claimed(session: Session, claim: Claim, now: datetime) -> bool:
    """Whether the claim is still this worker's, with lease left: checked right before sending."""
    status = {
        EmailKind.LETTER: LetterStatus.SENDING,
        EmailKind.CONFIRMATION: LetterStatus.AWAITING_CONFIRMATION,
        EmailKind.COPY: LetterStatus.SENT,
    }[claim.kind]
    with transaction(session):
        found = session.scalar(
            select(Letter.id).where(
                _is_ours(claim), Letter.status == status, Letter.lease_until > now
            )
        )
    return found is not None


def reclaim_expired_leases(session: Session, now: datetime) -> list[int]:
    """Letters whose worker died mid-send go back to the queue once their lease has run out.

    Confirmations and copies need nothing here: an expired lease makes them claimable again.
    """
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
                conditions=[Letter.lease_until < now],
                lease_until=None,
                claim_token=None,
                next_attempt_at=now,
            )
        ]
    for letter_id in reclaimed:
        logger.warning("Reclaimed a letter from a stopped worker", extra={"letter_id": letter_id})
    return reclaimed


def release_claim(session: Session, claim: Claim, now: datetime, note: str) -> bool:
    """Hand a claimed email back untouched (not attempted, e.g. the relay is down): it keeps its
    due time and no attempt is counted."""
    with transaction(session):
        if claim.kind != EmailKind.LETTER:
            result = session.execute(
                update(Letter)
                .where(_is_ours(claim))
                .values(lease_until=None, claim_token=None)
                .execution_options(synchronize_session=False)
            )
            return bool(result.rowcount == 1)  # type: ignore[attr-defined]
        attempted = session.scalar(select(Letter.attempt_count).where(Letter.id == claim.letter_id))
        return transition(
            session,
            claim.letter_id,
            [LetterStatus.SENDING],
            LetterStatus.RETRYING if attempted else LetterStatus.QUEUED,
            now,
            note=note,
            conditions=[_is_ours(claim)],
            lease_until=None,
            claim_token=None,
        )


# --- Recording what the relay said -------------------------------------------------------------


@dataclass(frozen=True)
class CopyResult:
    """What became of the supporter's copy sent with the letter; `retry_at` for a RETRY."""

    outcome: AttemptOutcome
    result: AttemptResult
    retry_at: datetime | None = None


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
    with transaction(session):
        _add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.SENT)
        changed = transition(
            session,
            claim.letter_id,
            [LetterStatus.SENDING, LetterStatus.RETRYING, LetterStatus.QUEUED],
            LetterStatus.SENT,
            now,
            note=_reply_note(result),
            sent_at=now,
            lease_until=None,
            claim_token=None,
            next_attempt_at=None,
            retry_deadline=None,
            copy_due_at=copy.retry_at if copy is not None else None,
            attempt_count=Letter.attempt_count + 1,
            last_error=None,
            sent_message=sent_message,
        )
        if changed and copy is not None:
            _add_attempt(session, claim.letter_id, EmailKind.COPY, now, copy.result, copy.outcome)
            if copy.outcome == AttemptOutcome.FAILED:
                _note(
                    session,
                    claim.letter_id,
                    now,
                    f"supporter's copy not sent: {_reply_note(copy.result)}",
                )
    return changed


def record_temporary_failure(
    session: Session, claim: Claim, result: AttemptResult, now: datetime, policy: RetryPolicy
) -> LetterStatus | None:
    """The relay refused the letter for now: requeue with backoff, or fail it once the retry
    window (started by its first refusal) has passed. None if the claim was no longer ours."""
    with transaction(session):
        row = session.execute(
            select(Letter.attempt_count, Letter.retry_deadline).where(_is_ours(claim))
        ).first()
        if row is None:
            return None
        attempts = row.attempt_count + 1
        deadline = row.retry_deadline or now + policy.window
        exhausted = now >= deadline
        _add_attempt(
            session,
            claim.letter_id,
            claim.kind,
            now,
            result,
            AttemptOutcome.FAILED if exhausted else AttemptOutcome.RETRY,
        )
        reply = _reply_note(result)
        new_status = LetterStatus.FAILED if exhausted else LetterStatus.RETRYING
        changed = transition(
            session,
            claim.letter_id,
            [LetterStatus.SENDING],
            new_status,
            now,
            note=f"gave up: refused for {_hours(policy.window)}, {attempts} attempts: {reply}"
            if exhausted
            else reply,
            conditions=[_is_ours(claim)],
            lease_until=None,
            claim_token=None,
            attempt_count=attempts,
            retry_deadline=deadline,
            next_attempt_at=None if exhausted else _retry_time(policy, attempts, now, deadline),
            last_error=reply,
        )
    return new_status if changed else None


def record_permanent_failure(
    session: Session, claim: Claim, result: AttemptResult, now: datetime
) -> bool:
    """The relay refused the letter for good (5xx), or it could not be built or sent at all."""
    with transaction(session):
        _add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.FAILED)
        return transition(
            session,
            claim.letter_id,
            [LetterStatus.SENDING],
            LetterStatus.FAILED,
            now,
            note=_reply_note(result),
            conditions=[_is_ours(claim)],
            lease_until=None,
            claim_token=None,
            next_attempt_at=None,
            attempt_count=Letter.attempt_count + 1,
            last_error=_reply_note(result),
        )


def record_confirmation_sent(
    session: Session, claim: Claim, result: AttemptResult, now: datetime
) -> bool:
    with transaction(session):
        if not _still_awaiting(session, claim):
            return False
        _add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.SENT)
        _update_ours(
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
                _is_ours(claim), Letter.status == LetterStatus.AWAITING_CONFIRMATION
            )
        ).first()
        if row is None:
            return None
        attempts = row.attempt_count + 1
        deadline = row.retry_deadline or now + policy.window
        reply = _reply_note(result)
        if now >= deadline:
            _add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.FAILED)
            note = f"confirmation email refused for {_hours(policy.window)}: {reply}"
            return _fail_awaiting(session, claim, now, note, attempts)
        _add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.RETRY)
        _update_ours(
            session,
            claim,
            LetterStatus.AWAITING_CONFIRMATION,
            lease_until=None,
            claim_token=None,
            attempt_count=attempts,
            retry_deadline=deadline,
            confirmation_due_at=_newer_due_or(claim, _retry_time(policy, attempts, now, deadline)),
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
        _add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.FAILED)
        note = f"confirmation email refused: {_reply_note(result)}"
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
        conditions=[_is_ours(claim)],
        lease_until=None,
        claim_token=None,
        confirmation_due_at=None,
        attempt_count=attempts,
        last_error=note,
    )
    return LetterStatus.FAILED if changed else None


def record_copy_sent(session: Session, claim: Claim, result: AttemptResult, now: datetime) -> bool:
    with transaction(session):
        if not _copy_still_ours(session, claim):
            return False
        _add_attempt(session, claim.letter_id, claim.kind, now, result, AttemptOutcome.SENT)
        _update_ours(
            session, claim, LetterStatus.SENT, lease_until=None, claim_token=None, copy_due_at=None
        )
        _note(session, claim.letter_id, now, f"supporter's copy sent: {_reply_note(result)}")
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
        sent_at = session.scalar(select(Letter.sent_at).where(_is_ours(claim)))
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
        _add_attempt(
            session,
            claim.letter_id,
            claim.kind,
            now,
            result,
            AttemptOutcome.FAILED if final else AttemptOutcome.RETRY,
        )
        deadline = sent_at + policy.window
        retry_at = None if final else _retry_time(policy, (attempts or 0) + 1, now, deadline)
        _update_ours(
            session,
            claim,
            LetterStatus.SENT,
            lease_until=None,
            claim_token=None,
            copy_due_at=retry_at,
        )
        if final:
            note = f"supporter's copy not sent: {_reply_note(result)}"
            _note(session, claim.letter_id, now, note)
    return True


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
                _is_ours(claim), Letter.status == LetterStatus.AWAITING_CONFIRMATION
            )
        )
        is not None
    )


def _copy_still_ours(session: Session, claim: Claim) -> bool:
    return (
        session.scalar(
            select(Letter.id).where(
                _is_ours(claim), Letter.status == LetterStatus.SENT, Letter.copy_due_at.is_not(None)
            )
        )
        is not None
    )


def _update_ours(session: Session, claim: Claim, status: LetterStatus, **values: Any) -> None:
    session.execute(
        update(Letter)
        .where(_is_ours(claim), Letter.status == status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def _note(session: Session, letter_id: int, now: datetime, note: str) -> None:
    """An event that records something about a letter without changing its status."""
    session.add(
        LetterEvent(
            letter_id=letter_id,
            at=now,
            from_status=LetterStatus.SENT,
            to_status=LetterStatus.SENT,
            note=note,
        )
    )


# --- Expiry and staff actions ------------------------------------------------------------------


def expire_unconfirmed(session: Session, now: datetime, link_lifetime: timedelta) -> list[int]:
    """Letters not confirmed within the confirmation link's lifetime become `expired`.

    Only letters with no confirmation email pending: a supporter who wrote again gets their new
    link first. The lifetime runs from the last confirmation email sent (or the letter's writing).
    """
    cutoff = now - link_lifetime
    unconfirmed = [
        Letter.confirmation_due_at.is_(None),
        _lease_free(now),
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
                note=f"not confirmed within {_hours(link_lifetime)}",
                conditions=unconfirmed,
                lease_until=None,
                claim_token=None,
            )
        ]
    if expired:
        logger.info("Expired %d unconfirmed letters", len(expired))
    return expired


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
            conditions=[_lease_free(now)],
            next_attempt_at=None,
            confirmation_due_at=None,
            lease_until=None,
            claim_token=None,
        )


def has_due_email(session: Session, now: datetime) -> bool:
    """Whether any email is due now, so a worker connects to the relay only when it has work."""
    with transaction(session):
        found = session.scalar(
            select(Letter.id)
            .where(
                or_(
                    and_(Letter.status.in_(DUE_STATUSES), Letter.next_attempt_at <= now),
                    and_(
                        Letter.status == LetterStatus.AWAITING_CONFIRMATION,
                        Letter.confirmation_due_at <= now,
                        _lease_free(now),
                    ),
                    and_(
                        Letter.status == LetterStatus.SENT,
                        Letter.copy_due_at <= now,
                        _lease_free(now),
                    ),
                )
            )
            .limit(1)
        )
    return found is not None


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
            smtp_reply=(result.smtp_reply or "")[:MAX_STORED_REPLY] or None,
        )
    )


def _reply_note(result: AttemptResult) -> str:
    reply = (result.smtp_reply or "no reply").strip()[:MAX_STORED_REPLY]
    return f"{result.smtp_code} {reply}" if result.smtp_code else reply


def _retry_time(policy: RetryPolicy, attempts: int, now: datetime, deadline: datetime) -> datetime:
    # The last try falls on the deadline itself, so the window is used in full.
    return min(now + policy.delay_after(attempts), deadline)


def _hours(period: timedelta) -> str:
    hours = period.total_seconds() / 3600
    return f"{hours:g} hours"
