"""The delivery worker's loop: claims one due email at a time, sends it on a reused SMTP
connection, keeps one email's failure to that email, and waits out relay outages as a whole."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.clients.smtp_replies import SmtpAuthenticationError, SmtpRelayUnavailable
from mp_mailer.db import utcnow
from mp_mailer.models import CampaignPacing, EmailKind
from mp_mailer.services import pacing, reply_checks, supporter_notices
from mp_mailer.services.outbox.claims import (
    claim_next_confirmation,
    claim_next_copy,
    claim_next_letter,
    has_due_email,
    reclaim_expired_leases,
)
from mp_mailer.services.outbox.confirmations import (
    expire_unconfirmed,
    record_confirmation_permanent_failure,
)
from mp_mailer.services.outbox.copies import record_copy_failure
from mp_mailer.services.outbox.letter_results import record_permanent_failure
from mp_mailer.services.outbox.transitions import AttemptResult, Claim, new_claim_token
from mp_mailer.services.supporter_emails import already_written_message
from mp_mailer.services.supporter_mail import deliver_due_notices
from mp_mailer.services.worker_heartbeat import HeartbeatRecorder
from mp_mailer.worker.messages import supporter_email_settings
from mp_mailer.worker.senders import (
    describe_relay_error,
    send_confirmation,
    send_copy,
    send_letter,
    send_notice,
    send_reply_check,
)
from mp_mailer.worker.settings import Clock, RelayUnavailable, WorkerSettings

ClaimNext = Callable[[Session, datetime, timedelta, str], Claim | None]

logger = logging.getLogger(__name__)

REPLY_CHECK_SEARCH_INTERVAL = timedelta(minutes=5)


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


class _ReplyCheckSchedule:
    """Looks for letters newly due a reply check at most every few minutes, not every pass: a
    check due today can wait minutes, and the search covers a month of sent letters."""

    def __init__(self, settings: WorkerSettings) -> None:
        self._after = timedelta(days=settings.reply_check_days)
        self._last: datetime | None = None

    def run(self, session: Session, now: datetime) -> None:
        if self._after <= timedelta():
            return
        if self._last is not None and now - self._last < REPLY_CHECK_SEARCH_INTERVAL:
            return
        reply_checks.schedule_due_checks(session, now, self._after)
        self._last = now


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
    schedule = _ReplyCheckSchedule(settings)
    delivered = 0
    with make_relay() as relay:
        while not stop.is_set():
            try:
                sent_now, did_work = _deliver_due(
                    session_factory, relay, settings, stop, clock, heartbeat, schedule
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
    schedule: _ReplyCheckSchedule,
) -> tuple[int, bool]:
    """Send due emails one claim at a time until none is due; (accepted, whether any was due)."""
    delivered = 0
    did_work = False
    link_lifetime = timedelta(hours=settings.confirmation_max_age_hours)
    claim_order = ClaimOrder(settings, time.monotonic)
    # One connection for the whole pass: a session gives its connection back to the pool at
    # every commit, and the pool checks each one it hands out with a round trip of its own.
    with _pass_session(session_factory) as session:
        reclaim_expired_leases(session, clock())
        expire_unconfirmed(session, clock(), link_lifetime)
        delivered += _send_already_written_notices(session, relay, settings, clock)
        schedule.run(session, clock())
        if not _has_due_work(session, settings, clock()):
            return delivered, delivered > 0
        # Asked once per pass, not per email: each claim below is itself the check that an
        # email is due, and says None when none is.
        while not stop.is_set():
            _open_relay(relay)
            heartbeat.beat(clock(), relay_reachable=True)
            claim = claim_order.claim_next(session, clock)
            if claim is None:
                break
            did_work = True
            delivered += _deliver_one(session, relay, settings, claim, clock)
    return delivered, did_work


@contextmanager
def _pass_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    with session_factory() as session:
        engine = session.get_bind()
        if not isinstance(engine, Engine):
            yield session
            return
        with engine.connect() as connection:
            session.bind = connection
            try:
                yield session
            finally:
                session.close()


def _send_already_written_notices(
    session: Session, relay: SmtpRelay, settings: WorkerSettings, clock: Clock
) -> int:
    """Tell supporters someone wrote again with their address (services.supporter_mail)."""
    email_settings = supporter_email_settings(settings)
    return deliver_due_notices(
        session,
        lambda letter: already_written_message(letter, email_settings),
        relay.send,
        clock(),
    )


def _has_due_work(session: Session, settings: WorkerSettings, now: datetime) -> bool:
    return (
        has_due_email(session, now)
        or supporter_notices.has_due_notice(session, now)
        or (settings.reply_check_days > 0 and reply_checks.has_due_check(session, now))
    )


def _open_relay(relay: SmtpRelay) -> None:
    try:
        relay.open()
    except (SmtpRelayUnavailable, SmtpAuthenticationError) as e:
        raise RelayUnavailable(describe_relay_error(e)) from e


class ClaimOrder:
    """Which email to claim next: confirmations first (a supporter is waiting for the link), then
    letters, then supporters' copies, then notices, then reply checks.

    A kind that came up empty is not asked again for a second: without this, every letter
    would first cost an empty claim of a confirmation, and most of the time none is due. A
    confirmation queued meanwhile waits at most that second.
    """

    RECHECK_SECONDS = 1.0

    def __init__(self, settings: WorkerSettings, monotonic: Callable[[], float]) -> None:
        self._settings = settings
        self._monotonic = monotonic
        self._empty_at: dict[EmailKind, float] = {}
        self._pacing: list[CampaignPacing] | None = None
        self._pacing_read_at = 0.0

    def claim_next(self, session: Session, clock: Clock) -> Claim | None:
        kinds: list[tuple[EmailKind, ClaimNext]] = [
            (EmailKind.CONFIRMATION, claim_next_confirmation),
            (EmailKind.LETTER, self._claim_next_paced_letter),
            (EmailKind.COPY, claim_next_copy),
            (EmailKind.NOTICE, supporter_notices.claim_next_notice),
        ]
        if self._settings.reply_check_days > 0:
            # Last: a question that can wait never holds up a letter or a confirmation.
            kinds.append((EmailKind.REPLY_CHECK, reply_checks.claim_next_check))
        for kind, claim_next in kinds:
            empty_at = self._empty_at.get(kind)
            if empty_at is not None and self._monotonic() - empty_at < self.RECHECK_SECONDS:
                continue
            claim = claim_next(session, clock(), self._settings.lease, new_claim_token())
            if claim is not None:
                return claim
            self._empty_at[kind] = self._monotonic()
        return None

    def _claim_next_paced_letter(
        self, session: Session, now: datetime, lease: timedelta, token: str
    ) -> Claim | None:
        # The campaigns' pacing settings are read once a second; what they count is read anew
        # for every claim, so a limit is never overshot.
        if self._pacing is None or self._monotonic() - self._pacing_read_at >= self.RECHECK_SECONDS:
            self._pacing = pacing.paced_campaigns(session)
            self._pacing_read_at = self._monotonic()
        held_back = pacing.held_back_conditions(session, now, self._pacing)
        return claim_next_letter(session, now, lease, token, held_back)


def _deliver_one(
    session: Session,
    relay: SmtpRelay,
    settings: WorkerSettings,
    claim: Claim,
    clock: Clock,
) -> int:
    """Send one claimed email. Whatever goes wrong with it stays with it, except the relay being
    unavailable (RelayUnavailable), which is nobody's email's fault."""
    send = {
        EmailKind.CONFIRMATION: send_confirmation,
        EmailKind.LETTER: send_letter,
        EmailKind.COPY: send_copy,
        EmailKind.NOTICE: send_notice,
        EmailKind.REPLY_CHECK: send_reply_check,
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
    claim: Claim,
    error: Exception,
    clock: Clock,
) -> None:
    # Only the exception's type is logged: its text may quote the supporter's address.
    logger.error(
        "Could not build or send one email (%s); marked as failed",
        type(error).__name__,
        extra={"letter_id": claim.letter_id, "kind": str(claim.kind)},
    )
    result = AttemptResult(
        duration_ms=0,
        smtp_code=None,
        smtp_reply=f"not sent, the email could not be made: {type(error).__name__}: {error}",
    )
    try:
        if claim.kind == EmailKind.LETTER:
            record_permanent_failure(session, claim, result, clock())
        elif claim.kind == EmailKind.CONFIRMATION:
            record_confirmation_permanent_failure(session, claim, result, clock())
        elif claim.kind == EmailKind.REPLY_CHECK:
            reply_checks.record_check_failure(
                session, claim, result, clock(), settings.retry_policy, permanent=True
            )
        elif claim.kind == EmailKind.NOTICE:
            supporter_notices.record_notice_failure(
                session, claim, result, clock(), settings.retry_policy, permanent=True
            )
        else:
            record_copy_failure(
                session, claim, result, clock(), settings.retry_policy, permanent=True
            )
    except SQLAlchemyError as e:
        session.rollback()
        logger.error(
            "Could not record the failure (%s); retried when its lease runs out",
            type(e).__name__,
            extra={"letter_id": claim.letter_id},
        )
