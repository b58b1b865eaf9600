"""The campaign page's petition link for supporters outside the UK: followed through the site,
counted per campaign and day with nothing personal, and the count shown."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import Campaign, PetitionClick, User, UserRole
from mp_mailer.services.petition_clicks import count_petition_clicks, record_petition_click
from tests.factories import create_campaign, create_letter
from tests.pages import path_for, soup, text_of

PETITION = "https://example.org/petition"
PETITION_COUNTS_PER_MINUTE = 10


@pytest.fixture
def campaign(db_session: Session) -> Campaign:
    return create_campaign(db_session, slug="free-tenzin", petition_url=PETITION)


def follow(client: FlaskClient, slug: str = "free-tenzin", **kwargs: Any) -> Any:
    return client.get(path_for("supporter.petition", slug=slug), **kwargs)


def clicks(db_session: Session, campaign: Campaign) -> int:
    db_session.expire_all()
    return count_petition_clicks(db_session, campaign.id)


def test_petition_link_sends_the_supporter_to_the_campaigns_petition(
    client: FlaskClient, campaign: Campaign
) -> None:
    response = follow(client)

    assert response.status_code == 303
    assert response.headers["Location"] == PETITION


def test_petition_link_counts_one_when_followed_once(
    client: FlaskClient, campaign: Campaign, db_session: Session
) -> None:
    follow(client)

    assert clicks(db_session, campaign) == 1


def test_petition_link_counts_two_when_followed_twice(
    client: FlaskClient, campaign: Campaign, db_session: Session
) -> None:
    follow(client)
    follow(client)

    assert clicks(db_session, campaign) == 2
    assert db_session.scalars(select(PetitionClick)).one().count == 2


def test_petition_link_counts_each_campaign_and_day_apart(
    db_session: Session, campaign: Campaign
) -> None:
    other = create_campaign(db_session)
    today = utcnow().date()
    record_petition_click(db_session, campaign.id, today - timedelta(days=1))
    record_petition_click(db_session, campaign.id, today)
    record_petition_click(db_session, other.id, today)

    assert count_petition_clicks(db_session, campaign.id) == 2
    assert count_petition_clicks(db_session, campaign.id, since=today) == 1
    assert count_petition_clicks(db_session, None) == 3


def test_petition_link_is_not_found_when_the_campaign_has_no_petition(
    client: FlaskClient, db_session: Session
) -> None:
    create_campaign(db_session, slug="no-petition", petition_url=None)

    response = follow(client, slug="no-petition")

    assert response.status_code == 404
    assert "Location" not in response.headers


def test_petition_link_is_not_found_when_there_is_no_such_campaign(client: FlaskClient) -> None:
    assert follow(client, slug="no-such-campaign").status_code == 404


def test_petition_link_goes_only_to_the_stored_petition_whatever_is_added_to_it(
    client: FlaskClient, campaign: Campaign
) -> None:
    response = client.get(
        path_for("supporter.petition", slug="free-tenzin", next="https://evil.example")
    )

    assert response.headers["Location"] == PETITION


def test_petition_link_does_not_count_a_head_request(
    client: FlaskClient, campaign: Campaign, db_session: Session
) -> None:
    response = client.head(path_for("supporter.petition", slug="free-tenzin"))

    assert response.status_code == 303
    assert clicks(db_session, campaign) == 0


def test_petition_link_does_not_count_a_link_preview_robot(
    client: FlaskClient, campaign: Campaign, db_session: Session
) -> None:
    follow(client, headers={"User-Agent": "facebookexternalhit/1.1"})
    follow(client, headers={"User-Agent": "WhatsApp/2.23.20.0"})

    assert clicks(db_session, campaign) == 0


def test_petition_link_does_not_count_logged_in_staff(
    client: FlaskClient,
    campaign: Campaign,
    db_session: Session,
    login_as: Callable[..., User],
) -> None:
    login_as(UserRole.CAMPAIGNER)

    follow(client)

    assert clicks(db_session, campaign) == 0


def test_petition_clicks_table_holds_only_the_campaign_the_day_and_a_count(
    db_session: Session,
) -> None:
    columns = {
        column["name"] for column in inspect(db_session.get_bind()).get_columns("petition_clicks")
    }

    assert columns == {"campaign_id", "day", "count"}


def test_campaign_page_links_to_the_petition_through_the_site(
    client: FlaskClient, campaign: Campaign
) -> None:
    page = soup(client.get(path_for("supporter.campaign_page", slug="free-tenzin")))

    link = page.select_one(".outside-uk a")
    assert link is not None
    assert link["href"] == path_for("supporter.petition", slug="free-tenzin")


def test_campaign_page_counts_people_who_followed_the_link_to_the_petition(
    client: FlaskClient, campaign: Campaign, db_session: Session
) -> None:
    create_letter(db_session, campaign)
    for _ in range(3):
        record_petition_click(db_session, campaign.id, utcnow().date())

    page = client.get(path_for("supporter.campaign_page", slug="free-tenzin"))

    assert text_of(page, ".hero__count--petition") == (
        "3 people outside the UK followed the link to the petition"
    )


def test_staff_figures_show_the_petition_link_followed_beside_the_letters(
    client: FlaskClient,
    campaign: Campaign,
    db_session: Session,
    login_as: Callable[..., User],
) -> None:
    create_letter(db_session, campaign)
    record_petition_click(db_session, campaign.id, utcnow().date())
    record_petition_click(db_session, campaign.id, utcnow().date())
    login_as(UserRole.STAFF)

    page = client.get(path_for("send_log.figures", campaign=campaign.id))

    assert text_of(page, ".petition-clicks") == "2"
    assert "beside 1 letter written" in text_of(page, ".petition-figures")


@pytest.fixture
def limited_settings(app_settings: dict[str, Any]) -> None:
    app_settings.update(ratelimit_enabled=True, ratelimit_storage_uri="memory://")


@pytest.fixture
def limited_client(limited_settings: None, client: FlaskClient) -> FlaskClient:
    return client


def test_petition_link_still_sends_on_but_stops_counting_when_one_address_follows_it_too_often(
    limited_client: FlaskClient, campaign: Campaign, db_session: Session
) -> None:
    responses = [follow(limited_client) for _ in range(PETITION_COUNTS_PER_MINUTE + 2)]

    assert {response.headers["Location"] for response in responses} == {PETITION}
    assert clicks(db_session, campaign) == PETITION_COUNTS_PER_MINUTE
