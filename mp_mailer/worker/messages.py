"""The emails the worker builds from a letter row: its envelope, and the confirmation email."""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from mp_mailer.db import utcnow
from mp_mailer.email_messages import LetterEnvelope, Supporter, build_plain_message
from mp_mailer.models import Letter
from mp_mailer.services.letters import confirmation_url, make_confirmation_token
from mp_mailer.worker.settings import WorkerSettings


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
