"""The delivery worker: claims due emails, sends them on one SMTP connection, records attempts."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

from sqlalchemy.orm import Session, sessionmaker

from mp_mailer.clients.smtp_relay import (
    SmtpAuthenticationError,
    SmtpPermanentError,
    SmtpRelay,
    SmtpRelayError,
    SmtpReply,
    SmtpTemporaryError,
)
from mp_mailer.db import utcnow
from mp_mailer.email_messages import (
    LetterEnvelope,
    Supporter,
    build_letter_message,
    build_plain_message,
)
from mp_mailer.models import AttemptOutcome, Letter, LetterStatus
from mp_mailer.services import outbox
from mp_mailer.services.letters import confirmation_url, make_confirmation_token

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class WorkerSettings:
    secret_key: str
    public_url: str
    mail_from: Address
    mail_redirect_to: str | None
    retry_policy: outbox.RetryPolicy
    lease: timedelta
    poll_seconds: float
    confirmation_max_age_hours: int
    batch_size: int = 20


def run_worker(
    session_factory: sessionmaker[Session],
    make_relay: Callable[[], SmtpRelay],
    settings: WorkerSettings,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> int:
    """Deliver due emails until stopped; with once=True, drain what is due now and return.

    Returns how many emails were accepted by the relay. Setting `stop` (e.g. from a SIGTERM
    handler) finishes the current email and exits; an unfinished claim is reclaimed by its lease.
    """
    stop = stop or threading.Event()
    delivered = 0
    with make_relay() as relay:
        while not stop.is_set():
            try:
                sent_now, did_work = _deliver_due(session_factory, relay, settings, stop, clock)
                delivered += sent_now
            except Exception:
                logger.exception("The worker loop failed; carrying on after a pause")
                did_work = False
                if once:
                    raise
            if once and not did_work:
                break
            if not did_work:
                relay.close()
                stop.wait(settings.poll_seconds)
    return delivered


def _deliver_due(
    session_factory: sessionmaker[Session],
    relay: SmtpRelay,
    settings: WorkerSettings,
    stop: threading.Event,
    clock: Callable[[], datetime],
) -> tuple[int, bool]:
    delivered = 0
    with session_factory() as session:
        outbox.reclaim_expired_leases(session, clock())
        confirmation_ids = outbox.claim_due_confirmations(
            session, clock(), settings.lease, settings.batch_size
        )
        letter_ids = outbox.claim_due_letters(session, clock(), settings.lease, settings.batch_size)
        for position, letter_id in enumerate(confirmation_ids):
            if stop.is_set() or not _send_confirmation(session, relay, settings, letter_id, clock):
                _release_confirmations(session, confirmation_ids[position + 1 :])
                break
            delivered += 1
        for position, letter_id in enumerate(letter_ids):
            if stop.is_set():
                _release_letters(session, letter_ids[position:], clock, "worker stopping")
                break
            sent, relay_reachable = _send_letter(session, relay, settings, letter_id, clock)
            delivered += sent
            if not relay_reachable:
                _release_letters(session, letter_ids[position + 1 :], clock, "relay unreachable")
                break
    return delivered, bool(confirmation_ids or letter_ids)


def _send_letter(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    letter_id: int,
    clock: Callable[[], datetime],
) -> tuple[int, bool]:
    """Send one claimed letter; returns (1 if sent else 0, whether the relay could be reached)."""
    letter = session.get(Letter, letter_id, populate_existing=True)
    if letter is None or letter.status != LetterStatus.SENDING:
        return 0, True
    message = build_letter_message(
        letter_envelope(letter), settings.mail_from, settings.mail_redirect_to, sent_on=clock()
    )
    started = time.monotonic()
    try:
        reply = relay.send(message)
    except SmtpAuthenticationError as e:
        # Our credentials, not the letter, are at fault: retry later rather than fail the letter.
        result = _result(started, e.code, e.reply)
        outbox.record_temporary_failure(session, letter_id, result, clock(), settings.retry_policy)
        logger.error("The SMTP relay refused our login: check SMTP_USERNAME and SMTP_PASSWORD")
        return 0, False
    except SmtpTemporaryError as e:
        result = _result(started, e.code, e.reply)
        new_status = outbox.record_temporary_failure(
            session, letter_id, result, clock(), settings.retry_policy
        )
        _log_attempt(letter_id, "temporary failure", result, new_status)
        return 0, e.code is not None
    except SmtpPermanentError as e:
        result = _result(started, e.code, e.reply)
        outbox.record_permanent_failure(session, letter_id, result, clock())
        _log_attempt(letter_id, "permanent failure", result, LetterStatus.FAILED)
        return 0, True
    result = _result(started, reply.code, reply.text)
    outbox.record_sent(
        session, letter_id, result, clock(), message.as_bytes(policy=SMTP).decode("utf-8")
    )
    _log_attempt(letter_id, "sent", result, LetterStatus.SENT)
    return 1, True


def letter_envelope(letter: Letter) -> LetterEnvelope:
    return LetterEnvelope(
        message_id=letter.message_id,
        subject=letter.subject,
        body=letter.body,
        supporter=Supporter(
            name=letter.supporter_name,
            email=letter.supporter_email,
            address=letter.supporter_address,
            postcode=letter.supporter_postcode,
        ),
        mp_name=letter.mp_name,
        mp_email=letter.mp_email,
        send_copy=letter.send_copy,
    )


def _send_confirmation(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    letter_id: int,
    clock: Callable[[], datetime],
) -> bool:
    """Send one confirmation email; False when the relay could not be reached at all."""
    letter = session.get(Letter, letter_id, populate_existing=True)
    if letter is None or letter.status != LetterStatus.AWAITING_CONFIRMATION:
        return True
    message = confirmation_message(letter, settings)
    started = time.monotonic()
    try:
        reply: SmtpReply = relay.send(message)
    except SmtpRelayError as e:
        result = _result(started, e.code, e.reply)
        retryable = isinstance(e, SmtpTemporaryError | SmtpAuthenticationError)
        retry_at = clock() + settings.retry_policy.delay_after(1) if retryable else None
        outcome = AttemptOutcome.RETRY if retryable else AttemptOutcome.FAILED
        outbox.record_confirmation_attempt(session, letter_id, result, outcome, clock(), retry_at)
        logger.warning(
            "Confirmation email not sent: %s", result.smtp_reply, extra={"letter_id": letter_id}
        )
        return not retryable or (e.code is not None and not isinstance(e, SmtpAuthenticationError))
    result = _result(started, reply.code, reply.text)
    outbox.record_confirmation_attempt(session, letter_id, result, AttemptOutcome.SENT, clock())
    logger.info(
        "Confirmation email sent in %d ms", result.duration_ms, extra={"letter_id": letter_id}
    )
    return True


def confirmation_message(letter: Letter, settings: WorkerSettings) -> EmailMessage:
    link = confirmation_url(
        settings.public_url, make_confirmation_token(settings.secret_key, letter.id)
    )
    text = (
        f"Hello {letter.supporter_name},\n\n"
        f"Thank you for writing to {letter.mp_name}, MP for {letter.constituency_name}, "
        f'about "{letter.campaign.title}".\n\n'
        "Your letter has not been sent yet. To send it, open this link and press "
        '"Send my letter":\n\n'
        f"{link}\n\n"
        f"The link works once and expires in {settings.confirmation_max_age_hours} hours.\n\n"
        "If you didn't write this letter, ignore this email and nothing will be sent.\n"
    )
    return build_plain_message(
        mail_from=settings.mail_from,
        to=letter.supporter_email,
        subject=f"Confirm your letter to {letter.mp_name}",
        text=text,
    )


def _release_letters(
    session: Session, letter_ids: list[int], clock: Callable[[], datetime], why: str
) -> None:
    for letter_id in letter_ids:
        outbox.release_claim(session, letter_id, clock(), f"not attempted: {why}")


def _release_confirmations(session: Session, letter_ids: list[int]) -> None:
    for letter_id in letter_ids:
        outbox.release_confirmation_claim(session, letter_id)


def _result(started: float, code: int | None, reply: str | None) -> outbox.AttemptResult:
    return outbox.AttemptResult(
        duration_ms=int((time.monotonic() - started) * 1000), smtp_code=code, smtp_reply=reply
    )


def _log_attempt(
    letter_id: int, what: str, result: outbox.AttemptResult, status: LetterStatus | None
) -> None:
    level = logging.INFO if status == LetterStatus.SENT else logging.WARNING
    if status == LetterStatus.FAILED:
        level = logging.ERROR
    logger.log(
        level,
        "Delivery attempt: %s in %d ms (%s %s)",
        what,
        result.duration_ms,
        result.smtp_code,
        result.smtp_reply,
        extra={"letter_id": letter_id, "status": str(status)},
    )
