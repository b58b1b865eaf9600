"""What a shared link to a campaign shows: title, description and image (Open Graph, Twitter)."""

from __future__ import annotations

from dataclasses import dataclass

from mp_mailer.models import Campaign

DEFAULT_SHARE_IMAGE_PATH = "/static/share-default.jpg"
# What crawlers keep of a description; longer ones are cut at a word.
DESCRIPTION_LIMIT = 200


@dataclass(frozen=True)
class SharePreview:
    url: str
    title: str
    description: str
    image_url: str
    site_name: str
    # The default image's size is known; a campaign's own image is whatever it is.
    image_is_default: bool


def share_preview(
    campaign: Campaign, campaign_url: str, site_url: str, site_name: str
) -> SharePreview:
    """The preview for `campaign_url`; image paths become absolute on `site_url` for crawlers."""
    image = campaign.share_image_url or campaign.hero_image_url or DEFAULT_SHARE_IMAGE_PATH
    return SharePreview(
        url=campaign_url,
        title=campaign.title,
        description=_shortened(
            campaign.meta_description
            or campaign.share_text
            or f"Write to your MP about {campaign.title}: it takes two minutes."
        ),
        image_url=absolute_url(image, site_url),
        site_name=site_name,
        image_is_default=image == DEFAULT_SHARE_IMAGE_PATH,
    )


def absolute_url(address: str, site_url: str) -> str:
    if address.startswith("/") and not address.startswith("//"):
        return site_url.rstrip("/") + address
    return address


def _shortened(text: str) -> str:
    text = " ".join(text.split())
    if len(text) <= DESCRIPTION_LIMIT:
        return text
    return text[: DESCRIPTION_LIMIT - 1].rsplit(" ", 1)[0] + "…"
