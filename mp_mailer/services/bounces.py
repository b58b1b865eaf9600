"""What returned mail does to a letter: a hard bounce marks it `bounced` (and owes the supporter a
notice), an automatic acknowledgement marks it `acknowledged`, the rest are noted."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import Letter, LetterEvent, LetterStatus, ReturnedMail, ReturnedMailKind
from mp_mailer.services.bounce_addresses import BounceAddresses
from mp_mailer.services.bounce_parsing import ParsedReturn, parse_returned_mail
from mp_mailer.services.outbox.transitions import transition

logger = logging.getLogger(__name__)

# A bounce or reply can only be about a letter the relay accepted.
_DELIVERED = (LetterStatus.SENT, LetterStatus.ACKNOWLEDGED)


class ForgedBounceAddress(Exception):
    """The message was addressed to no bounce address of ours, or one with a wrong signature."""


@dataclass(frozen=True)
class ReturnedMailOutcome:
    letter_id: int
    kind: ReturnedMailKind
    status: LetterStatus
    duplicate: bool = False


def accept_returned_mail(
    session: Session,
    addresses: BounceAddresses,
    recipients: list[str],
    raw: bytes,
    now: datetime,
) -> ReturnedMailOutcome:
    """Attribute a returned message to its letter by the signed bounce address it came to, and
    record what it says. Raises ForgedBounceAddress when no recipient is a valid one of ours."""
    letter_id = next(
        (found for found in map(addresses.letter_id_of, recipients) if found is not None), None
    )
    if letter_id is None:
        raise ForgedBounceAddress("not addressed to a valid bounce address")
    return record_returned_mail(session, letter_id, parse_returned_mail(raw), now)


def record_returned_mail(
    session: Session, letter_id: int, returned: ParsedReturn, now: datetime
) -> ReturnedMailOutcome:
    with transaction(session):
        letter = session.get(Letter, letter_id, populate_existing=True)
        if letter is None:
            raise ForgedBounceAddress("the bounce address names no letter")
        kind = _kind_for_letter(letter, returned)
        if _already_recorded(session, letter_id, returned.message_id):
            return ReturnedMailOutcome(letter_id, kind, letter.status, duplicate=True)
        session.add(
            ReturnedMail(
                letter_id=letter_id,
                kind=kind,
                received_at=now,
                message_id=(returned.message_id or "")[:255] or None,
                reason=returned.reason,
            )
        )
        _apply(session, letter, kind, returned.reason, now)
    session.refresh(letter)
    logger.info(
        "Returned mail recorded: %s", kind, extra={"letter_id": letter_id, "kind": str(kind)}
    )
    return ReturnedMailOutcome(letter_id, kind, letter.status)


def _kind_for_letter(letter: Letter, returned: ParsedReturn) -> ReturnedMailKind:
    """A bounce only of the supporter's copy (same envelope as the letter) is the copy's alone."""
    is_bounce = returned.kind in (ReturnedMailKind.HARD_BOUNCE, ReturnedMailKind.SOFT_BOUNCE)
    failed = {address.lower() for address in returned.failed_recipients}
    supporter = letter.supporter_email.lower()
    if is_bounce and failed and failed <= {supporter} and supporter != letter.mp_email.lower():
        return ReturnedMailKind.COPY_BOUNCE
    return returned.kind


def _already_recorded(session: Session, letter_id: int, message_id: str | None) -> bool:
    if not message_id:
        return False
    found = session.scalar(
        select(ReturnedMail.id).where(
            ReturnedMail.letter_id == letter_id, ReturnedMail.message_id == message_id[:255]
        )
    )
    return found is not None


def _apply(
    session: Session, letter: Letter, kind: ReturnedMailKind, reason: str, now: datetime
) -> None:
    if kind == ReturnedMailKind.HARD_BOUNCE:
        moved = transition(
            session,
            letter.id,
            _DELIVERED,
            LetterStatus.BOUNCED,
            now,
            note=f"returned by the MP's mail system: {reason}",
            bounce_reason=reason,
            notice_due_at=now,
            copy_due_at=None,
        )
        if moved:
            return
    elif kind == ReturnedMailKind.ACKNOWLEDGEMENT and transition(
        session,
        letter.id,
        [LetterStatus.SENT],
        LetterStatus.ACKNOWLEDGED,
        now,
        note="the MP's office sent an automatic acknowledgement",
    ):
        return
    _note(session, letter, now, f"{_DESCRIPTIONS[kind]}: {reason}".rstrip(": "))


_DESCRIPTIONS = {
    ReturnedMailKind.HARD_BOUNCE: "returned for good, after the letter's status had moved on",
    ReturnedMailKind.SOFT_BOUNCE: "delivery delayed by the MP's mail system (not a failure)",
    ReturnedMailKind.COPY_BOUNCE: "the supporter's copy was returned",
    ReturnedMailKind.ACKNOWLEDGEMENT: "an automatic acknowledgement",
    ReturnedMailKind.OUT_OF_OFFICE: "an out-of-office reply",
    ReturnedMailKind.UNRECOGNISED: "returned mail not recognised",
}


def _note(session: Session, letter: Letter, now: datetime, note: str) -> None:
    session.add(
        LetterEvent(
            letter_id=letter.id,
            at=now,
            from_status=letter.status,
            to_status=letter.status,
            note=note,
        )
    )
