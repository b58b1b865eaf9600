"""One letter in full (its email as sent, its attempts and events), and staff's retry and cancel."""

from __future__ import annotations

import email
import email.policy
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload, selectinload

from mp_mailer.db import utcnow
from mp_mailer.errors import DomainError
from mp_mailer.models import Letter, LetterEvent, LetterStatus
from mp_mailer.services import outbox
from mp_mailer.services.send_log.filters import status_label

RETRYABLE_STATUSES = (LetterStatus.FAILED,)
CANCELLABLE_STATUSES = (
    LetterStatus.AWAITING_CONFIRMATION,
    LetterStatus.QUEUED,
    LetterStatus.RETRYING,
)


class LetterNotFound(Exception):
    """No letter has that id."""


class ActionRefused(DomainError):
    """A retry or cancel the letter's current status does not allow."""


@dataclass(frozen=True)
class SentMessage:
    """The email as the relay accepted it: its headers, its decoded text, and the raw source."""

    headers: list[tuple[str, str]]
    text: str
    source: str


@dataclass(frozen=True)
class LetterDetail:
    letter: Letter
    sent_message: SentMessage | None
    can_retry: bool
    can_cancel: bool


def get_letter_detail(session: Session, letter_id: int) -> LetterDetail:
    """Everything about one letter. Raises LetterNotFound."""
    letter = session.scalar(
        select(Letter)
        .where(Letter.id == letter_id)
        .options(
            joinedload(Letter.campaign),
            joinedload(Letter.template),
            selectinload(Letter.attempts),
            selectinload(Letter.events).joinedload(LetterEvent.actor),
        )
    )
    if letter is None:
        raise LetterNotFound(letter_id)
    return LetterDetail(
        letter=letter,
        sent_message=parse_sent_message(letter.sent_message),
        can_retry=letter.status in RETRYABLE_STATUSES,
        can_cancel=letter.status in CANCELLABLE_STATUSES or _abandoned(letter, utcnow()),
    )


def _abandoned(letter: Letter, now: datetime) -> bool:
    """Sending, but its worker's lease has run out: staff may cancel it (outbox.cancel_unsent)."""
    return letter.status == LetterStatus.SENDING and (
        letter.lease_until is None or letter.lease_until < now
    )


def parse_sent_message(source: str | None) -> SentMessage | None:
    if not source:
        return None
    # Stored as it went over SMTP, with CRLF line ends; parsed with LF ones, as a mailbox would.
    message = email.message_from_string(source.replace("\r\n", "\n"), policy=email.policy.default)
    headers = [(name, str(value)) for name, value in message.items()]
    try:
        part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
        text = part.get_content() if part is not None else ""
    except (LookupError, ValueError):
        text = ""
    return SentMessage(headers=headers, text=text, source=source)


def retry_letter(session: Session, letter_id: int, actor_id: int, now: datetime) -> None:
    """Queue a failed letter to be sent again, recorded as done by `actor_id`.

    Raises LetterNotFound, or ActionRefused if the letter is not failed (so never a sent one).
    """
    if not outbox.retry_failed(session, letter_id, now, actor_id):
        raise ActionRefused(_refusal(session, letter_id, "retried"))


def cancel_letter(session: Session, letter_id: int, actor_id: int, now: datetime) -> None:
    """Stop a letter that has not been sent, recorded as done by `actor_id`.

    Raises LetterNotFound, or ActionRefused once it is being sent, sent, failed or cancelled.
    """
    if not outbox.cancel_unsent(session, letter_id, now, actor_id):
        raise ActionRefused(_refusal(session, letter_id, "cancelled"))


def _refusal(session: Session, letter_id: int, action: str) -> str:
    status = session.scalar(select(Letter.status).where(Letter.id == letter_id))
    if status is None:
        raise LetterNotFound(letter_id)
    return f"This letter is {status_label(status)} now, so it can't be {action}."
