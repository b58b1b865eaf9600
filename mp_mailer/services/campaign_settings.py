"""Campaign settings for campaigners: the list, a new campaign, its texts, address and status.

A new campaign starts as a draft with a starter letter (version 1) to rewrite."""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.errors import DomainError
from mp_mailer.models import Campaign, CampaignStatus, CampaignTarget, Letter, LetterTemplate
from mp_mailer.services.letters import current_template
from mp_mailer.services.public_campaigns import CampaignNotFound

logger = logging.getLogger(__name__)

STARTER_SUBJECT = "{{ campaign.title }}: a letter from your constituent"
STARTER_BODY = """\
Dear {{ mp.address_as }},

I am writing to you as a constituent in {{ constituency }} about {{ campaign.title }}.

[Replace this paragraph with what you want MPs to do, and why.]

I would welcome your reply setting out what you will do.
"""


class CampaignProblem(DomainError):
    """A campaign change we refuse; `field` names the form field it concerns."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.field = field


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
    hero_image_url: str | None = None
    share_image_url: str | None = None
    meta_description: str = ""
    target_letters: int | None = None
    next_ask_text: str = ""
    next_ask_url: str | None = None
    # Personal touch: the minimum of supporters' own sentences (0: none), and the line at the
    # foot of each letter saying how much of it is in their own words.
    min_own_sentences: int = 0
    footer_own_words_line: bool = False
    # Replies and public figures.
    track_replies: bool = True
    public_reply_figures: bool = False


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
        hero_image_url=campaign.hero_image_url,
        share_image_url=campaign.share_image_url,
        meta_description=campaign.meta_description,
        target_letters=campaign.target_letters,
        next_ask_text=campaign.next_ask_text,
        next_ask_url=campaign.next_ask_url,
        min_own_sentences=campaign.min_own_sentences,
        footer_own_words_line=campaign.footer_own_words_line,
        track_replies=campaign.track_replies,
        public_reply_figures=campaign.public_reply_figures,
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
    if bool(details.next_ask_text) != bool(details.next_ask_url):
        raise CampaignProblem(
            "Give the next ask both its button words and its link, or leave both empty.",
            "next_ask_text" if details.next_ask_url else "next_ask_url",
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
    campaign.hero_image_url = details.hero_image_url or None
    campaign.share_image_url = details.share_image_url or None
    campaign.meta_description = details.meta_description
    campaign.target_letters = details.target_letters
    campaign.next_ask_text = details.next_ask_text
    campaign.next_ask_url = details.next_ask_url or None
    campaign.min_own_sentences = details.min_own_sentences
    campaign.footer_own_words_line = details.footer_own_words_line
    campaign.track_replies = details.track_replies
    campaign.public_reply_figures = details.public_reply_figures
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
