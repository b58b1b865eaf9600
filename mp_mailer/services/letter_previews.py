"""Previews of a campaign's letter as an MP would receive it, and test sends to the campaigner."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.clients.smtp_replies import SmtpRelayError
from mp_mailer.email_messages import LetterEnvelope, Supporter, build_letter_message, new_message_id
from mp_mailer.errors import DomainError
from mp_mailer.models import Campaign, LetterTemplate
from mp_mailer.services.letters import prefill_letter
from mp_mailer.services.mp_cache import MpDetails
from mp_mailer.services.template_versions import check_template_text

logger = logging.getLogger(__name__)

SAMPLE_SUPPORTER = Supporter(
    name="Sam Sample",
    email="sam.sample@example.org",
    address="1 Sample Street\nLondon",
    postcode="SW1A 1AA",
)
# For previews of text not saved yet: the MP in letter_templates's sample context.
SAMPLE_MP = MpDetails(
    id=0,
    name="Ms Diane Abbott",
    address_as="Ms Abbott",
    full_title="Rt Hon Diane Abbott MP",
    party="Independent",
    party_colour=None,
    constituency_id=0,
    constituency_name="Hackney North and Stoke Newington",
    thumbnail_url=None,
    email="diane.abbott.office@parliament.uk",
    postal_address=None,
    phone=None,
    contact_page_url=None,
)
# Shown as the recipient when Parliament lists no email for an MP; .invalid never delivers.
NO_EMAIL_ADDRESS = "no-public-email@parliament.invalid"


class TestSendFailed(DomainError):
    """The relay refused or could not take the test email."""


@dataclass(frozen=True)
class LetterPreview:
    """The email an MP would receive from a sample supporter, built as the worker builds it."""

    envelope: LetterEnvelope
    message: EmailMessage
    mp: MpDetails
    version: int

    @property
    def headers(self) -> list[tuple[str, str]]:
        return [(name, str(value)) for name, value in self.message.items()]

    @property
    def text(self) -> str:
        content: str = self.message.get_content()
        return content


def sample_supporter(postcode: str | None) -> Supporter:
    """The sample supporter, living at the postcode the campaigner looked up, if any."""
    return replace(SAMPLE_SUPPORTER, postcode=postcode) if postcode else SAMPLE_SUPPORTER


def preview_letter(
    template: LetterTemplate,
    campaign: Campaign,
    mp: MpDetails,
    *,
    campaign_url: str,
    now: datetime,
    mail_from: Address,
    redirect_to: str | None,
    supporter: Supporter = SAMPLE_SUPPORTER,
) -> LetterPreview:
    """Raises TemplateProblem if this MP's details make the template fail."""
    subject, body = prefill_letter(template, campaign, mp, campaign_url, now)
    envelope = LetterEnvelope(
        message_id=new_message_id(mail_from.domain),
        subject=subject,
        body=body,
        supporter=supporter,
        mp_name=mp.name,
        mp_email=mp.email or NO_EMAIL_ADDRESS,
        send_copy=False,
    )
    message = build_letter_message(envelope, mail_from, redirect_to, sent_on=now)
    return LetterPreview(envelope, message, mp, template.version)


def preview_unsaved_template(
    subject_template: str,
    body_template: str,
    campaign: Campaign,
    *,
    campaign_url: str,
    now: datetime,
    mail_from: Address,
    redirect_to: str | None,
) -> LetterPreview:
    """The letter from text not saved yet, from the sample supporter to the sample MP.

    Raises TemplateRefused (naming the field) for text the sandbox refuses; nothing is saved."""
    check_template_text(subject_template, body_template)
    draft = LetterTemplate(
        version=0, subject_template=subject_template, body_template=body_template
    )
    return preview_letter(
        draft,
        campaign,
        SAMPLE_MP,
        campaign_url=campaign_url,
        now=now,
        mail_from=mail_from,
        redirect_to=redirect_to,
    )


def send_test_letter(
    relay: SmtpRelay, preview: LetterPreview, to: str, mail_from: Address, now: datetime
) -> None:
    """Send the previewed letter to `to` only, marked as a test. Raises TestSendFailed."""
    envelope = replace(
        preview.envelope,
        subject=f"[Test] {preview.envelope.subject}",
        message_id=new_message_id(mail_from.domain),
    )
    # Redirecting puts `to` in place of the MP and says at the top who it would have gone to.
    message = build_letter_message(envelope, mail_from, redirect_to=to, sent_on=now)
    try:
        with relay:
            relay.send(message)
    except SmtpRelayError as e:
        raise TestSendFailed(
            f"The test email could not be sent: the mail server said “{e}”. Please try again "
            "in a few minutes, or ask whoever runs this site to check the SMTP settings."
        ) from e
    logger.info("Test letter sent", extra={"template_version": preview.version})
