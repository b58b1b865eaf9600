"""What a shared campaign link shows: description and image, and what each falls back to."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mp_mailer.services.share_previews import share_preview
from tests.factories import create_campaign

SITE = "https://write.freetibet.example"


def test_share_preview_uses_the_meta_description_when_the_campaign_has_one(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session, meta_description="Ask your MP to act.")

    preview = share_preview(campaign, f"{SITE}/c/x", SITE, "Free Tibet")

    assert preview.description == "Ask your MP to act."


def test_share_preview_uses_the_share_message_when_there_is_no_meta_description(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session, meta_description="", share_text="I wrote to my MP.")

    assert share_preview(campaign, SITE, SITE, "Free Tibet").description == "I wrote to my MP."


def test_share_preview_cuts_a_long_description_at_a_word_when_over_200_characters(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session, meta_description=("word " * 55).strip())

    description = share_preview(campaign, SITE, SITE, "Free Tibet").description

    assert len(description) <= 200
    assert description.endswith("word…")


def test_share_preview_shows_the_default_image_as_an_absolute_url_when_none_is_set(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)

    preview = share_preview(campaign, SITE, SITE + "/", "Free Tibet")

    assert preview.image_url == f"{SITE}/static/share-default.jpg"
    assert preview.image_is_default


def test_share_preview_shows_the_campaigns_share_image_when_it_replaces_the_default(
    db_session: Session,
) -> None:
    campaign = create_campaign(
        db_session,
        hero_image_url="/static/hero.jpg",
        share_image_url="https://cdn.freetibet.example/share.jpg",
    )

    preview = share_preview(campaign, SITE, SITE, "Free Tibet")

    assert preview.image_url == "https://cdn.freetibet.example/share.jpg"
    assert not preview.image_is_default


def test_share_preview_shows_the_hero_image_when_there_is_no_share_image(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session, hero_image_url="/static/hero.jpg")

    assert share_preview(campaign, SITE, SITE, "x").image_url == f"{SITE}/static/hero.jpg"
