"""What the delivery worker is given and raises: its settings, its clock, and the relay being
unavailable to everyone."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.headerregistry import Address

from mp_mailer.services.bounce_addresses import BounceAddresses
from mp_mailer.services.outbox.transitions import RetryPolicy

Clock = Callable[[], datetime]


@dataclass(frozen=True)
class WorkerSettings:
    secret_key: str
    public_url: str
    mail_from: Address
    mail_redirect_to: str | None
    retry_policy: RetryPolicy
    lease: timedelta
    poll_seconds: float
    confirmation_max_age_hours: int
    relay_outage_max_wait: timedelta = timedelta(minutes=10)
    # Each letter's own envelope sender (VERP) when BOUNCE_ADDRESS is set.
    bounce_addresses: BounceAddresses | None = None
    # Days after a letter is sent that its supporter is asked whether the MP replied; 0: never.
    reply_check_days: int = 14


class RelayUnavailable(Exception):
    """The relay could not be reached or refused our login: nothing was attempted."""
