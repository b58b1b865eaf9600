"""What may be emailed to a supporter's address without the supporter asking for it twice:
a cap per recipient on confirmations and notices, a confirmation sent again for an unchanged
letter, and the notice that tells a letter's real owner someone wrote again with their address.

The cap counts per recipient (by dedupe key, hashed), not per client address: an attacker
spreading requests over hundreds of addresses still reaches one inbox only a few times a day.
The worker sends what is queued here: confirmations through the outbox, and notices through
deliver_due_notices(), which the worker's loop calls after the confirmations."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage

from limits import parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mp_mailer.clients.smtp_replies import SmtpRelayError
from mp_mailer.db import transaction
from mp_mailer.models import Letter, LetterStatus, SupporterNotice

logger = logging.getLogger(__name__)

ALREADY_WRITTEN = "already_written"
MAX_NOTICE_ATTEMPTS = 5
NOTICE_RETRY = timedelta(minutes=10)
# How long one worker holds a notice it is sending before another may take it.
NOTICE_CLAIM = timedelta(minutes=5)


class RecipientCapReached(Exception):
    """This address has been sent as many emails as it may be for now."""


class RecipientBudget:
    """Emails per recipient address (confirmations and notices), e.g. '3 per hour; 6 per day'."""

    def __init__(self, storage_uri: str, per_recipient: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._limits = parse_many(per_recipient)

    def spend(self, key: str) -> None:
        """Count one email to `key`'s inbox, or raise RecipientCapReached and count nothing."""
        digest = hashlib.sha256(key.encode()).hexdigest()
        if not all(self._limiter.test(item, "supporter-mail", digest) for item in self._limits):
            raise RecipientCapReached()
        for item in self._limits:
            self._limiter.hit(item, "supporter-mail", digest)


def resend_confirmation(session: Session, letter_id: int, now: datetime) -> bool:
    """Send an unconfirmed letter's confirmation again, for the letter exactly as it is.

    False when it is no longer awaiting confirmation. Changes no status (so no outbox
    transition): only when the next confirmation email is due, with fresh attempts and retry
    window, as the outbox gives a letter written again; a worker holding a claim on the old
    email keeps this newer due time.
    """
    with transaction(session):
        result = session.execute(
            update(Letter)
            .where(Letter.id == letter_id, Letter.status == LetterStatus.AWAITING_CONFIRMATION)
            .values(confirmation_due_at=now, attempt_count=0, retry_deadline=None)
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def queue_already_written_notice(session: Session, letter_id: int, now: datetime) -> None:
    """Tell the supporter behind this letter that someone wrote again with their address."""
    with transaction(session):
        session.add(
            SupporterNotice(letter_id=letter_id, kind=ALREADY_WRITTEN, created_at=now, due_at=now)
        )
    logger.info("Queued an already-written notice", extra={"letter_id": letter_id})


@dataclass(frozen=True)
class DueNotice:
    notice_id: int
    letter: Letter


def due_notices(session: Session, now: datetime, limit: int = 20) -> list[DueNotice]:
    rows = session.execute(
        select(SupporterNotice, Letter)
        .join(Letter, Letter.id == SupporterNotice.letter_id)
        .where(SupporterNotice.due_at <= now, SupporterNotice.sent_at.is_(None))
        .order_by(SupporterNotice.due_at, SupporterNotice.id)
        .limit(limit)
    ).all()
    return [DueNotice(notice.id, letter) for notice, letter in rows]


def deliver_due_notices(
    session: Session,
    build: Callable[[Letter], EmailMessage],
    send: Callable[[EmailMessage], object],
    now: datetime,
) -> int:
    """Send each due notice once; `send` raises SmtpRelayError on failure, and the notice is
    tried again later, at most MAX_NOTICE_ATTEMPTS times. A notice for erased details is
    dropped unsent. Returns how many were sent."""
    sent = 0
    for due in due_notices(session, now):
        notice = session.get(SupporterNotice, due.notice_id)
        if notice is None or not _claim(session, notice.id, now):
            continue
        if due.letter.erased_at is not None:
            _finish(session, notice, due_at=None)
            continue
        try:
            send(build(due.letter))
        except SmtpRelayError:
            logger.warning("A notice was not sent", extra={"letter_id": due.letter.id})
            notice.attempt_count += 1
            retry = notice.attempt_count < MAX_NOTICE_ATTEMPTS
            _finish(session, notice, due_at=now + NOTICE_RETRY if retry else None)
            continue
        _finish(session, notice, due_at=None, sent_at=now)
        sent += 1
    return sent


def _claim(session: Session, notice_id: int, now: datetime) -> bool:
    """Take the notice for this worker: another worker's claim makes this one False. A worker
    that dies holding it leaves the notice due again once NOTICE_CLAIM has passed."""
    with transaction(session):
        result = session.execute(
            update(SupporterNotice)
            .where(
                SupporterNotice.id == notice_id,
                SupporterNotice.due_at <= now,
                SupporterNotice.sent_at.is_(None),
            )
            .values(due_at=now + NOTICE_CLAIM)
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _finish(
    session: Session,
    notice: SupporterNotice,
    *,
    due_at: datetime | None,
    sent_at: datetime | None = None,
) -> None:
    with transaction(session):
        notice.due_at = due_at
        if sent_at is not None:
            notice.sent_at = sent_at
