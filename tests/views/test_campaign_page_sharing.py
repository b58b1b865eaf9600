"""The supporter's pages as a campaign shares them: link previews, progress, the letter page's
banner, button words, the thank-you page's next ask and copy-link button."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import update
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, LetterStatus
from mp_mailer.services.seed import BAN_CHEN_SLUG
from tests.factories import create_campaign, create_letter
from tests.journeys import LETTER_URL
from tests.pages import ClientRequest, Page


def meta(page: Page, key: str) -> str:
    tag = page.soup.select_one(f'meta[property="{key}"], meta[name="{key}"]')
    assert tag is not None, f"no {key} tag"
    return str(tag["content"])


def set_campaign(db_session: Session, **values: Any) -> None:
    db_session.execute(update(Campaign).where(Campaign.slug == BAN_CHEN_SLUG).values(**values))
    db_session.commit()


def test_campaign_page_tells_crawlers_its_title_description_url_and_image_when_shared(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get("supporter.campaign_page", slug=BAN_CHEN_SLUG)

    assert meta(page, "og:title") == "Ban Chen Quanguo"
    assert meta(page, "og:site_name") == "Free Tibet"
    assert meta(page, "og:url") == "http://localhost/c/ban-chen-quanguo"
    assert meta(page, "og:image") == "http://localhost/static/share-default.jpg"
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "description").startswith("Chen Quanguo built a police state in Tibet")
    assert meta(page, "og:description") == meta(page, "description")


def test_campaign_page_shows_the_campaigns_share_image_when_it_replaces_the_default(
    seeded_client: FlaskClient, client_request: ClientRequest, db_session: Session
) -> None:
    set_campaign(db_session, share_image_url="https://cdn.freetibet.example/ban-chen.jpg")

    page = client_request.get("supporter.campaign_page", slug=BAN_CHEN_SLUG)

    assert meta(page, "og:image") == "https://cdn.freetibet.example/ban-chen.jpg"
    assert meta(page, "twitter:image") == "https://cdn.freetibet.example/ban-chen.jpg"


def test_campaign_page_shows_the_hero_image_when_the_campaign_has_one(
    seeded_client: FlaskClient, client_request: ClientRequest, db_session: Session
) -> None:
    set_campaign(db_session, hero_image_url="/static/share-default.jpg")

    image = client_request.get("supporter.campaign_page").soup.select_one(".hero__image")

    assert image is not None
    assert image["src"] == "/static/share-default.jpg"


def test_campaign_page_shows_progress_towards_the_target_when_the_campaign_sets_one(
    client_request: ClientRequest, db_session: Session
) -> None:
    campaign = create_campaign(db_session, target_letters=20)
    for mp_id in (1, 2, 2):
        create_letter(db_session, campaign, status=LetterStatus.SENT, mp_id=mp_id)

    page = client_request.get("supporter.campaign_page", slug=campaign.slug)

    assert page.text(".progress__label") == (
        "3 of 20 letters sent to MPs so far, reaching 2 of 650 MPs"
    )
    assert page.soup.select_one(".progress__fill--15") is not None


def test_campaign_page_shows_no_progress_bar_when_the_campaign_sets_no_target(
    client_request: ClientRequest, db_session: Session
) -> None:
    campaign = create_campaign(db_session, target_letters=None)
    create_letter(db_session, campaign, status=LetterStatus.SENT)

    page = client_request.get("supporter.campaign_page", slug=campaign.slug)

    assert page.soup.select_one(".progress") is None
    assert page.text(".hero__count") == "1 letter sent to MPs so far, reaching 1 of 650 MPs"


def test_postcode_field_asks_phones_for_capitals_and_no_spelling_fixes(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    field = client_request.get("supporter.campaign_page").soup.select_one("#postcode")

    assert field is not None
    assert (field["autocapitalize"], field["spellcheck"]) == ("characters", "false")


def test_campaign_page_title_starts_with_error_when_the_postcode_is_refused(
    seeded_client: FlaskClient, post_form: Any
) -> None:
    page = Page.checked(post_form("/", {"postcode": "12345"}), 200, "Error: Ban Chen Quanguo")

    assert page.errors


def test_letter_page_keeps_the_campaigns_title_and_hero_when_writing(
    seeded_client: FlaskClient, client_request: ClientRequest, db_session: Session
) -> None:
    set_campaign(db_session, hero_image_url="/static/share-default.jpg")

    page = client_request.get("supporter.write_letter", slug=BAN_CHEN_SLUG, postcode="SW1A 1AA")

    assert page.text(".hero__title") == "Ban Chen Quanguo"
    assert page.soup.select_one(".hero .hero__image") is not None


def test_letter_form_button_says_it_emails_a_confirmation_link_when_confirmation_is_required(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get("supporter.write_letter", slug=BAN_CHEN_SLUG, postcode="SW1A 1AA")

    assert page.text(".letter-form button[name=send]") == "Email me the confirmation link"


@pytest.mark.parametrize("app_settings", [{"require_confirmation": False}])
def test_letter_form_button_says_it_sends_the_letter_when_no_confirmation_is_required(
    seeded_client: FlaskClient, client_request: ClientRequest, app_settings: dict[str, Any]
) -> None:
    page = client_request.get("supporter.write_letter", slug=BAN_CHEN_SLUG, postcode="SW1A 1AA")

    assert page.text(".letter-form button[name=send]") == "Send my letter"


def test_letter_page_has_no_inline_script_when_shown(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get("supporter.write_letter", slug=BAN_CHEN_SLUG, postcode="SW1A 1AA")

    assert all(script.get("src") for script in page.soup.select("script"))
    assert page.soup.select("[onclick], [onload], [onsubmit]") == []


def test_thank_you_page_offers_the_campaigns_next_ask_when_it_sets_one(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get("supporter.thank_you", slug=BAN_CHEN_SLUG)

    ask = page.soup.select_one(".next-ask a")
    assert ask is not None
    assert ask.get_text() == "Sign the petition to the Foreign Secretary"
    assert ask["href"] == "https://freetibet.org/take-action/ban-chen"


def test_thank_you_page_has_no_next_ask_when_the_campaign_sets_none(
    client_request: ClientRequest, db_session: Session
) -> None:
    campaign = create_campaign(db_session, next_ask_text="", next_ask_url=None)

    page = client_request.get("supporter.thank_you", slug=campaign.slug)

    assert page.soup.select_one(".next-ask") is None


def test_thank_you_page_shows_the_link_to_copy_with_a_button_the_script_reveals(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get("supporter.thank_you", slug=BAN_CHEN_SLUG)

    link = page.soup.select_one("#campaign-link")
    button = page.soup.select_one("[data-copy-target=campaign-link]")
    assert link is not None and button is not None
    assert link["value"] == "http://localhost/c/ban-chen-quanguo"
    # Hidden without JavaScript, where it could not work; the link is still there to copy.
    assert button.has_attr("hidden")


def test_expired_letter_form_names_the_button_to_press_again_when_its_token_expired(
    seeded_client: FlaskClient, client: FlaskClient
) -> None:
    response = client.post(
        LETTER_URL, data={"postcode": "SW1A 1AA", "body": "Dear Ms Abbott", "csrf_token": "x"}
    )

    assert "press “Email me the confirmation link” again" in response.text
