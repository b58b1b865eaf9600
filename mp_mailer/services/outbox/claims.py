"""Claiming: a worker takes one email at a time, under a lease that covers only that one send,
and hands back what it did not attempt."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Row, Select, and_, bindparam, or_, select, update
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.email_messages import LetterEnvelope, Supporter
from mp_mailer.models import EmailKind, Letter, LetterStatus
from mp_mailer.services import reply_checks
from mp_mailer.services.outbox.transitions import (
    DUE_STATUSES,
    LETTERS,
    Claim,
    add_event,
    is_ours,
    lease_free,
    lease_next,
    transition,
)

logger = logging.getLogger(__name__)


# What the email to the MP is built from, returned by the claim itself.
_ENVELOPE_COLUMNS = [
    LETTERS.c[name]
    for name in (
        "message_id",
        "subject",
        "body",
        "supporter_name",
        "supporter_email",
        "supporter_address",
        "supporter_postcode",
        "mp_name",
        "mp_email",
        "send_copy",
        "own_words_line",
    )
]
_DUE_LETTER = and_(
    LETTERS.c.status.in_(DUE_STATUSES), LETTERS.c.next_attempt_at <= bindparam("now")
)


def _next_due_letter(held_back: Sequence[ColumnElement[bool]]) -> Select[tuple[int, LetterStatus]]:
    """The most overdue due letter, locked for this transaction; SKIP LOCKED (PostgreSQL) passes
    over one another worker is claiming right now rather than waiting for it."""
    return (
        select(LETTERS.c.id, LETTERS.c.status)
        .where(_DUE_LETTER, *held_back)
        .order_by(LETTERS.c.next_attempt_at, LETTERS.c.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )


# Built once: building a statement costs more than running it. The next due letter is built
# anew only when a campaign's pacing holds letters back.
_NEXT_DUE_LETTER = _next_due_letter(())
# Guarded by the status just read as well as locked: SQLite has no FOR UPDATE, so there the
# guard is what makes the claim safe. It returns what the email to the MP is built from.
_LEASE_LETTER = (
    update(LETTERS)
    .where(LETTERS.c.id == bindparam("letter_id"), LETTERS.c.status == bindparam("from_status"))
    .where(_DUE_LETTER)
    .values(
        status=LetterStatus.SENDING,
        lease_until=bindparam("lease_until"),
        claim_token=bindparam("token"),
    )
    .returning(*_ENVELOPE_COLUMNS)
)


def claim_next_letter(
    session: Session,
    now: datetime,
    lease: timedelta,
    token: str,
    held_back: Sequence[ColumnElement[bool]] = (),
) -> Claim | None:
    """Take the most overdue queued letter for this worker until now+lease; None if none is due.

    `held_back` (from services.pacing) are extra conditions a letter must meet to go now. The
    claim carries the letter's envelope, so the sender does not read the letter again.
    """
    parameters = {"now": now, "lease_until": now + lease, "token": token}
    next_due = _next_due_letter(held_back) if held_back else _NEXT_DUE_LETTER
    with transaction(session):
        due = session.execute(next_due, parameters).first()
        if due is None:
            return None
        leased = session.execute(
            _LEASE_LETTER, {**parameters, "letter_id": due.id, "from_status": due.status}
        ).first()
        if leased is None:
            return None
        add_event(session, due.id, now, due.status, LetterStatus.SENDING, "claimed by a worker")
    envelope = letter_envelope(leased)
    return Claim(due.id, EmailKind.LETTER, token, now, now + lease, envelope=envelope)


def letter_envelope(letter: Letter | Row[Any]) -> LetterEnvelope:
    """What the email to the MP is built from: a letter, or a row of its _ENVELOPE_COLUMNS."""
    return LetterEnvelope(
        message_id=letter.message_id,
        subject=letter.subject,
        body=letter.body,
        supporter=Supporter(
            name=letter.supporter_name,
            email=letter.supporter_email,
            address=letter.supporter_address,
            postcode=letter.supporter_postcode,
        ),
        mp_name=letter.mp_name,
        mp_email=letter.mp_email,
        send_copy=letter.send_copy,
        footer=letter.own_words_line or "",
    )


def claim_next_confirmation(
    session: Session, now: datetime, lease: timedelta, token: str
) -> Claim | None:
    """Take the next due confirmation email; the letter stays awaiting_confirmation."""
    due = [
        Letter.status == LetterStatus.AWAITING_CONFIRMATION,
        Letter.confirmation_due_at <= now,
        lease_free(now),
    ]
    order = [Letter.confirmation_due_at, Letter.id]
    return claim_without_status_change(
        session, due, order, now, lease, token, EmailKind.CONFIRMATION
    )


def claim_next_copy(session: Session, now: datetime, lease: timedelta, token: str) -> Claim | None:
    """Take the next due supporter's copy of a letter the MP has already accepted."""
    due = [Letter.status == LetterStatus.SENT, Letter.copy_due_at <= now, lease_free(now)]
    return claim_without_status_change(
        session, due, [Letter.copy_due_at, Letter.id], now, lease, token, EmailKind.COPY
    )


def claim_without_status_change(
    session: Session,
    due: list[ColumnElement[bool]],
    order: Sequence[Any],
    now: datetime,
    lease: timedelta,
    token: str,
    kind: EmailKind,
) -> Claim | None:
    """Lease the next letter that is `due` for an email about it (`kind`); its status stays."""
    with transaction(session):
        letter = lease_next(session, Letter, due, order, now, lease, token)
    if letter is None:
        return None
    return Claim(letter.id, kind, token, now, now + lease, letter)


def still_claimed(session: Session, claim: Claim, now: datetime) -> bool:
    """Whether the claim is still this worker's, with lease left: checked right before sending.

    A letter claimed less than half its lease ago needs no query: while its lease lasts, nothing
    but its own worker changes a letter that is `sending` (reclaiming it, a staff cancel and an
    erasure all wait for the lease to run out), and workers' clocks agree to well within half a
    lease, as leases themselves require. Other emails keep their letter's status, which others
    may change, so they are always checked in the database (a reply check in its own table).
    """
    if claim.kind == EmailKind.REPLY_CHECK:
        return reply_checks.still_claimed(session, claim, now)
    if (
        claim.kind == EmailKind.LETTER
        and claim.lease_until is not None
        and now < claim.claimed_at + (claim.lease_until - claim.claimed_at) / 2
    ):
        return True
    statuses = {
        EmailKind.LETTER: [LetterStatus.SENDING],
        EmailKind.CONFIRMATION: [LetterStatus.AWAITING_CONFIRMATION],
        EmailKind.COPY: [LetterStatus.SENT],
        EmailKind.NOTICE: [LetterStatus.BOUNCED, LetterStatus.FAILED],
    }[claim.kind]
    with transaction(session):
        found = session.scalar(
            select(Letter.id).where(
                is_ours(claim), Letter.status.in_(statuses), Letter.lease_until > now
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
    if claim.kind == EmailKind.REPLY_CHECK:
        return reply_checks.release_check(session, claim)
    with transaction(session):
        if claim.kind != EmailKind.LETTER:
            result = session.execute(
                update(Letter)
                .where(is_ours(claim))
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
            conditions=[is_ours(claim)],
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
                        lease_free(now),
                    ),
                    and_(
                        Letter.status == LetterStatus.SENT,
                        Letter.copy_due_at <= now,
                        lease_free(now),
                    ),
                )
            )
            .limit(1)
        )
    return found is not None
