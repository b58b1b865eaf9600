"""Supporters' personal data under UK GDPR: find one supporter's letters, export them, erase
them (on a staff member's or their own request), and purge old letters; each one recorded.

Erasing keeps the letter row, so every count (per campaign, MP, constituency, status) stays
true: only the supporter's name, email, address, postcode and words go, with the sent message
and relay replies that could repeat them. A letter not yet sent is cancelled first, through the
outbox's guarded transition; one a worker is sending at that moment is left for next time."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, object_session

from mp_mailer.db import transaction
from mp_mailer.errors import DomainError
from mp_mailer.models import DeliveryAttempt, Letter, LetterStatus, PrivacyRecord, ReplyCheck
from mp_mailer.services.outbox.transitions import transition
from mp_mailer.services.supporter_identity import supporter_key

logger = logging.getLogger(__name__)

ERASED_NAME = "(erased)"
UNSENT_STATUSES = (LetterStatus.AWAITING_CONFIRMATION, LetterStatus.QUEUED, LetterStatus.RETRYING)
PURGE_BATCH = 500
ERASURE_SALT = "erase-my-details"
# Longer than any retention period: by then the details the link would erase are gone anyway.
ERASURE_LINK_MAX_AGE_SECONDS = 3 * 365 * 24 * 3600


class PrivacyAction:
    FIND = "find"
    EXPORT = "export"
    ERASE = "erase"
    SELF_ERASE = "self_erase"
    PURGE = "purge"


@dataclass(frozen=True)
class ErasureResult:
    erased: int
    # Being sent by a worker at this moment: try again in a few minutes.
    in_flight: int


def supporter_letters(session: Session, email: str) -> list[Letter]:
    """Every letter (not yet erased) from this address, or one dedupe counts as the same."""
    key = supporter_key(email)
    return list(
        session.scalars(
            select(Letter)
            .where(
                or_(Letter.supporter_key == key, Letter.supporter_email == email.strip().lower()),
                Letter.erased_at.is_(None),
            )
            .order_by(Letter.created_at, Letter.id)
        )
    )


def record(
    session: Session, action: str, user_id: int | None, letter_count: int, now: datetime
) -> None:
    """Write down what was done to whose data, naming no supporter. Commits."""
    with transaction(session):
        session.add(
            PrivacyRecord(action=action, user_id=user_id, letter_count=letter_count, at=now)
        )
    logger.info(
        "Privacy action recorded",
        extra={"action": action, "user_id": user_id, "letter_count": letter_count},
    )


def export_letters(letters: Sequence[Letter]) -> dict[str, Any]:
    """What we hold about the supporter, as a subject access request answer (JSON-ready)."""
    return {
        "letters": [
            {
                "id": letter.id,
                "campaign": letter.campaign.title,
                "written_at_utc": letter.created_at.isoformat(),
                "confirmed_at_utc": _iso(letter.confirmed_at),
                "sent_at_utc": _iso(letter.sent_at),
                "status": str(letter.status),
                "to_mp": letter.mp_name,
                "constituency": letter.constituency_name,
                "name": letter.supporter_name,
                "email": letter.supporter_email,
                "address": letter.supporter_address,
                "postcode": letter.supporter_postcode,
                "copy_to_self": letter.send_copy,
                "wants_campaign_updates": letter.wants_updates,
                "subject": letter.subject,
                "body": letter.body,
                "asked_whether_the_mp_replied": [
                    {
                        "asked_at_utc": _iso(check.sent_at),
                        "answer": str(check.answer) if check.answer else None,
                        "answered_at_utc": _iso(check.answered_at),
                        "reply_text": check.reply_text,
                    }
                    for check in _sent_checks(letter)
                ],
            }
            for letter in letters
        ]
    }


def _sent_checks(letter: Letter) -> list[ReplyCheck]:
    session = object_session(letter)
    if session is None:
        return []
    return list(
        session.scalars(
            select(ReplyCheck)
            .where(ReplyCheck.letter_id == letter.id, ReplyCheck.sent_at.is_not(None))
            .order_by(ReplyCheck.round)
        )
    )


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def erase_letters(
    session: Session,
    letter_ids: Iterable[int],
    now: datetime,
    *,
    actor_id: int | None,
    reason: str,
) -> ErasureResult:
    """Cancel any unsent letter among them and remove its supporter's details, in one
    transaction. Commits."""
    erased = in_flight = 0
    with transaction(session):
        for letter_id in letter_ids:
            done = _erase_one(session, letter_id, now, actor_id, reason)
            erased += done is True
            in_flight += done is None
    return ErasureResult(erased=erased, in_flight=in_flight)


def _erase_one(
    session: Session, letter_id: int, now: datetime, actor_id: int | None, reason: str
) -> bool | None:
    """True if erased, False if already erased or gone, None if a worker is sending it."""
    status = session.scalar(select(Letter.status).where(Letter.id == letter_id))
    if status is None:
        return False
    if status == LetterStatus.SENDING:
        return None
    if status in UNSENT_STATUSES and not transition(
        session,
        letter_id,
        UNSENT_STATUSES,
        LetterStatus.CANCELLED,
        now,
        actor_id=actor_id,
        note=f"cancelled: {reason}",
        next_attempt_at=None,
        confirmation_due_at=None,
    ):
        return None
    result = session.execute(
        update(Letter)
        .where(
            Letter.id == letter_id,
            Letter.erased_at.is_(None),
            Letter.status != LetterStatus.SENDING,
        )
        .values(
            supporter_name=ERASED_NAME,
            supporter_email=f"erased-{letter_id}@erased.invalid",
            supporter_key=f"erased-{letter_id}@erased.invalid",
            supporter_address="",
            supporter_postcode="",
            body="",
            sent_message=None,
            last_error=None,
            erased_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(DeliveryAttempt)
        .where(DeliveryAttempt.letter_id == letter_id)
        .values(smtp_reply=None)
        .execution_options(synchronize_session=False)
    )
    _erase_reply_checks(session, letter_id)
    return bool(result.rowcount)  # type: ignore[attr-defined]


def _erase_reply_checks(session: Session, letter_id: int) -> None:
    """The MP's reply the supporter pasted goes, and no more "has your MP replied?" emails; the
    answers stay (they name nobody), so the reply figures stay true."""
    session.execute(
        update(ReplyCheck)
        .where(ReplyCheck.letter_id == letter_id)
        .values(reply_text=None, reply_text_consent=False)
        .execution_options(synchronize_session=False)
    )
    session.execute(
        update(ReplyCheck)
        .where(ReplyCheck.letter_id == letter_id, ReplyCheck.sent_at.is_(None))
        .values(due_at=None)
        .execution_options(synchronize_session=False)
    )


def erase_supporter(
    session: Session, email: str, now: datetime, *, actor_id: int | None, action: str
) -> ErasureResult:
    """Erase every letter from this supporter, and record it."""
    letters = [letter.id for letter in supporter_letters(session, email)]
    result = erase_letters(session, letters, now, actor_id=actor_id, reason=f"{action} request")
    record(session, action, actor_id, result.erased, now)
    return result


def make_erasure_token(secret_key: str, letter_id: int) -> str:
    """The signed link's token in every email to a supporter: it names a letter, never an
    address, so the URL in a server's access log says nothing about who."""
    return URLSafeTimedSerializer(secret_key, salt=ERASURE_SALT).dumps(letter_id)


def erasure_url(public_url: str, token: str) -> str:
    """The supporter blueprint's /privacy/erase/<token>."""
    return f"{public_url.rstrip('/')}/privacy/erase/{token}"


class ErasureLinkProblem(DomainError):
    """A self-erasure link that is not ours, is for another purpose, or has expired."""


def letter_for_erasure_token(session: Session, secret_key: str, token: str) -> Letter | None:
    """The letter the link was sent about; None once its details are erased (nothing left to
    do). Raises ErasureLinkProblem for a link that is not valid."""
    serializer = URLSafeTimedSerializer(secret_key, salt=ERASURE_SALT)
    try:
        letter_id = serializer.loads(token, max_age=ERASURE_LINK_MAX_AGE_SECONDS)
    except BadSignature as e:
        raise ErasureLinkProblem(
            "This link isn't valid. Check that you copied the whole link from the email."
        ) from e
    letter = session.get(Letter, letter_id) if isinstance(letter_id, int) else None
    if letter is None or letter.erased_at is not None:
        return None
    return letter


def erase_own_details(session: Session, letter: Letter, now: datetime) -> ErasureResult:
    """Everything from the supporter this letter came from (by dedupe key), and record it."""
    return erase_supporter(
        session, letter.supporter_email, now, actor_id=None, action=PrivacyAction.SELF_ERASE
    )


def purgeable_letter_ids(session: Session, older_than: datetime) -> list[int]:
    """Letters written before `older_than` whose supporters' details are still held."""
    return list(
        session.scalars(
            select(Letter.id)
            .where(
                Letter.created_at < older_than,
                Letter.erased_at.is_(None),
                Letter.status.not_in([LetterStatus.SENDING]),
            )
            .order_by(Letter.id)
        )
    )


def purge_old_letters(
    session: Session,
    now: datetime,
    older_than_days: int,
    progress: Callable[[int], None] = lambda _done: None,
) -> ErasureResult:
    """Remove supporters' details from letters older than the retention period, in batches,
    calling progress(n) after each batch of n letters. Records one purge."""
    letter_ids = purgeable_letter_ids(session, now - timedelta(days=older_than_days))
    erased = in_flight = 0
    for start in range(0, len(letter_ids), PURGE_BATCH):
        batch = letter_ids[start : start + PURGE_BATCH]
        result = erase_letters(session, batch, now, actor_id=None, reason="retention period")
        erased += result.erased
        in_flight += result.in_flight
        progress(len(batch))
    record(session, PrivacyAction.PURGE, None, erased, now)
    return ErasureResult(erased=erased, in_flight=in_flight)
