"""The emails a supporter receives from the campaign, each plainly the organisation's, opening
with nothing the supporter (or someone using their address) typed, and each ending with the
privacy notice's address and a signed link to delete their details.

The worker sends the confirmation email; its text is built by confirmation_message() here, so
the worker's own confirmation_message only needs to delegate to it."""

from __future__ import annotations

from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage

from mp_mailer.email_messages import build_plain_message
from mp_mailer.models import Letter
from mp_mailer.services.letters import confirmation_url, make_confirmation_token
from mp_mailer.services.supporter_data import erasure_url, make_erasure_token


@dataclass(frozen=True)
class SupporterEmailSettings:
    secret_key: str
    public_url: str
    mail_from: Address
    confirmation_max_age_hours: int

    @property
    def organisation(self) -> str:
        return self.mail_from.display_name or self.mail_from.domain

    @property
    def privacy_url(self) -> str:
        return f"{self.public_url.rstrip('/')}/privacy"


def privacy_footer(letter: Letter, settings: SupporterEmailSettings) -> str:
    erase_link = erasure_url(
        settings.public_url, make_erasure_token(settings.secret_key, letter.id)
    )
    return (
        "--\n"
        f"{settings.organisation} is the data controller for the details you gave us. "
        f"How we use them: {settings.privacy_url}\n"
        f"To delete your details from our records (a letter already sent stays sent):\n"
        f"{erase_link}\n"
    )


def confirmation_text(letter: Letter, settings: SupporterEmailSettings) -> str:
    link = confirmation_url(
        settings.public_url, make_confirmation_token(settings.secret_key, letter.id)
    )
    return (
        f"This is {settings.organisation}, about our campaign “{letter.campaign.title}”.\n\n"
        f"Someone used this email address to write a letter to {letter.mp_name}, MP for "
        f"{letter.constituency_name}. It has not been sent. To read it and send it, open this "
        "link and press “Send my letter”:\n\n"
        f"{link}\n\n"
        f"The link expires in {settings.confirmation_max_age_hours} hours.\n\n"
        "If you didn't write this letter, ignore this email and nothing will be sent.\n\n"
        f"{privacy_footer(letter, settings)}"
    )


def confirmation_message(letter: Letter, settings: SupporterEmailSettings) -> EmailMessage:
    return build_plain_message(
        mail_from=settings.mail_from,
        to=letter.supporter_email,
        subject=f"{settings.organisation}: confirm your letter to {letter.mp_name}",
        text=confirmation_text(letter, settings),
    )


def already_written_message(letter: Letter, settings: SupporterEmailSettings) -> EmailMessage:
    """To the supporter who wrote first, when someone submits another letter as them."""
    text = (
        f"This is {settings.organisation}, about our campaign “{letter.campaign.title}”.\n\n"
        f"Someone, perhaps you, has just tried to write to {letter.mp_name} again with this "
        "email address. Your letter to them was already received, so nothing new was sent and "
        "your letter has not changed. Each supporter sends one letter to their MP.\n\n"
        "If this wasn't you, there is nothing you need to do.\n\n"
        f"{privacy_footer(letter, settings)}"
    )
    return build_plain_message(
        mail_from=settings.mail_from,
        to=letter.supporter_email,
        subject=f"{settings.organisation}: your letter to {letter.mp_name}",
        text=text,
    )
