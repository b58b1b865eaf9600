"""The campaign settings page's "how it looks and travels" fields: saved, and refused when wrong."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, User, UserRole
from tests.factories import create_campaign
from tests.pages import page_errors, path_for

SETTINGS = {
    "title": "Free Tenzin",
    "slug": "free-tenzin",
    "status": "draft",
    "target": "constituency_mp",
    "intro_markdown": "Tenzin has been detained for **ten years**.",
    "thank_you_text": "Thank you for writing.",
    "share_text": "I wrote to my MP about Tenzin.",
}


@pytest.fixture
def campaigner(login_as: Callable[..., User]) -> User:
    return login_as(UserRole.CAMPAIGNER)


@pytest.fixture
def campaign(db_session: Session) -> Campaign:
    return create_campaign(db_session, slug="free-tenzin", title="Free Tenzin")


def save(post_form: Any, campaign: Campaign, **fields: str) -> Any:
    return post_form(
        path_for("campaigns.edit_campaign", campaign_id=campaign.id), {**SETTINGS, **fields}
    )


def test_campaign_settings_save_the_banner_share_target_and_next_ask_when_given(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    save(
        post_form,
        campaign,
        hero_image_url="/static/tenzin.jpg",
        share_image_url="https://cdn.example.org/tenzin-share.jpg",
        meta_description="Tenzin has been detained for ten years.",
        target_letters="5000",
        next_ask_text="Donate to the campaign",
        next_ask_url="https://example.org/donate",
    )

    db_session.expire_all()
    saved = db_session.get(Campaign, campaign.id)
    assert saved is not None
    assert (saved.hero_image_url, saved.share_image_url, saved.target_letters) == (
        "/static/tenzin.jpg",
        "https://cdn.example.org/tenzin-share.jpg",
        5000,
    )
    assert (saved.meta_description, saved.next_ask_text, saved.next_ask_url) == (
        "Tenzin has been detained for ten years.",
        "Donate to the campaign",
        "https://example.org/donate",
    )


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hero_image_url", "javascript:alert(1)", "Enter the image's full web address"),
        ("share_image_url", "//evil.example/x.jpg", "Enter the image's full web address"),
        ("target_letters", "0", "Enter a number of letters, like 5000."),
        ("next_ask_url", "ftp://example.org", "Enter a full web address starting with https://"),
    ],
)
def test_campaign_settings_refuse_a_look_field_when_it_is_not_usable(
    campaigner: User, post_form: Any, campaign: Campaign, field: str, value: str, message: str
) -> None:
    response = save(post_form, campaign, **{field: value})

    assert response.status_code == 200
    assert message in page_errors(response)


def test_campaign_settings_refuse_a_next_ask_without_its_link_when_only_words_are_given(
    campaigner: User, post_form: Any, campaign: Campaign
) -> None:
    response = save(post_form, campaign, next_ask_text="Donate")

    assert "Give the next ask both its button words and its link" in page_errors(response)
