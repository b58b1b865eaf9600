"""The delivery worker: claims one due email at a time, sends it on a reused SMTP connection,
records the attempt; waits out relay outages as a whole."""

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
from email.utils import format_datetime, make_msgid

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mp_mailer.clients.smtp_relay import (
    SmtpAuthenticationError,
    SmtpPermanentError,
    SmtpRelay,
    SmtpRelayError,
    SmtpRelayUnavailable,
    SmtpReply,
    SmtpTemporaryError,
)
from mp_mailer.db import utcnow
from mp_mailer.email_messages import (
    LetterEnvelope,
    Supporter,
    build_letter_message,
    build_plain_message,
    envelope_address,
)
from mp_mailer.models import AttemptOutcome, EmailKind, Letter, LetterStatus
from mp_mailer.services import outbox
from mp_mailer.services.letters import confirmation_url, make_confirmation_token
from mp_mailer.services.worker_heartbeat import HeartbeatRecorder

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


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
    relay_outage_max_wait: timedelta = timedelta(minutes=10)


class RelayUnavailable(Exception):
    """The relay could not be reached or refused our login: nothing was attempted."""


class _RelayOutage:
    """The worker's wait while the relay is down: capped exponential, logged once per outage."""

    def __init__(self, first_wait: timedelta, max_wait: timedelta) -> None:
        self._first_wait = first_wait
        self._max_wait = max_wait
        self.failures = 0

    def next_wait(self, reason: str, now: datetime) -> timedelta:
        self.failures += 1
        exponent = min(self.failures - 1, 30)
        wait = min(self._first_wait * (1 << exponent), self._max_wait)
        log = logger.warning if self.failures == 1 else logger.debug
        log(
            "The SMTP relay cannot be reached (%s); no email is attempted until it can. "
            "Next try at %s",
            reason,
            (now + wait).isoformat(timespec="seconds"),
            extra={"next_try_at": (now + wait).isoformat(), "relay_failures": self.failures},
        )
        return wait

    def ended(self) -> None:
        if self.failures:
            logger.warning("The SMTP relay is reachable again after %d tries", self.failures)
        self.failures = 0


def run_worker(
    session_factory: sessionmaker[Session],
    make_relay: Callable[[], SmtpRelay],
    settings: WorkerSettings,
    *,
    once: bool = False,
    stop: threading.Event | None = None,
    clock: Clock = utcnow,
    wait: Callable[[float], object] | None = None,
) -> int:
    """Deliver due emails until stopped; with once=True, drain what is due now and return.

    Returns how many emails the relay accepted. With once=True, raises RelayUnavailable if the
    relay cannot be reached (nothing is attempted, no letter's retry time is used). Setting `stop`
    (e.g. from a SIGTERM handler) finishes the current email and exits. `wait(seconds)` is how the
    worker pauses (default: on `stop`); tests pass one that moves their clock instead.
    """
    stop = stop or threading.Event()
    pause = wait or stop.wait
    outage = _RelayOutage(settings.retry_policy.base_delay, settings.relay_outage_max_wait)
    heartbeat = HeartbeatRecorder(session_factory)
    delivered = 0
    with make_relay() as relay:
        while not stop.is_set():
            try:
                sent_now, did_work = _deliver_due(
                    session_factory, relay, settings, stop, clock, heartbeat
                )
                delivered += sent_now
                if did_work:
                    outage.ended()
            except RelayUnavailable as e:
                relay.close()
                heartbeat.beat(clock(), relay_reachable=False)
                next_wait = outage.next_wait(str(e), clock())
                if once:
                    raise
                pause(next_wait.total_seconds())
                continue
            except Exception:
                logger.exception("The worker loop failed; carrying on after a pause")
                if once:
                    raise
                pause(settings.poll_seconds)
                continue
            if not did_work:
                heartbeat.beat(clock())
                if once:
                    break
                relay.close()
                pause(settings.poll_seconds)
    return delivered


def _deliver_due(
    session_factory: sessionmaker[Session],
    relay: SmtpRelay,
    settings: WorkerSettings,
    stop: threading.Event,
    clock: Clock,
    heartbeat: HeartbeatRecorder,
) -> tuple[int, bool]:
    """Send due emails one claim at a time until none is due; (accepted, whether any was due)."""
    delivered = 0
    did_work = False
    link_lifetime = timedelta(hours=settings.confirmation_max_age_hours)
    with session_factory() as session:
        outbox.reclaim_expired_leases(session, clock())
        outbox.expire_unconfirmed(session, clock(), link_lifetime)
        if not outbox.has_due_email(session, clock()):
            return 0, False
        # Asked once per pass, not per email: each claim below is itself the check that an
        # email is due, and says None when none is.
        while not stop.is_set():
            _open_relay(relay)
            heartbeat.beat(clock(), relay_reachable=True)
            claim = _claim_next(session, settings, clock)
            if claim is None:
                break
            did_work = True
            delivered += _deliver_one(session, relay, settings, claim, clock)
    return delivered, did_work


def _open_relay(relay: SmtpRelay) -> None:
    try:
        relay.open()
    except (SmtpRelayUnavailable, SmtpAuthenticationError) as e:
        raise RelayUnavailable(_describe(e)) from e


def _claim_next(session: Session, settings: WorkerSettings, clock: Clock) -> outbox.Claim | None:
    for claim_next in (
        outbox.claim_next_confirmation,
        outbox.claim_next_letter,
        outbox.claim_next_copy,
    ):
        claim = claim_next(session, clock(), settings.lease, outbox.new_claim_token())
        if claim is not None:
            return claim
    return None


def _deliver_one(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: outbox.Claim,
    clock: Clock,
) -> int:
    """Send one claimed email. Whatever goes wrong with it stays with it, except the relay being
    unavailable (RelayUnavailable), which is nobody's email's fault."""
    send = {
        EmailKind.CONFIRMATION: _send_confirmation,
        EmailKind.LETTER: _send_letter,
        EmailKind.COPY: _send_copy,
    }[claim.kind]
    try:
        return send(session, relay, settings, claim, clock)
    except RelayUnavailable:
        raise
    except SQLAlchemyError as e:
        # The claim stays held until its lease runs out, so this pass moves on to other emails.
        session.rollback()
        logger.error(
            "Database error on one email (%s); it is retried when its lease runs out",
            type(e).__name__,
            extra={"letter_id": claim.letter_id, "kind": str(claim.kind)},
        )
        return 0
    except Exception as e:
        session.rollback()
        _record_unsendable(session, settings, claim, e, clock)
        return 0


def _record_unsendable(
    session: Session,
    settings: WorkerSettings,
    claim: outbox.Claim,
    error: Exception,
    clock: Clock,
) -> None:
    # Only the exception's type is logged: its text may quote the supporter's address.
    logger.error(
        "Could not build or send one email (%s); marked as failed",
        type(error).__name__,
        extra={"letter_id": claim.letter_id, "kind": str(claim.kind)},
    )
    result = outbox.AttemptResult(
        duration_ms=0,
        smtp_code=None,
        smtp_reply=f"not sent, the email could not be made: {type(error).__name__}: {error}",
    )
    try:
        if claim.kind == EmailKind.LETTER:
            outbox.record_permanent_failure(session, claim, result, clock())
        elif claim.kind == EmailKind.CONFIRMATION:
            outbox.record_confirmation_permanent_failure(session, claim, result, clock())
        else:
            outbox.record_copy_failure(
                session, claim, result, clock(), settings.retry_policy, permanent=True
            )
    except SQLAlchemyError as e:
        session.rollback()
        logger.error(
            "Could not record the failure (%s); retried when its lease runs out",
            type(e).__name__,
            extra={"letter_id": claim.letter_id},
        )


def _relay_fault(error: SmtpRelayError) -> bool:
    """Errors that say the relay is down for everyone, not that it refused this email."""
    if isinstance(error, SmtpRelayUnavailable | SmtpAuthenticationError):
        return True
    return isinstance(error, SmtpTemporaryError) and error.code is None


def _send_over_relay(
    session: Session,
    relay: SmtpRelay,
    claim: outbox.Claim,
    message: EmailMessage,
    recipients: list[str],
    clock: Clock,
    optional: list[str] | None = None,
) -> tuple[SmtpReply | SmtpRelayError, int] | None:
    """Send under a claim checked to be ours right before; None if it was not ours any more.

    A relay-wide failure hands the claim back and raises RelayUnavailable.
    """
    if not outbox.still_claimed(session, claim, clock()):
        logger.warning(
            "Not sending: the claim on this email is no longer ours",
            extra={"letter_id": claim.letter_id, "kind": str(claim.kind)},
        )
        return None
    started = time.monotonic()
    try:
        reply: SmtpReply | SmtpRelayError = relay.send(
            message, recipients, optional_recipients=optional or ()
        )
    except SmtpRelayError as e:
        if _relay_fault(e):
            outbox.release_claim(session, claim, clock(), "not attempted: relay unreachable")
            raise RelayUnavailable(_describe(e)) from e
        reply = e
    return reply, int((time.monotonic() - started) * 1000)


def _send_letter(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: outbox.Claim,
    clock: Clock,
) -> int:
    """Send one claimed letter to the MP, and the supporter's copy with it if they asked.

    The MP's acceptance alone decides the letter; a refused copy is recorded on its own and,
    if the refusal is temporary, retried later to the supporter alone.
    """
    letter = session.get_one(Letter, claim.letter_id, populate_existing=True)
    sent_on = clock().replace(microsecond=0)
    message = build_letter_message(
        letter_envelope(letter), settings.mail_from, settings.mail_redirect_to, sent_on=sent_on
    )
    source = message.as_bytes(policy=SMTP).decode("utf-8")
    mp_recipient = envelope_address(settings.mail_redirect_to or letter.mp_email)
    copy_to = [envelope_address(letter.supporter_email)] if letter.send_copy else []
    outcome = _send_over_relay(
        session, relay, claim, message, [mp_recipient, *copy_to], clock, optional=copy_to
    )
    if outcome is None:
        return 0
    reply, duration_ms = outcome
    result = outbox.AttemptResult(duration_ms, reply.code, _reply_text(reply))
    if isinstance(reply, SmtpPermanentError):
        outbox.record_permanent_failure(session, claim, result, clock())
        _log_attempt(claim, "permanent failure", result, LetterStatus.FAILED)
        return 0
    if isinstance(reply, SmtpRelayError):
        status = outbox.record_temporary_failure(
            session, claim, result, clock(), settings.retry_policy
        )
        _log_attempt(claim, "temporary failure", result, status)
        return 0
    copy = _copy_result(reply, copy_to, duration_ms, sent_on, settings.retry_policy)
    _record_letter_sent(session, claim, result, sent_on, source, copy)
    _log_attempt(claim, "sent", result, LetterStatus.SENT)
    return 1


def _copy_result(
    reply: SmtpReply,
    copy_to: list[str],
    duration_ms: int,
    now: datetime,
    policy: outbox.RetryPolicy,
) -> outbox.CopyResult | None:
    """The supporter's copy went in the same transaction; a refusal of it is its own result."""
    if not copy_to:
        return None
    refusal = reply.refused.get(copy_to[0])
    if refusal is None:
        return outbox.CopyResult(
            AttemptOutcome.SENT, outbox.AttemptResult(duration_ms, reply.code, reply.text)
        )
    result = outbox.AttemptResult(duration_ms, refusal.code, refusal.text)
    if refusal.is_permanent:
        return outbox.CopyResult(AttemptOutcome.FAILED, result)
    return outbox.CopyResult(AttemptOutcome.RETRY, result, now + policy.delay_after(1))


def _record_letter_sent(
    session: Session,
    claim: outbox.Claim,
    result: outbox.AttemptResult,
    sent_on: datetime,
    source: str,
    copy: outbox.CopyResult | None,
) -> None:
    try:
        outbox.record_sent(session, claim, result, sent_on, source, copy)
        return
    except SQLAlchemyError as e:
        session.rollback()
        logger.error(
            "Could not record a sent letter (%s); trying once more without its source",
            type(e).__name__,
            extra={"letter_id": claim.letter_id},
        )
    try:
        outbox.record_sent(session, claim, result, sent_on, None, copy)
    except SQLAlchemyError as e:
        session.rollback()
        # The relay has it; once the lease runs out it is sent again, with the same Message-ID.
        logger.critical(
            "A sent letter could not be recorded (%s): it will be sent again",
            type(e).__name__,
            extra={"letter_id": claim.letter_id},
        )


def _send_copy(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: outbox.Claim,
    clock: Clock,
) -> int:
    """Retry the supporter's copy: the message the MP received, to the supporter alone."""
    letter = session.get_one(Letter, claim.letter_id, populate_existing=True)
    message = build_letter_message(
        letter_envelope(letter),
        settings.mail_from,
        settings.mail_redirect_to,
        sent_on=letter.sent_at,
    )
    outcome = _send_over_relay(
        session, relay, claim, message, [envelope_address(letter.supporter_email)], clock
    )
    if outcome is None:
        return 0
    reply, duration_ms = outcome
    result = outbox.AttemptResult(duration_ms, reply.code, _reply_text(reply))
    if isinstance(reply, SmtpRelayError):
        outbox.record_copy_failure(
            session,
            claim,
            result,
            clock(),
            settings.retry_policy,
            permanent=isinstance(reply, SmtpPermanentError),
        )
        _log_attempt(claim, "copy not accepted", result, None)
        return 0
    outbox.record_copy_sent(session, claim, result, clock())
    _log_attempt(claim, "copy sent", result, LetterStatus.SENT)
    return 1


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
    claim: outbox.Claim,
    clock: Clock,
) -> int:
    letter = session.get_one(Letter, claim.letter_id, populate_existing=True)
    message = confirmation_message(letter, settings, sent_on=clock())
    outcome = _send_over_relay(
        session, relay, claim, message, [envelope_address(letter.supporter_email)], clock
    )
    if outcome is None:
        return 0
    reply, duration_ms = outcome
    result = outbox.AttemptResult(duration_ms, reply.code, _reply_text(reply))
    if isinstance(reply, SmtpPermanentError):
        status = outbox.record_confirmation_permanent_failure(session, claim, result, clock())
        _log_attempt(claim, "confirmation refused", result, status)
        return 0
    if isinstance(reply, SmtpRelayError):
        status = outbox.record_confirmation_temporary_failure(
            session, claim, result, clock(), settings.retry_policy
        )
        _log_attempt(claim, "confirmation refused for now", result, status)
        return 0
    outbox.record_confirmation_sent(session, claim, result, clock())
    _log_attempt(claim, "confirmation sent", result, LetterStatus.AWAITING_CONFIRMATION)
    return 1


def confirmation_message(
    letter: Letter, settings: WorkerSettings, sent_on: datetime | None = None
) -> EmailMessage:
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
    message = build_plain_message(
        mail_from=settings.mail_from,
        to=letter.supporter_email,
        subject=f"Confirm your letter to {letter.mp_name}",
        text=text,
        message_id=make_msgid(idstring="confirm", domain=settings.mail_from.domain or None),
    )
    message["Date"] = format_datetime(sent_on or utcnow())
    return message


def _describe(error: SmtpRelayError) -> str:
    if isinstance(error, SmtpAuthenticationError):
        return f"it refused our login, {error}: check SMTP_USERNAME and SMTP_PASSWORD"
    return f"{type(error).__name__}: {error}"


def _reply_text(reply: SmtpReply | SmtpRelayError) -> str:
    return reply.text if isinstance(reply, SmtpReply) else reply.reply


def _log_attempt(
    claim: outbox.Claim, what: str, result: outbox.AttemptResult, status: LetterStatus | None
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
