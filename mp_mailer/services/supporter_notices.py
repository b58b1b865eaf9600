"""The one email that tells a supporter their letter did not reach the MP (a hard bounce or a
final failure), with their letter and the MP's other ways of contact: claimed, guarded, retried,
and never sent twice."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.email_messages import Supporter, build_plain_message, letter_text
from mp_mailer.models import (
    AttemptOutcome,
    CachedMember,
    DeliveryAttempt,
    EmailKind,
    Letter,
    LetterEvent,
    LetterStatus,
)
from mp_mailer.services.outbox.claims import claim_without_status_change
from mp_mailer.services.outbox.transitions import AttemptResult, Claim, RetryPolicy

NOTICE_STATUSES = (LetterStatus.BOUNCED, LetterStatus.FAILED)


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [
        Letter.status.in_(NOTICE_STATUSES),
        Letter.notice_due_at <= now,
        # The guard that makes "never more than one" hold across retries and staff actions.
        Letter.notice_sent_at.is_(None),
        or_(Letter.lease_until.is_(None), Letter.lease_until < now),
    ]


def has_due_notice(session: Session, now: datetime) -> bool:
    with transaction(session):
        return session.scalar(select(Letter.id).where(*_due(now)).limit(1)) is not None


def claim_next_notice(
    session: Session, now: datetime, lease: timedelta, token: str
) -> Claim | None:
    """Take the next due notice for this worker until now+lease; the letter's status stays."""
    return claim_without_status_change(
        session,
        _due(now),
        [Letter.notice_due_at, Letter.id],
        now,
        lease,
        token,
        EmailKind.NOTICE,
    )


def _ours(claim: Claim) -> ColumnElement[bool]:
    return and_(
        Letter.id == claim.letter_id,
        Letter.claim_token == claim.token,
        Letter.status.in_(NOTICE_STATUSES),
        Letter.notice_sent_at.is_(None),
    )


def record_notice_sent(
    session: Session, claim: Claim, result: AttemptResult, now: datetime
) -> bool:
    with transaction(session):
        changed = session.execute(
            update(Letter)
            .where(_ours(claim))
            .values(notice_sent_at=now, notice_due_at=None, lease_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        _attempt(session, claim, now, result, AttemptOutcome.SENT)
        _note(session, claim.letter_id, now, "the supporter was told the letter did not arrive")
    return True


def record_notice_failure(
    session: Session,
    claim: Claim,
    result: AttemptResult,
    now: datetime,
    policy: RetryPolicy,
    *,
    permanent: bool,
) -> bool:
    """Retry a refused notice with backoff within the retry window from its first try; a
    permanent refusal, or the window's end, gives up (noted on the letter)."""
    with transaction(session):
        if session.scalar(select(Letter.id).where(_ours(claim))) is None:
            return False
        first_try, tries = session.execute(
            select(func.min(DeliveryAttempt.started_at), func.count()).where(
                DeliveryAttempt.letter_id == claim.letter_id,
                DeliveryAttempt.kind == EmailKind.NOTICE,
            )
        ).one()
        deadline = (first_try or now) + policy.window
        final = permanent or now >= deadline
        _attempt(
            session, claim, now, result, AttemptOutcome.FAILED if final else AttemptOutcome.RETRY
        )
        retry_at = None if final else min(now + policy.delay_after((tries or 0) + 1), deadline)
        session.execute(
            update(Letter)
            .where(_ours(claim))
            .values(notice_due_at=retry_at, lease_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        if final:
            reply = (result.smtp_reply or "no reply").strip()
            _note(session, claim.letter_id, now, f"the supporter could not be told: {reply}")
    return True


def notice_message(
    session: Session, letter: Letter, mail_from: Address, sent_on: datetime
) -> EmailMessage:
    """The notice: what happened, the MP's post, phone and web contact, then the letter itself."""
    member = session.get(CachedMember, letter.mp_id)
    contact_page = (member.contact_page_url if member else None) or (
        f"https://members.parliament.uk/member/{letter.mp_id}/contact"
    )
    ways = [
        f"By post: {' '.join(member.postal_address.split())}"
        if member and member.postal_address
        else None,
        f"By phone: {member.phone}" if member and member.phone else None,
        f"On the web: {contact_page}",
    ]
    what_happened = (
        f"{letter.mp_name}'s mail system returned it, so it did not reach their office."
        if letter.status == LetterStatus.BOUNCED
        else "We tried to send it but could not, so it did not reach their office."
    )
    supporter = Supporter(
        letter.supporter_name,
        letter.supporter_email,
        letter.supporter_address,
        letter.supporter_postcode,
    )
    organisation = mail_from.display_name or mail_from.domain
    text = (
        f"Hello {letter.supporter_name},\n\n"
        f"We are sorry: your letter to {letter.mp_name}, MP for {letter.constituency_name}, "
        f'about "{letter.campaign.title}" has not arrived. {what_happened}\n\n'
        f"You can still reach {letter.mp_name}:\n\n"
        + "".join(f"  {way}\n" for way in ways if way)
        + "\nThis is the letter you wrote, so you can send it yourself:\n\n"
        f"Subject: {letter.subject}\n\n"
        f"{letter_text(letter.body, supporter, letter.own_words_line or '')}\n"
        f"Thank you for taking part.\n{organisation}\n"
    )
    message = build_plain_message(
        mail_from=mail_from,
        to=letter.supporter_email,
        subject=f"Your letter to {letter.mp_name} did not arrive",
        text=text,
        message_id=make_msgid(idstring="notice", domain=mail_from.domain or None),
    )
    message["Date"] = format_datetime(sent_on)
    return message


def _attempt(
    session: Session, claim: Claim, now: datetime, result: AttemptResult, outcome: AttemptOutcome
) -> None:
    session.add(
        DeliveryAttempt(
            letter_id=claim.letter_id,
            kind=EmailKind.NOTICE,
            started_at=now,
            duration_ms=result.duration_ms,
            outcome=outcome,
            smtp_code=result.smtp_code,
            smtp_reply=(result.smtp_reply or "")[:10_000] or None,
        )
    )


def _note(session: Session, letter_id: int, now: datetime, note: str) -> None:
    status = session.scalar(select(Letter.status).where(Letter.id == letter_id))
    session.add(
        LetterEvent(letter_id=letter_id, at=now, from_status=status, to_status=status, note=note)
    )
