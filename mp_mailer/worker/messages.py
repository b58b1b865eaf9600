"""The emails the worker builds from a letter row besides the letter itself: the confirmation."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from mp_mailer.db import utcnow
from mp_mailer.email_messages import build_plain_message
from mp_mailer.models import Letter
from mp_mailer.services.supporter_emails import SupporterEmailSettings, confirmation_text
from mp_mailer.worker.settings import WorkerSettings


def confirmation_message(
    letter: Letter, settings: WorkerSettings, sent_on: datetime | None = None
) -> EmailMessage:
    """The confirmation email: plainly the organisation's, with the privacy notice and a link
    that deletes the supporter's details (services.supporter_emails writes its words)."""
    message = build_plain_message(
        mail_from=settings.mail_from,
        to=letter.supporter_email,
        subject=f"Confirm your letter to {letter.mp_name}",
        text=confirmation_text(letter, supporter_email_settings(settings)),
        message_id=make_msgid(idstring="confirm", domain=settings.mail_from.domain or None),
    )
    message["Date"] = format_datetime(sent_on or utcnow())
    return message


def supporter_email_settings(settings: WorkerSettings) -> SupporterEmailSettings:
    return SupporterEmailSettings(
        secret_key=settings.secret_key,
        public_url=settings.public_url,
        mail_from=settings.mail_from,
        confirmation_max_age_hours=settings.confirmation_max_age_hours,
    )
