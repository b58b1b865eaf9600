"""Sending one claimed email over the relay (letter, supporter's copy, confirmation) and
recording what the relay said, one attempt logged per send."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.clients.smtp_replies import (
    SmtpAuthenticationError,
    SmtpPermanentError,
    SmtpRelayError,
    SmtpRelayUnavailable,
    SmtpReply,
    SmtpTemporaryError,
)
from mp_mailer.email_messages import build_letter_message, envelope_address
from mp_mailer.models import AttemptOutcome, Letter, LetterStatus
from mp_mailer.services import reply_checks, supporter_notices
from mp_mailer.services.outbox.claims import letter_envelope, release_claim, still_claimed
from mp_mailer.services.outbox.confirmations import (
    record_confirmation_permanent_failure,
    record_confirmation_sent,
    record_confirmation_temporary_failure,
)
from mp_mailer.services.outbox.copies import record_copy_failure, record_copy_sent
from mp_mailer.services.outbox.letter_results import (
    CopyResult,
    record_permanent_failure,
    record_sent,
    record_temporary_failure,
)
from mp_mailer.services.outbox.transitions import AttemptResult, Claim, RetryPolicy
from mp_mailer.worker.messages import confirmation_message, supporter_email_settings
from mp_mailer.worker.settings import Clock, RelayUnavailable, WorkerSettings

logger = logging.getLogger(__name__)


def _relay_fault(error: SmtpRelayError) -> bool:
    """Errors that say the relay is down for everyone, not that it refused this email."""
    if isinstance(error, SmtpRelayUnavailable | SmtpAuthenticationError):
        return True
    return isinstance(error, SmtpTemporaryError) and error.code is None


def _send_over_relay(
    session: Session,
    relay: SmtpRelay,
    claim: Claim,
    message: EmailMessage,
    recipients: list[str],
    clock: Clock,
    optional: list[str] | None = None,
    envelope_sender: str | None = None,
) -> tuple[SmtpReply | SmtpRelayError, int] | None:
    """Send under a claim checked to be ours right before; None if it was not ours any more.

    A relay-wide failure hands the claim back and raises RelayUnavailable.
    """
    if not still_claimed(session, claim, clock()):
        logger.warning(
            "Not sending: the claim on this email is no longer ours",
            extra={"letter_id": claim.letter_id, "kind": str(claim.kind)},
        )
        return None
    started = time.monotonic()
    try:
        reply: SmtpReply | SmtpRelayError = relay.send(
            message,
            recipients,
            optional_recipients=optional or (),
            envelope_sender=envelope_sender,
        )
    except SmtpRelayError as e:
        if _relay_fault(e):
            release_claim(session, claim, clock(), "not attempted: relay unreachable")
            raise RelayUnavailable(describe_relay_error(e)) from e
        reply = e
    return reply, int((time.monotonic() - started) * 1000)


def send_letter(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: Claim,
    clock: Clock,
) -> int:
    """Send one claimed letter to the MP, and the supporter's copy with it if they asked.

    The MP's acceptance alone decides the letter; a refused copy is recorded on its own and,
    if the refusal is temporary, retried later to the supporter alone.
    """
    envelope = claim.envelope or letter_envelope(
        session.get_one(Letter, claim.letter_id, populate_existing=True)
    )
    sent_on = clock().replace(microsecond=0)
    message = build_letter_message(
        envelope, settings.mail_from, settings.mail_redirect_to, sent_on=sent_on
    )
    mp_recipient = envelope_address(settings.mail_redirect_to or envelope.mp_email)
    copy_to = [envelope_address(envelope.supporter.email)] if envelope.send_copy else []
    outcome = _send_over_relay(
        session,
        relay,
        claim,
        message,
        [mp_recipient, *copy_to],
        clock,
        optional=copy_to,
        envelope_sender=_bounce_address(settings, claim.letter_id),
    )
    if outcome is None:
        return 0
    reply, duration_ms = outcome
    result = AttemptResult(duration_ms, reply.code, _reply_text(reply))
    if isinstance(reply, SmtpPermanentError):
        record_permanent_failure(session, claim, result, clock())
        _log_attempt(claim, "permanent failure", result, LetterStatus.FAILED)
        return 0
    if isinstance(reply, SmtpRelayError):
        status = record_temporary_failure(session, claim, result, clock(), settings.retry_policy)
        _log_attempt(claim, "temporary failure", result, status)
        return 0
    copy = _copy_result(reply, copy_to, duration_ms, sent_on, settings.retry_policy)
    source = reply.content.decode("utf-8", errors="replace")
    _record_letter_sent(session, claim, result, sent_on, source, copy)
    _log_attempt(claim, "sent", result, LetterStatus.SENT)
    return 1


def _copy_result(
    reply: SmtpReply,
    copy_to: list[str],
    duration_ms: int,
    now: datetime,
    policy: RetryPolicy,
) -> CopyResult | None:
    """The supporter's copy went in the same transaction; a refusal of it is its own result."""
    if not copy_to:
        return None
    refusal = reply.refused.get(copy_to[0])
    if refusal is None:
        return CopyResult(AttemptOutcome.SENT, AttemptResult(duration_ms, reply.code, reply.text))
    result = AttemptResult(duration_ms, refusal.code, refusal.text)
    if refusal.is_permanent:
        return CopyResult(AttemptOutcome.FAILED, result)
    return CopyResult(AttemptOutcome.RETRY, result, now + policy.delay_after(1))


def _record_letter_sent(
    session: Session,
    claim: Claim,
    result: AttemptResult,
    sent_on: datetime,
    source: str,
    copy: CopyResult | None,
) -> None:
    try:
        record_sent(session, claim, result, sent_on, source, copy)
        return
    except SQLAlchemyError as e:
        session.rollback()
        logger.error(
            "Could not record a sent letter (%s); trying once more without its source",
            type(e).__name__,
            extra={"letter_id": claim.letter_id},
        )
    try:
        record_sent(session, claim, result, sent_on, None, copy)
    except SQLAlchemyError as e:
        session.rollback()
        # The relay has it; once the lease runs out it is sent again, with the same Message-ID.
        logger.critical(
            "A sent letter could not be recorded (%s): it will be sent again",
            type(e).__name__,
            extra={"letter_id": claim.letter_id},
        )


def send_copy(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: Claim,
    clock: Clock,
) -> int:
    """Retry the supporter's copy: the message the MP received, to the supporter alone."""
    letter = claim.letter or session.get_one(Letter, claim.letter_id, populate_existing=True)
    message = build_letter_message(
        letter_envelope(letter),
        settings.mail_from,
        settings.mail_redirect_to,
        sent_on=letter.sent_at,
    )
    return _send_to_supporter(
        session,
        relay,
        settings,
        claim,
        clock,
        message,
        letter,
        "copy",
        record_failure=record_copy_failure,
        record_sent=record_copy_sent,
    )


def send_confirmation(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: Claim,
    clock: Clock,
) -> int:
    letter = claim.letter or session.get_one(Letter, claim.letter_id, populate_existing=True)
    message = confirmation_message(letter, settings, sent_on=clock())
    outcome = _send_over_relay(
        session, relay, claim, message, [envelope_address(letter.supporter_email)], clock
    )
    if outcome is None:
        return 0
    reply, duration_ms = outcome
    result = AttemptResult(duration_ms, reply.code, _reply_text(reply))
    if isinstance(reply, SmtpPermanentError):
        status = record_confirmation_permanent_failure(session, claim, result, clock())
        _log_attempt(claim, "confirmation refused", result, status)
        return 0
    if isinstance(reply, SmtpRelayError):
        status = record_confirmation_temporary_failure(
            session, claim, result, clock(), settings.retry_policy
        )
        _log_attempt(claim, "confirmation refused for now", result, status)
        return 0
    record_confirmation_sent(session, claim, result, clock())
    _log_attempt(claim, "confirmation sent", result, LetterStatus.AWAITING_CONFIRMATION)
    return 1


def _bounce_address(settings: WorkerSettings, letter_id: int) -> str | None:
    """The letter's own envelope sender, so what comes back maps to it; None: MAIL_FROM's."""
    if settings.bounce_addresses is None:
        return None
    return settings.bounce_addresses.for_letter(letter_id)


def send_notice(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: Claim,
    clock: Clock,
) -> int:
    """Tell the supporter, once, that their letter bounced or failed."""
    letter = claim.letter or session.get_one(Letter, claim.letter_id, populate_existing=True)
    message = supporter_notices.notice_message(session, letter, settings.mail_from, clock())
    return _send_to_supporter(
        session,
        relay,
        settings,
        claim,
        clock,
        message,
        letter,
        "notice",
        record_failure=supporter_notices.record_notice_failure,
        record_sent=supporter_notices.record_notice_sent,
    )


def send_reply_check(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: Claim,
    clock: Clock,
) -> int:
    """Ask the supporter, once per round, whether their MP has replied."""
    letter = session.get_one(Letter, claim.letter_id, populate_existing=True)
    check = reply_checks.claimed_check(session, claim)
    message = reply_checks.reply_check_message(
        letter, check, supporter_email_settings(settings), clock()
    )
    return _send_to_supporter(
        session,
        relay,
        settings,
        claim,
        clock,
        message,
        letter,
        "reply check",
        record_failure=reply_checks.record_check_failure,
        record_sent=reply_checks.record_check_sent,
    )


def _send_to_supporter(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: Claim,
    clock: Clock,
    message: EmailMessage,
    letter: Letter,
    what: str,
    *,
    record_failure: Callable[..., object],
    record_sent: Callable[[Session, Claim, AttemptResult, datetime], object],
) -> int:
    """Send one email about a letter to its supporter alone, and record what the relay said."""
    outcome = _send_over_relay(
        session, relay, claim, message, [envelope_address(letter.supporter_email)], clock
    )
    if outcome is None:
        return 0
    reply, duration_ms = outcome
    result = AttemptResult(duration_ms, reply.code, _reply_text(reply))
    if isinstance(reply, SmtpRelayError):
        record_failure(
            session,
            claim,
            result,
            clock(),
            settings.retry_policy,
            permanent=isinstance(reply, SmtpPermanentError),
        )
        _log_attempt(claim, f"{what} not accepted", result, None)
        return 0
    record_sent(session, claim, result, clock())
    _log_attempt(claim, f"{what} sent", result, letter.status)
    return 1


def describe_relay_error(error: SmtpRelayError) -> str:
    if isinstance(error, SmtpAuthenticationError):
        return f"it refused our login, {error}: check SMTP_USERNAME and SMTP_PASSWORD"
    return f"{type(error).__name__}: {error}"


def _reply_text(reply: SmtpReply | SmtpRelayError) -> str:
    return reply.text if isinstance(reply, SmtpReply) else reply.reply


def _log_attempt(
    claim: Claim, what: str, result: AttemptResult, status: LetterStatus | None
) -> None:
    level = logging.INFO if status == LetterStatus.SENT else logging.WARNING
    if status == LetterStatus.FAILED:
        level = logging.ERROR
    logger.log(
        level,
        # The reply text is not logged: relays often quote the refused address in it.
        "Delivery attempt: %s in %d ms (%s)",
        what,
        result.duration_ms,
        result.smtp_code,
        extra={"letter_id": claim.letter_id, "kind": str(claim.kind), "status": str(status)},
    )
