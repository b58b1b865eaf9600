"""Campaigners' side of campaigns: settings, letter template versions, previews, test sends."""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, replace
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mp_mailer.clients.smtp_relay import SmtpRelay, SmtpRelayError
from mp_mailer.db import transaction
from mp_mailer.letter_rendering import (
    LetterEnvelope,
    Supporter,
    TemplateProblem,
    build_letter_message,
    check_template,
    new_message_id,
)
from mp_mailer.models import Campaign, CampaignStatus, CampaignTarget, Letter, LetterTemplate
from mp_mailer.services.campaigns import CampaignNotFound
from mp_mailer.services.letters import current_template, prefill_letter
from mp_mailer.services.mp_lookup import MpDetails

logger = logging.getLogger(__name__)

STARTER_SUBJECT = "{{ campaign.title }}: a letter from your constituent"
STARTER_BODY = """\
Dear {{ mp.address_as }},

I am writing to you as a constituent in {{ constituency }} about {{ campaign.title }}.

[Replace this paragraph with what you want MPs to do, and why.]

I would welcome your reply setting out what you will do.
"""
SAMPLE_SUPPORTER = Supporter(
    name="Sam Sample",
    email="sam.sample@example.org",
    address="1 Sample Street\nLondon",
    postcode="SW1A 1AA",
)
# For previews of text not saved yet: the MP in letter_rendering's sample context.
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
TEMPLATE_FIELDS = {"subject_template": "Subject", "body_template": "Letter"}


class CampaignProblem(Exception):
    """A campaign change we refuse; `field` names the form field it concerns."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class VersionNotFound(Exception):
    pass


class TestSendFailed(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class CampaignDetails:
    """Everything on the campaign settings form, as plain values."""

    title: str
    slug: str
    intro_markdown: str
    thank_you_text: str
    share_text: str
    petition_url: str | None
    is_default: bool
    status: CampaignStatus = CampaignStatus.DRAFT
    target: CampaignTarget = CampaignTarget.CONSTITUENCY_MP


@dataclass(frozen=True)
class CampaignSummary:
    campaign: Campaign
    letters: int
    version: int | None


def list_campaigns(session: Session) -> list[CampaignSummary]:
    """Every campaign, live ones first, with its letter count and current template version."""
    letters = dict(
        session.execute(select(Letter.campaign_id, func.count()).group_by(Letter.campaign_id)).all()
    )
    versions = dict(
        session.execute(
            select(LetterTemplate.campaign_id, func.max(LetterTemplate.version)).group_by(
                LetterTemplate.campaign_id
            )
        ).all()
    )
    order = {CampaignStatus.LIVE: 0, CampaignStatus.DRAFT: 1, CampaignStatus.CLOSED: 2}
    campaigns = sorted(
        session.scalars(select(Campaign).order_by(Campaign.title)),
        key=lambda campaign: order[campaign.status],
    )
    return [
        CampaignSummary(campaign, letters.get(campaign.id, 0), versions.get(campaign.id))
        for campaign in campaigns
    ]


def get_campaign(session: Session, campaign_id: int) -> Campaign:
    """Raises CampaignNotFound."""
    campaign = session.get(Campaign, campaign_id)
    if campaign is None:
        raise CampaignNotFound(str(campaign_id))
    return campaign


def create_campaign(session: Session, details: CampaignDetails, created_by_id: int) -> Campaign:
    """A new campaign with a starter letter (version 1) for the campaigner to rewrite.

    Raises CampaignProblem for a slug in use, or a status or default it cannot have yet.
    """
    _check_details(session, details, None, STARTER_BODY)
    with transaction(session):
        campaign = Campaign()
        _apply(session, campaign, details)
        session.add(
            LetterTemplate(
                campaign_id=campaign.id,
                version=1,
                subject_template=STARTER_SUBJECT,
                body_template=STARTER_BODY,
                created_by_id=created_by_id,
                note="starter letter",
            )
        )
    logger.info("Campaign created", extra={"campaign_id": campaign.id})
    return campaign


def update_campaign(session: Session, campaign: Campaign, details: CampaignDetails) -> None:
    """Raises CampaignProblem, changing nothing."""
    _check_details(
        session, details, campaign.id, current_template(session, campaign.id).body_template
    )
    with transaction(session):
        _apply(session, campaign, details)
    logger.info("Campaign updated", extra={"campaign_id": campaign.id})


def change_status(session: Session, campaign: Campaign, status: CampaignStatus) -> None:
    """Put a campaign live, close it or take it back to draft. Raises CampaignProblem."""
    update_campaign(session, campaign, replace(details_of(campaign), status=status))


def details_of(campaign: Campaign) -> CampaignDetails:
    return CampaignDetails(
        title=campaign.title,
        slug=campaign.slug,
        intro_markdown=campaign.intro_markdown,
        thank_you_text=campaign.thank_you_text,
        share_text=campaign.share_text,
        petition_url=campaign.petition_url,
        is_default=campaign.is_default,
        status=campaign.status,
        target=campaign.target,
    )


def _check_details(
    session: Session, details: CampaignDetails, campaign_id: int | None, letter_body: str
) -> None:
    taken = session.scalar(
        select(Campaign.id).where(Campaign.slug == details.slug, Campaign.id != (campaign_id or 0))
    )
    if taken is not None:
        raise CampaignProblem(
            f"Another campaign already uses the web address /c/{details.slug}: choose another.",
            "slug",
        )
    if details.is_default and details.status == CampaignStatus.DRAFT:
        raise CampaignProblem(
            "A draft can't be the home page campaign: visitors would see nothing. Put it live "
            "first, or untick this box.",
            "is_default",
        )
    if details.status == CampaignStatus.LIVE and letter_body == STARTER_BODY:
        raise CampaignProblem(
            "Write this campaign's letter before putting it live: it still has the starter letter.",
            "status",
        )


def _apply(session: Session, campaign: Campaign, details: CampaignDetails) -> None:
    campaign.title = details.title
    campaign.slug = details.slug
    campaign.status = details.status
    campaign.target = details.target
    campaign.intro_markdown = details.intro_markdown
    campaign.thank_you_text = details.thank_you_text
    campaign.share_text = details.share_text
    campaign.petition_url = details.petition_url or None
    campaign.is_default = details.is_default
    session.add(campaign)
    try:
        session.flush()
    except IntegrityError as e:
        raise CampaignProblem(
            f"Another campaign already uses the web address /c/{details.slug}.", "slug"
        ) from e
    if details.is_default:
        # Only one campaign is shown at "/"; cleared in the same transaction that sets this one.
        session.execute(
            update(Campaign)
            .where(Campaign.id != campaign.id, Campaign.is_default.is_(True))
            .values(is_default=False)
        )


# Letter templates and their versions


class TemplateRefused(Exception):
    """A template that failed validation; nothing was saved."""

    def __init__(self, field: str, problem: TemplateProblem) -> None:
        super().__init__(str(problem))
        self.field = field
        self.message = f"{TEMPLATE_FIELDS[field]}: {problem}"


def save_template(
    session: Session,
    campaign: Campaign,
    subject_template: str,
    body_template: str,
    note: str,
    created_by_id: int,
) -> LetterTemplate | None:
    """Save the text as the next version, which letters use from now on.

    Raises TemplateRefused (nothing saved, the previous version stays in use). Returns None when
    the text is the same as the current version's.
    """
    for field, source in (("subject_template", subject_template), ("body_template", body_template)):
        try:
            check_template(source)
        except TemplateProblem as e:
            raise TemplateRefused(field, e) from e
    current = current_template(session, campaign.id)
    if (current.subject_template, current.body_template) == (subject_template, body_template):
        return None
    with transaction(session):
        template = LetterTemplate(
            campaign_id=campaign.id,
            version=current.version + 1,
            subject_template=subject_template,
            body_template=body_template,
            created_by_id=created_by_id,
            note=note,
        )
        session.add(template)
    logger.info(
        "Letter template saved",
        extra={"campaign_id": campaign.id, "template_version": template.version},
    )
    return template


def roll_back_template(
    session: Session, campaign: Campaign, version: int, created_by_id: int
) -> LetterTemplate:
    """A new version with an old one's text. Raises VersionNotFound, or TemplateRefused when the
    old text would no longer pass today's checks."""
    old = get_version(session, campaign.id, version)
    template = save_template(
        session,
        campaign,
        old.subject_template,
        old.body_template,
        f"rolled back to version {version}",
        created_by_id,
    )
    return template or current_template(session, campaign.id)


def get_version(session: Session, campaign_id: int, version: int) -> LetterTemplate:
    """Raises VersionNotFound."""
    template = session.scalar(
        select(LetterTemplate).where(
            LetterTemplate.campaign_id == campaign_id, LetterTemplate.version == version
        )
    )
    if template is None:
        raise VersionNotFound(f"campaign {campaign_id} has no version {version}")
    return template


@dataclass(frozen=True)
class VersionSummary:
    template: LetterTemplate
    letters: int


def list_versions(session: Session, campaign_id: int) -> list[VersionSummary]:
    """Newest first, each with how many letters were written from it."""
    counts = dict(
        session.execute(
            select(Letter.template_id, func.count())
            .where(Letter.campaign_id == campaign_id)
            .group_by(Letter.template_id)
        ).all()
    )
    templates = session.scalars(
        select(LetterTemplate)
        .where(LetterTemplate.campaign_id == campaign_id)
        .order_by(LetterTemplate.version.desc())
    )
    return [VersionSummary(template, counts.get(template.id, 0)) for template in templates]


@dataclass(frozen=True)
class DiffLine:
    kind: str  # "added", "removed", "context" or "hunk"
    text: str


def diff_versions(old: LetterTemplate, new: LetterTemplate) -> list[DiffLine]:
    """What changed: the subject, then the letter in hunks headed by their line in the new
    version (the numbering error messages use). Empty when the texts are the same."""
    lines: list[DiffLine] = []
    if old.subject_template != new.subject_template:
        lines.append(DiffLine("hunk", "Subject"))
        lines.append(DiffLine("removed", old.subject_template))
        lines.append(DiffLine("added", new.subject_template))
    body = difflib.unified_diff(
        old.body_template.splitlines(), new.body_template.splitlines(), lineterm=""
    )
    kinds = {"+": "added", "-": "removed", " ": "context"}
    for line in body:
        if line.startswith(("---", "+++")):
            continue
        hunk = _HUNK.match(line)
        if hunk:
            lines.append(DiffLine("hunk", f"Letter, from line {hunk.group(1)}"))
        else:
            lines.append(DiffLine(kinds[line[0]], line[1:]))
    return lines


_HUNK = re.compile(r"@@ -\d+(?:,\d+)? \+(\d+)")


# Previews and test sends


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
