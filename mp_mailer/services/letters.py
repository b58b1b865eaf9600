"""A supporter's letter: pre-filled from the campaign's template, accepted, confirmed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.email_messages import Supporter, new_message_id
from mp_mailer.errors import DomainError
from mp_mailer.letter_templates import RecipientDetails, render_template, template_context
from mp_mailer.models import Campaign, Letter, LetterEvent, LetterStatus, LetterTemplate
from mp_mailer.services.mp_cache import MpDetails
from mp_mailer.services.outbox.confirmations import queue_confirmed

logger = logging.getLogger(__name__)

CONFIRMATION_SALT = "letter-confirmation"
COUNTED_STATUSES = (
    LetterStatus.QUEUED,
    LetterStatus.SENDING,
    LetterStatus.SENT,
    LetterStatus.RETRYING,
)


class LetterRefused(DomainError):
    """A letter we will not take; `message` is for the supporter, `field` where to show it."""

    field = "body"


class CampaignClosed(LetterRefused):
    field = "body"


class AlreadyWritten(LetterRefused):
    field = "email"


class MpHasNoEmail(LetterRefused):
    field = "body"


@dataclass(frozen=True)
class LetterDraft:
    subject: str
    body: str
    supporter: Supporter
    send_copy: bool
    wants_updates: bool


@dataclass(frozen=True)
class AcceptedLetter:
    letter_id: int
    status: LetterStatus


def current_template(session: Session, campaign_id: int) -> LetterTemplate:
    template = session.scalar(
        select(LetterTemplate)
        .where(LetterTemplate.campaign_id == campaign_id)
        .order_by(LetterTemplate.version.desc())
        .limit(1)
    )
    if template is None:
        raise LetterRefused("This campaign has no letter yet.")
    return template


def prefill_letter(
    template: LetterTemplate, campaign: Campaign, mp: MpDetails, campaign_url: str, today: datetime
) -> tuple[str, str]:
    """The subject and body a supporter starts from, filled in for their MP."""
    context = template_context(
        RecipientDetails(
            name=mp.name,
            address_as=mp.address_as,
            full_title=mp.full_title,
            party=mp.party,
            constituency=mp.constituency_name,
        ),
        campaign_title=campaign.title,
        campaign_url=campaign_url,
        today=today.date(),
    )
    return (
        render_template(template.subject_template, context).strip(),
        render_template(template.body_template, context).strip(),
    )


def accept_letter(
    session: Session,
    campaign: Campaign,
    mp: MpDetails,
    draft: LetterDraft,
    *,
    require_confirmation: bool,
    message_id_domain: str,
    now: datetime,
) -> AcceptedLetter:
    """Store the letter before the supporter is answered: queued, or awaiting their confirmation.

    A supporter writes once per campaign and MP. An unconfirmed earlier letter is replaced by
    this one (and a fresh confirmation email sent); a confirmed one refuses with AlreadyWritten.
    """
    if not campaign.accepts_letters:
        raise CampaignClosed(
            "This campaign has closed and is no longer sending letters. Thank you for your support."
        )
    if not mp.email:
        raise MpHasNoEmail(f"{mp.name} has no public email address, so we can't send this.")
    email = draft.supporter.email.lower()
    template = current_template(session, campaign.id)
    status = LetterStatus.AWAITING_CONFIRMATION if require_confirmation else LetterStatus.QUEUED
    existing = session.scalar(
        select(Letter).where(
            Letter.campaign_id == campaign.id,
            Letter.supporter_email == email,
            Letter.mp_id == mp.id,
        )
    )
    if existing is not None and existing.status != LetterStatus.AWAITING_CONFIRMATION:
        raise AlreadyWritten(
            f"You have already written to {mp.name} in this campaign with this email address: "
            "thank you! Each supporter can send one letter to their MP."
        )
    with transaction(session):
        letter = existing or Letter(
            campaign_id=campaign.id,
            supporter_email=email,
            mp_id=mp.id,
            message_id=new_message_id(message_id_domain),
            created_at=now,
        )
        letter.template_id = template.id
        letter.status = status
        letter.mp_name = mp.name
        letter.mp_email = mp.email
        letter.mp_party = mp.party
        letter.constituency_id = mp.constituency_id
        letter.constituency_name = mp.constituency_name
        letter.supporter_name = draft.supporter.name
        letter.supporter_address = draft.supporter.address
        letter.supporter_postcode = draft.supporter.postcode
        letter.send_copy = draft.send_copy
        letter.wants_updates = draft.wants_updates
        letter.subject = draft.subject
        letter.body = draft.body
        letter.next_attempt_at = None if require_confirmation else now
        letter.confirmation_due_at = now if require_confirmation else None
        letter.lease_until = None
        # A replaced letter's confirmation email starts afresh: new attempts, a new window.
        letter.attempt_count = 0
        letter.retry_deadline = None
        try:
            session.add(letter)
            session.flush()
        except IntegrityError as e:
            raise AlreadyWritten(
                "A letter from this email address to this MP has just been received."
            ) from e
        session.add(
            LetterEvent(
                letter_id=letter.id,
                at=now,
                from_status=None,
                to_status=status,
                note="replaced an unconfirmed letter" if existing else "written by the supporter",
            )
        )
    logger.info("Accepted a letter", extra={"letter_id": letter.id, "status": str(status)})
    return AcceptedLetter(letter_id=letter.id, status=status)


def make_confirmation_token(secret_key: str, letter_id: int) -> str:
    return URLSafeTimedSerializer(secret_key, salt=CONFIRMATION_SALT).dumps(letter_id)


def confirmation_url(public_url: str, token: str) -> str:
    """The link in the confirmation email; the supporter blueprint serves /confirm/<token>."""
    return f"{public_url.rstrip('/')}/confirm/{token}"


class ConfirmationProblem(DomainError):
    """A confirmation link that cannot send its letter; `message` is for the supporter."""


class ConfirmationOutcome(StrEnum):
    CONFIRMED = "confirmed"
    ALREADY_CONFIRMED = "already_confirmed"


def letter_for_token(session: Session, secret_key: str, token: str, max_age_seconds: int) -> Letter:
    """The letter a confirmation link is for. Raises ConfirmationProblem for a bad or old link."""
    serializer = URLSafeTimedSerializer(secret_key, salt=CONFIRMATION_SALT)
    try:
        letter_id = serializer.loads(token, max_age=max_age_seconds)
    except SignatureExpired as e:
        raise ConfirmationProblem(
            "This link has expired. Please write your letter again: it only takes a minute."
        ) from e
    except BadSignature as e:
        raise ConfirmationProblem(
            "This link isn't valid. Check that you copied the whole link from the email."
        ) from e
    letter = session.get(Letter, letter_id) if isinstance(letter_id, int) else None
    if letter is None or letter.status == LetterStatus.CANCELLED:
        raise ConfirmationProblem("We can't find that letter any more.")
    if letter.status == LetterStatus.EXPIRED:
        raise ConfirmationProblem(
            "This link has expired. Please write your letter again: it only takes a minute."
        )
    return letter


def confirm_letter(session: Session, letter: Letter, now: datetime) -> ConfirmationOutcome:
    """Queue a letter the supporter has confirmed; confirming twice does nothing more."""
    if queue_confirmed(session, letter.id, now):
        logger.info("Letter confirmed", extra={"letter_id": letter.id})
        return ConfirmationOutcome.CONFIRMED
    return ConfirmationOutcome.ALREADY_CONFIRMED


def count_letters_sent(session: Session, campaign_id: int) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(Letter)
            .where(Letter.campaign_id == campaign_id, Letter.status.in_(COUNTED_STATUSES))
        )
        or 0
    )
