"""Asking supporters whether their MP replied: when a check is due, claiming and recording its
email, the signed one-click answers, and asking once more a week after "not yet".

Round 1 is found by query from the letter's sent_at rather than written when the letter is sent:
nothing extra in the letter's own send transaction, a change of REPLY_CHECK_DAYS applies to
letters already sent, and a campaign switching the checks off stops them before any row exists.
The worker turns due letters into rows (schedule_due_checks) so each email has a row to carry
its claim, lease and attempts, and (letter_id, round) being unique makes "once" hold whichever
worker gets there first."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from enum import StrEnum

from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import ColumnElement, and_, exists, insert, literal, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.email_messages import build_plain_message
from mp_mailer.errors import DomainError
from mp_mailer.models import (
    AttemptOutcome,
    Campaign,
    EmailKind,
    Letter,
    LetterStatus,
    ReplyAnswer,
    ReplyCheck,
)
from mp_mailer.services.outbox.transitions import (
    AttemptResult,
    Claim,
    RetryPolicy,
    add_attempt,
    lease_next,
    retry_time,
)
from mp_mailer.services.supporter_emails import SupporterEmailSettings, privacy_footer

logger = logging.getLogger(__name__)

# Letters that reached the MP: sent, or acknowledged by the MP's office. Bounced ones did not.
RECEIVED_STATUSES = (LetterStatus.SENT, LetterStatus.ACKNOWLEDGED)
SECOND_ASK_AFTER = timedelta(days=7)
# A letter sent this long before its check fell due is not asked (e.g. checks switched on for a
# campaign months old): the supporter would hardly remember, and it would flood the relay.
TOO_LATE_TO_ASK = timedelta(days=30)
ANSWER_SALT = "reply-check-answer"
ANSWER_LINK_MAX_AGE_SECONDS = 120 * 24 * 3600
MAX_REPLY_TEXT = 20_000


class InvalidReplyLink(DomainError):
    """The answer link is not one we signed, has expired, or names no check we sent."""


class AnswerOutcome(StrEnum):
    RECORDED = "recorded"
    ALREADY_ANSWERED = "already_answered"


@dataclass(frozen=True)
class CheckForAnswer:
    """What the answer page shows: whose letter, to whom, and whether it is already answered."""

    check_id: int
    mp_name: str
    campaign_title: str
    sent_on: datetime | None
    answered: bool


def _askable() -> list[ColumnElement[bool]]:
    """A letter whose supporter may be asked: it reached the MP, its supporter's details are
    still held, and its campaign tracks replies."""
    return [
        Letter.status.in_(RECEIVED_STATUSES),
        Letter.erased_at.is_(None),
        Letter.campaign_id.in_(select(Campaign.id).where(Campaign.track_replies.is_(True))),
    ]


def schedule_due_checks(session: Session, now: datetime, after: timedelta) -> int:
    """Create round 1 for every askable letter sent at least `after` ago that has none yet."""
    no_check_yet = ~exists().where(ReplyCheck.letter_id == Letter.id, ReplyCheck.round == 1)
    due = (
        select(
            Letter.id,
            literal(1),
            literal(now),
            literal(now),
            literal(0),
            literal(False),
        )
        .where(
            *_askable(),
            Letter.sent_at <= now - after,
            Letter.sent_at > now - after - TOO_LATE_TO_ASK,
            no_check_yet,
        )
        .limit(500)
    )
    columns = ["letter_id", "round", "created_at", "due_at", "attempt_count", "reply_text_consent"]
    try:
        with transaction(session):
            result = session.execute(insert(ReplyCheck).from_select(columns, due))
    except IntegrityError:
        # Another worker scheduled the same letter at the same moment: its rows stand.
        session.rollback()
        return 0
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def _due(now: datetime) -> list[ColumnElement[bool]]:
    return [
        ReplyCheck.sent_at.is_(None),
        ReplyCheck.answer.is_(None),
        ReplyCheck.due_at <= now,
        or_(ReplyCheck.lease_until.is_(None), ReplyCheck.lease_until < now),
        ReplyCheck.letter_id.in_(select(Letter.id).where(*_askable())),
    ]


def has_due_check(session: Session, now: datetime) -> bool:
    with transaction(session):
        return session.scalar(select(ReplyCheck.id).where(*_due(now)).limit(1)) is not None


def claim_next_check(session: Session, now: datetime, lease: timedelta, token: str) -> Claim | None:
    """Take the next due reply check for this worker until now+lease; the letter is untouched."""
    with transaction(session):
        check = lease_next(
            session, ReplyCheck, _due(now), [ReplyCheck.due_at, ReplyCheck.id], now, lease, token
        )
    if check is None:
        return None
    return Claim(check.letter_id, EmailKind.REPLY_CHECK, token, now, now + lease)


def _ours(claim: Claim) -> ColumnElement[bool]:
    return and_(
        ReplyCheck.letter_id == claim.letter_id,
        ReplyCheck.claim_token == claim.token,
        ReplyCheck.sent_at.is_(None),
    )


def claimed_check(session: Session, claim: Claim) -> ReplyCheck:
    check = session.scalar(select(ReplyCheck).where(_ours(claim)))
    if check is None:
        raise LookupError("the reply check is no longer claimed")
    return check


def still_claimed(session: Session, claim: Claim, now: datetime) -> bool:
    """Checked right before sending: still ours, leased, and the letter still askable (not
    erased or bounced since it was claimed)."""
    with transaction(session):
        found = session.scalar(
            select(ReplyCheck.id).where(
                _ours(claim),
                ReplyCheck.lease_until > now,
                ReplyCheck.letter_id.in_(select(Letter.id).where(*_askable())),
            )
        )
    return found is not None


def release_check(session: Session, claim: Claim) -> bool:
    """Hand the check back unattempted (the relay is down): same due time, no attempt counted."""
    with transaction(session):
        result = session.execute(
            update(ReplyCheck)
            .where(_ours(claim))
            .values(lease_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
    return bool(result.rowcount == 1)  # type: ignore[attr-defined]


def record_check_sent(session: Session, claim: Claim, result: AttemptResult, now: datetime) -> bool:
    with transaction(session):
        changed = session.execute(
            update(ReplyCheck)
            .where(_ours(claim))
            .values(sent_at=now, due_at=None, lease_until=None, claim_token=None)
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            return False
        add_attempt(
            session, claim.letter_id, EmailKind.REPLY_CHECK, now, result, AttemptOutcome.SENT
        )
    return True


def record_check_failure(
    session: Session,
    claim: Claim,
    result: AttemptResult,
    now: datetime,
    policy: RetryPolicy,
    *,
    permanent: bool,
) -> bool:
    """Retry a refused check with backoff within the retry window from its first try; a
    permanent refusal, or the window's end, gives up on it (no further round either)."""
    with transaction(session):
        check = session.scalar(select(ReplyCheck).where(_ours(claim)))
        if check is None:
            return False
        first_try = check.first_attempt_at or now
        attempts = check.attempt_count + 1
        final = permanent or now >= first_try + policy.window
        add_attempt(
            session,
            claim.letter_id,
            EmailKind.REPLY_CHECK,
            now,
            result,
            AttemptOutcome.FAILED if final else AttemptOutcome.RETRY,
        )
        session.execute(
            update(ReplyCheck)
            .where(_ours(claim))
            .values(
                attempt_count=attempts,
                first_attempt_at=first_try,
                due_at=None
                if final
                else retry_time(policy, attempts, now, first_try + policy.window),
                lease_until=None,
                claim_token=None,
            )
            .execution_options(synchronize_session=False)
        )
    return True


def make_answer_token(secret_key: str, check_id: int, letter_id: int) -> str:
    """Names the check and its letter; both must match a sent check for an answer to count."""
    return URLSafeTimedSerializer(secret_key, salt=ANSWER_SALT).dumps([check_id, letter_id])


def answer_url(public_url: str, token: str, answer: ReplyAnswer) -> str:
    """The supporter blueprint's /replies/<token>?answer=..."""
    return f"{public_url.rstrip('/')}/replies/{token}?answer={answer.value}"


def _read_token(secret_key: str, token: str) -> tuple[int, int]:
    serializer = URLSafeTimedSerializer(secret_key, salt=ANSWER_SALT)
    try:
        value = serializer.loads(token, max_age=ANSWER_LINK_MAX_AGE_SECONDS)
    except BadSignature as e:
        raise InvalidReplyLink("This link is not valid, or has expired.") from e
    if (
        not isinstance(value, list)
        or len(value) != 2
        or not all(isinstance(part, int) for part in value)
    ):
        raise InvalidReplyLink("This link is not valid, or has expired.")
    return value[0], value[1]


def _bound(check_id: int, letter_id: int) -> list[ColumnElement[bool]]:
    return [
        ReplyCheck.id == check_id,
        ReplyCheck.letter_id == letter_id,
        ReplyCheck.sent_at.is_not(None),
    ]


def find_check_for_answer(session: Session, secret_key: str, token: str) -> CheckForAnswer:
    """What the answer link is about; raises InvalidReplyLink."""
    check_id, letter_id = _read_token(secret_key, token)
    with transaction(session):
        row = session.execute(
            select(ReplyCheck.id, ReplyCheck.answer, Letter.mp_name, Letter.sent_at, Campaign.title)
            .join(Letter, Letter.id == ReplyCheck.letter_id)
            .join(Campaign, Campaign.id == Letter.campaign_id)
            .where(*_bound(check_id, letter_id))
        ).one_or_none()
    if row is None:
        raise InvalidReplyLink("This link is not valid, or has expired.")
    return CheckForAnswer(
        check_id=row.id,
        mp_name=row.mp_name,
        campaign_title=row.title,
        sent_on=row.sent_at,
        answered=row.answer is not None,
    )


def answer_check(
    session: Session,
    secret_key: str,
    token: str,
    answer: ReplyAnswer,
    now: datetime,
    *,
    reply_text: str = "",
    consent: bool = False,
) -> AnswerOutcome:
    """Record the supporter's answer once; a second answer changes nothing. The reply's text is
    kept only for "yes" with consent. "Not yet" on round 1 asks once more a week later.

    Raises InvalidReplyLink for a link that is not ours or names no check we sent.
    """
    check_id, letter_id = _read_token(secret_key, token)
    keep_text = answer == ReplyAnswer.YES and consent and bool(reply_text.strip())
    with transaction(session):
        round_number = session.scalar(select(ReplyCheck.round).where(*_bound(check_id, letter_id)))
        if round_number is None:
            raise InvalidReplyLink("This link is not valid, or has expired.")
        erased = session.scalar(select(Letter.erased_at).where(Letter.id == letter_id))
        keep_text = keep_text and erased is None
        recorded = session.execute(
            update(ReplyCheck)
            .where(*_bound(check_id, letter_id), ReplyCheck.answer.is_(None))
            .values(
                answer=answer,
                answered_at=now,
                reply_text=reply_text.strip()[:MAX_REPLY_TEXT] if keep_text else None,
                reply_text_consent=keep_text,
            )
            .execution_options(synchronize_session=False)
        )
        if recorded.rowcount != 1:  # type: ignore[attr-defined]
            return AnswerOutcome.ALREADY_ANSWERED
        if answer == ReplyAnswer.NOT_YET and round_number == 1:
            session.add(
                ReplyCheck(
                    letter_id=letter_id,
                    round=2,
                    created_at=now,
                    due_at=now + SECOND_ASK_AFTER,
                    attempt_count=0,
                    reply_text_consent=False,
                )
            )
    logger.info(
        "A supporter answered a reply check",
        extra={"letter_id": letter_id, "answer": str(answer)},
    )
    return AnswerOutcome.RECORDED


def reply_check_message(
    letter: Letter, check: ReplyCheck, settings: SupporterEmailSettings, sent_on: datetime
) -> EmailMessage:
    """The short "has your MP replied?" email, in the organisation's words, with three links."""
    token = make_answer_token(settings.secret_key, check.id, letter.id)
    sent_day = f"{letter.sent_at:%-d %B %Y}" if letter.sent_at else "recently"
    again = " (we asked once before; this is the last time)" if check.round > 1 else ""
    text = (
        f"This is {settings.organisation}, about our campaign “{letter.campaign.title}”.\n\n"
        f"On {sent_day} your letter went to {letter.mp_name}, MP for "
        f"{letter.constituency_name}. Has {letter.mp_name} replied to you?{again}\n"
        "One click tells us, and helps us see which MPs answer their constituents:\n\n"
        f"Yes, they replied:\n{answer_url(settings.public_url, token, ReplyAnswer.YES)}\n\n"
        "Not yet:\n"
        f"{answer_url(settings.public_url, token, ReplyAnswer.NOT_YET)}\n\n"
        f"No, and I don't expect one:\n{answer_url(settings.public_url, token, ReplyAnswer.NO)}\n\n"
        "We publish only totals, never who answered.\n\n"
        f"{privacy_footer(letter, settings)}"
    )
    domain = settings.mail_from.domain or "localhost"
    message = build_plain_message(
        mail_from=settings.mail_from,
        to=letter.supporter_email,
        subject=f"{settings.organisation}: has {letter.mp_name} replied to your letter?",
        text=text,
        # Stable per check: if a send is ever repeated, the duplicate is plain to see.
        message_id=f"<reply-check-{check.id}.{letter.id}@{domain}>",
    )
    message["Date"] = format_datetime(sent_on)
    return message
