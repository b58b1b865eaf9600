"""Campaign settings below the pages: the list, statuses and the home page campaign."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy.orm import Session

from mp_mailer.models import CampaignStatus
from mp_mailer.services import campaign_settings as settings
from tests.factories import create_campaign


def test_list_campaigns_puts_live_campaigns_first_then_drafts_then_closed(
    db_session: Session,
) -> None:
    create_campaign(db_session, title="A closed", status=CampaignStatus.CLOSED)
    create_campaign(db_session, title="B draft", status=CampaignStatus.DRAFT)
    create_campaign(db_session, title="C live", status=CampaignStatus.LIVE)

    titles = [summary.campaign.title for summary in settings.list_campaigns(db_session)]

    assert titles == ["C live", "B draft", "A closed"]


def test_change_status_refuses_a_draft_when_the_campaign_is_on_the_home_page(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session, is_default=True)

    with pytest.raises(settings.CampaignProblem) as refused:
        settings.change_status(db_session, campaign, CampaignStatus.DRAFT)

    assert refused.value.field == "is_default"
    db_session.expire_all()
    assert campaign.status == CampaignStatus.LIVE


def test_update_campaign_refuses_a_next_ask_link_without_button_words(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    details = replace(settings.details_of(campaign), next_ask_url="https://example.org/donate")

    with pytest.raises(settings.CampaignProblem) as refused:
        settings.update_campaign(db_session, campaign, details)

    assert refused.value.field == "next_ask_text"


def test_update_campaign_saves_how_it_looks_and_travels_when_every_field_is_given(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    details = replace(
        settings.details_of(campaign),
        hero_image_url="/static/hero.jpg",
        share_image_url="https://cdn.example.org/share.jpg",
        meta_description="Ask your MP.",
        target_letters=5000,
        next_ask_text="Donate",
        next_ask_url="https://example.org/donate",
    )

    settings.update_campaign(db_session, campaign, details)

    db_session.expire_all()
    assert settings.details_of(campaign) == details
