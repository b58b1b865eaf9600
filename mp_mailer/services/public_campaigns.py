"""Campaigns as supporters see them: the one at an address, and its introduction as safe HTML."""

from __future__ import annotations

import functools

import nh3
from markdown_it import MarkdownIt
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, CampaignStatus


class CampaignNotFound(Exception):
    pass


def get_public_campaign(
    session: Session, slug: str | None, include_drafts: bool = False
) -> Campaign:
    """The campaign at /c/<slug>, or the default campaign for slug None.

    Drafts are visible only when include_drafts (a logged-in staff member). Raises CampaignNotFound.
    """
    query = select(Campaign)
    if slug is None:
        query = query.where(Campaign.is_default.is_(True))
    else:
        query = query.where(Campaign.slug == slug)
    campaign = session.scalar(query.limit(1))
    if campaign is None and slug is None:
        campaign = session.scalar(
            select(Campaign).where(Campaign.status == CampaignStatus.LIVE).order_by(Campaign.id)
        )
    if campaign is None or (campaign.status == CampaignStatus.DRAFT and not include_drafts):
        raise CampaignNotFound(slug or "default")
    return campaign


_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
_ALLOWED_TAGS = {"p", "strong", "em", "a", "ul", "ol", "li", "h2", "h3", "blockquote", "br"}


@functools.lru_cache(maxsize=64)
def render_intro(markdown_text: str) -> str:
    """Campaigner Markdown as HTML that is safe to show: no raw HTML, no scripts, safe links.

    Remembered by its text: every view of the campaign page shows the same few introductions."""
    html = _markdown.render(markdown_text)
    return nh3.clean(
        html,
        tags=_ALLOWED_TAGS,
        attributes={"a": {"href", "title"}},
        url_schemes={"http", "https", "mailto"},
        link_rel="noopener noreferrer",
    )
