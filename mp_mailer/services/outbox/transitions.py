"""The outbox's one guarded status change, and what every outbox record shares: the claim, the
relay's result, the retry policy, attempt rows and notes."""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, and_, insert, or_, select, update
from sqlalchemy.orm import Session

from mp_mailer.db import Base
from mp_mailer.email_messages import LetterEnvelope
from mp_mailer.models import (
    AttemptOutcome,
    DeliveryAttempt,
    EmailKind,
    Letter,
    LetterEvent,
    LetterStatus,
    ReplyCheck,
)

DUE_STATUSES = (LetterStatus.QUEUED, LetterStatus.RETRYING)


MAX_BACKOFF = timedelta(hours=1)


# Relay replies are kept whole in Text columns; this only stops a hostile relay filling the disk.
MAX_STORED_REPLY = 10_000

# Core tables and statements for the worker's path, built once: building an ORM statement costs
# several times what running it does, and nothing reads these rows back as objects.
LETTERS = Base.metadata.tables[Letter.__tablename__]
_NEW_EVENT = insert(Base.metadata.tables[LetterEvent.__tablename__])
_NEW_ATTEMPT = insert(Base.metadata.tables[DeliveryAttempt.__tablename__])


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
    lease_until: datetime | None = None
    # The letter as it was claimed, read in the claim's own statement, so the email is built
    # without reading the row again: for a letter to its MP, only what that email needs.
    letter: Letter | None = field(default=None, compare=False, repr=False)
    envelope: LetterEnvelope | None = field(default=None, compare=False, repr=False)


def new_claim_token() -> str:
    return str(uuid.uuid4())


# The rows a worker leases: a letter (its confirmation, copy or notice) or a reply check.
Leased = TypeVar("Leased", Letter, ReplyCheck)


def next_due(
    session: Session, entity: type[Leased], due: Sequence[ColumnElement[bool]], order: Sequence[Any]
) -> Leased | None:
    """The first row that is `due`, in `order`, read whole and locked for this transaction.

    SKIP LOCKED (PostgreSQL) passes over a row another worker is claiming right now rather than
    waiting for it; the guarded UPDATE that follows is what makes a claim safe on every
    database. The sender builds its email from the row read here, without reading it again.
    """
    return session.scalar(
        select(entity)
        .where(*due)
        .order_by(*order)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def lease_next(
    session: Session,
    entity: type[Leased],
    due: Sequence[ColumnElement[bool]],
    order: Sequence[Any],
    now: datetime,
    lease: timedelta,
    token: str,
) -> Leased | None:
    """The next due row (next_due) leased to this worker until now+lease under `token`; None if
    none is due, or another worker leased it first. Does not commit."""
    row = next_due(session, entity, due, order)
    if row is None:
        return None
    result = session.execute(
        update(entity)
        .where(entity.id == row.id, *due)
        .values(lease_until=now + lease, claim_token=token)
        .execution_options(synchronize_session=False)
    )
    return row if result.rowcount == 1 else None  # type: ignore[attr-defined]


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
    current: LetterStatus | None = None,
    **values: Any,
) -> bool:
    """Move a letter to new_status if it is in one of the expected statuses (and meets the extra
    `conditions`); False if it was not.

    With `current` (one of `expected`), the letter must be in exactly that status: the history
    then records it without reading the status first, one round trip fewer.
    Does not commit: callers own the transaction.
    """
    if current is None:
        current = session.scalar(select(Letter.status).where(Letter.id == letter_id))
    else:
        assert current in expected, f"{current} is not one of the expected statuses"
        expected = [current]
    result = session.execute(
        update(Letter)
        .where(Letter.id == letter_id, Letter.status.in_(list(expected)), *conditions)
        .values(status=new_status, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        return False
    add_event(session, letter_id, now, current, new_status, note, actor_id)
    return True


def add_event(
    session: Session,
    letter_id: int,
    now: datetime,
    from_status: LetterStatus | None,
    to_status: LetterStatus,
    note: str,
    actor_id: int | None = None,
) -> None:
    """A history row: a change of status, or a note (the worker writes two for every email)."""
    session.execute(
        _NEW_EVENT,
        {
            "letter_id": letter_id,
            "at": now,
            "from_status": from_status,
            "to_status": to_status,
            "actor_id": actor_id,
            "note": note,
        },
    )


def lease_free(now: datetime) -> ColumnElement[bool]:
    return or_(Letter.lease_until.is_(None), Letter.lease_until < now)


def is_ours(claim: Claim) -> ColumnElement[bool]:
    return and_(Letter.id == claim.letter_id, Letter.claim_token == claim.token)


def update_ours(session: Session, claim: Claim, status: LetterStatus, **values: Any) -> None:
    session.execute(
        update(Letter)
        .where(is_ours(claim), Letter.status == status)
        .values(**values)
        .execution_options(synchronize_session=False)
    )


def add_note(session: Session, letter_id: int, now: datetime, note: str) -> None:
    """An event that records something about a letter without changing its status."""
    add_event(session, letter_id, now, LetterStatus.SENT, LetterStatus.SENT, note)


def add_attempt(
    session: Session,
    letter_id: int,
    kind: EmailKind,
    now: datetime,
    result: AttemptResult,
    outcome: AttemptOutcome,
) -> None:
    session.execute(
        _NEW_ATTEMPT,
        {
            "letter_id": letter_id,
            "kind": kind,
            "started_at": now,
            "duration_ms": result.duration_ms,
            "outcome": outcome,
            "smtp_code": result.smtp_code,
            "smtp_reply": (result.smtp_reply or "")[:MAX_STORED_REPLY] or None,
        },
    )


def reply_note(result: AttemptResult) -> str:
    reply = (result.smtp_reply or "no reply").strip()[:MAX_STORED_REPLY]
    return f"{result.smtp_code} {reply}" if result.smtp_code else reply


def retry_time(policy: RetryPolicy, attempts: int, now: datetime, deadline: datetime) -> datetime:
    # The last try falls on the deadline itself, so the window is used in full.
    return min(now + policy.delay_after(attempts), deadline)


def in_hours(period: timedelta) -> str:
    hours = period.total_seconds() / 3600
    return f"{hours:g} hours"
