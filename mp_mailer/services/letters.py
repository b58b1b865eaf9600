"""A supporter's letter: pre-filled from the campaign's template, accepted, confirmed."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.email_messages import Supporter, new_message_id
from mp_mailer.errors import DomainError
from mp_mailer.letter_templates import (
    RecipientDetails,
    TemplateProblem,
    render_template,
    template_context,
)
from mp_mailer.models import Campaign, Letter, LetterStatus, LetterTemplate
from mp_mailer.services.mp_cache import MpDetails
from mp_mailer.services.outbox.confirmations import queue_confirmed
from mp_mailer.services.outbox.transitions import add_event, transition
from mp_mailer.services.personal_touch import PersonalTouch, measure, own_words_line
from mp_mailer.services.supporter_identity import supporter_key
from mp_mailer.services.supporter_mail import (
    RecipientBudget,
    RecipientCapReached,
    queue_already_written_notice,
    resend_confirmation,
)
from mp_mailer.uk_time import uk_date

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
    """`status` is what the supporter is told (the same for a letter that already existed)."""

    letter_id: int
    status: LetterStatus
    was_new: bool = True


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
        today=uk_date(today),
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
    site: LetterSite,
    *,
    require_confirmation: bool,
    message_id_domain: str,
    now: datetime,
    recipient_budget: RecipientBudget | None = None,
) -> AcceptedLetter:
    """Store the letter before the supporter is answered: queued, or awaiting their confirmation.

    A supporter writes once per campaign and MP (by dedupe key, so jane+x@ is jane@). A second
    letter never changes the first: the page answers exactly as for a new letter, so nobody
    learns who has written to whom, and the first letter's supporter is emailed (its
    confirmation again while unconfirmed, else a notice). Raises CampaignClosed, MpHasNoEmail,
    TooFewOwnSentences below the campaign's minimum, or TooManyEmails when the address has had
    as many emails as it may for now.
    """
    if not campaign.accepts_letters:
        raise CampaignClosed(
            "This campaign has closed and is no longer sending letters. Thank you for your support."
        )
    if not mp.email:
        raise MpHasNoEmail(f"{mp.name} has no public email address, so we can't send this.")
    # Read once: the letter is measured against, and records, the same version.
    template = current_template(session, campaign.id)
    touch = measure(draft.body, _filled_body(template, campaign, mp, site.campaign_url, now))
    _check_own_sentences(campaign, touch)
    personal = _personal_values(campaign, site, touch)
    key = supporter_key(draft.supporter.email)
    status = LetterStatus.AWAITING_CONFIRMATION if require_confirmation else LetterStatus.QUEUED
    existing = session.scalar(
        select(Letter).where(
            Letter.campaign_id == campaign.id,
            Letter.supporter_key == key,
            Letter.mp_id == mp.id,
            Letter.erased_at.is_(None),
        )
    )
    if existing is not None and existing.status == LetterStatus.EXPIRED:
        # Its link confirms nothing any more, so the supporter may write it again.
        _spend_email(recipient_budget, key)
        if _rewrite_expired(session, existing, template, mp, draft, personal, status, now):
            return AcceptedLetter(letter_id=existing.id, status=status)
    if existing is not None:
        _spend_email(recipient_budget, key)
        _tell_existing_owner(session, existing, now)
        return AcceptedLetter(letter_id=existing.id, status=status, was_new=False)
    if require_confirmation:
        _spend_email(recipient_budget, key)
    try:
        letter = _store_new_letter(
            session, campaign, template, mp, draft, personal, key, status, message_id_domain, now
        )
    except IntegrityError:
        # The same letter submitted twice at once: the other request stored it and its email
        # is on its way, so this one is answered as that one was (nothing reveals it).
        session.rollback()
        other = session.scalar(
            select(Letter.id).where(
                Letter.campaign_id == campaign.id,
                Letter.supporter_key == key,
                Letter.mp_id == mp.id,
            )
        )
        return AcceptedLetter(letter_id=other or 0, status=status, was_new=False)
    logger.info("Accepted a letter", extra={"letter_id": letter.id, "status": str(status)})
    return AcceptedLetter(letter_id=letter.id, status=status)


class TooManyEmails(LetterRefused):
    field = "email"


class TooFewOwnSentences(LetterRefused):
    field = "body"


@dataclass(frozen=True)
class LetterSite:
    """What a letter is measured and signed off with: the campaign's public page (its template
    can quote it) and the organisation's name (the line at the letter's foot names it)."""

    campaign_url: str
    organisation: str


def campaign_text_for(
    session: Session, campaign: Campaign, mp: MpDetails, campaign_url: str, now: datetime
) -> str:
    """The campaign's letter as filled in for this MP: what a supporter's own words are
    measured against. Empty when it cannot be filled in (the supporter then writes it all)."""
    try:
        template = current_template(session, campaign.id)
    except LetterRefused:
        return ""
    return _filled_body(template, campaign, mp, campaign_url, now)


def _filled_body(
    template: LetterTemplate, campaign: Campaign, mp: MpDetails, campaign_url: str, now: datetime
) -> str:
    try:
        return prefill_letter(template, campaign, mp, campaign_url, now)[1]
    except TemplateProblem:
        return ""


def _check_own_sentences(campaign: Campaign, touch: PersonalTouch) -> None:
    wanted = campaign.min_own_sentences
    if touch.own_sentences >= wanted:
        return
    why = "MPs' offices give more weight to letters that say why it matters to you."
    if wanted == 1:
        raise TooFewOwnSentences(f"Add at least one sentence in your own words: {why}")
    raise TooFewOwnSentences(
        f"Add at least {wanted} sentences in your own words (your letter has "
        f"{touch.own_sentences} so far): {why}"
    )


def _personal_values(campaign: Campaign, site: LetterSite, touch: PersonalTouch) -> dict[str, Any]:
    line = (
        own_words_line(site.organisation, campaign.title, touch)
        if campaign.footer_own_words_line
        else None
    )
    return {
        "own_sentences": touch.own_sentences,
        "own_word_share": touch.own_word_share,
        "own_words_line": line,
    }


def _spend_email(recipient_budget: RecipientBudget | None, key: str) -> None:
    if recipient_budget is None:
        return
    try:
        recipient_budget.spend(key)
    except RecipientCapReached as e:
        raise TooManyEmails(
            "We have already sent several emails to this address today, so we won't send "
            "another yet. Please look in your inbox (and spam folder) for our email, or try "
            "again tomorrow. Your letter is still here."
        ) from e


def _rewrite_expired(
    session: Session,
    existing: Letter,
    template: LetterTemplate,
    mp: MpDetails,
    draft: LetterDraft,
    personal: dict[str, Any],
    status: LetterStatus,
    now: datetime,
) -> bool:
    """The new letter in place of an expired one (one row per supporter, campaign and MP),
    through the outbox's guarded transition; False if it is no longer expired."""
    require_confirmation = status == LetterStatus.AWAITING_CONFIRMATION
    with transaction(session):
        return transition(
            session,
            existing.id,
            [LetterStatus.EXPIRED],
            status,
            now,
            note="written again after the first letter expired",
            template_id=template.id,
            supporter_email=draft.supporter.email.lower(),
            **_letter_values(mp, draft),
            **personal,
            created_at=now,
            next_attempt_at=None if require_confirmation else now,
            confirmation_due_at=now if require_confirmation else None,
            confirmation_sent_at=None,
            attempt_count=0,
            retry_deadline=None,
        )


def _letter_values(mp: MpDetails, draft: LetterDraft) -> dict[str, Any]:
    return {
        "mp_name": mp.name,
        "mp_email": mp.email,
        "mp_party": mp.party,
        "constituency_id": mp.constituency_id,
        "constituency_name": mp.constituency_name,
        "supporter_name": draft.supporter.name,
        "supporter_address": draft.supporter.address,
        "supporter_postcode": draft.supporter.postcode,
        "send_copy": draft.send_copy,
        "wants_updates": draft.wants_updates,
        "subject": draft.subject,
        "body": draft.body,
    }


def _tell_existing_owner(session: Session, existing: Letter, now: datetime) -> None:
    if existing.status == LetterStatus.AWAITING_CONFIRMATION:
        resend_confirmation(session, existing.id, now)
        logger.info("Confirmation to be sent again", extra={"letter_id": existing.id})
    else:
        queue_already_written_notice(session, existing.id, now)


def _store_new_letter(
    session: Session,
    campaign: Campaign,
    template: LetterTemplate,
    mp: MpDetails,
    draft: LetterDraft,
    personal: dict[str, Any],
    key: str,
    status: LetterStatus,
    message_id_domain: str,
    now: datetime,
) -> Letter:
    require_confirmation = status == LetterStatus.AWAITING_CONFIRMATION
    with transaction(session):
        letter = Letter(
            campaign_id=campaign.id,
            supporter_email=draft.supporter.email.lower(),
            supporter_key=key,
            mp_id=mp.id,
            message_id=new_message_id(message_id_domain),
            created_at=now,
            template_id=template.id,
            status=status,
            **_letter_values(mp, draft),
            **personal,
            next_attempt_at=None if require_confirmation else now,
            confirmation_due_at=now if require_confirmation else None,
            lease_until=None,
        )
        session.add(letter)
        session.flush()
        add_event(session, letter.id, now, None, status, "written by the supporter")
    return letter


def supporter_of(letter: Letter) -> Supporter:
    """The supporter as the letter's sign-off shows them to the MP."""
    return Supporter(
        name=letter.supporter_name,
        email=letter.supporter_email,
        address=letter.supporter_address,
        postcode=letter.supporter_postcode,
    )


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
