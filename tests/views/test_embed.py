"""The embed: a compact campaign page for other sites' iframes, the only page that may be framed."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, CampaignStatus
from mp_mailer.services.seed import BAN_CHEN_SLUG
from mp_mailer.views.framing import is_frameable
from tests.factories import create_campaign
from tests.pages import ClientRequest, path_for


def test_embed_shows_the_campaign_and_a_postcode_form_that_opens_the_full_site(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get(
        "supporter.embed", slug=BAN_CHEN_SLUG, _expected_title="Ban Chen Quanguo"
    )

    form = page.soup.select_one("form")
    assert page.text(".hero__title") == "Ban Chen Quanguo"
    assert form is not None
    assert (form["method"], form["action"], form["target"]) == (
        "get",
        path_for("supporter.write_letter", slug=BAN_CHEN_SLUG),
        "_top",
    )
    assert page.soup.select_one(".site-header") is None


def test_embed_form_leads_to_the_letter_for_the_postcode_when_submitted(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get("supporter.write_letter", slug=BAN_CHEN_SLUG, postcode="sw1a1aa")

    assert "Diane Abbott" in page.text(".mp-card")


def test_embed_links_to_the_campaign_page_without_needing_script(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get("supporter.embed", slug=BAN_CHEN_SLUG)

    links = [a["href"] for a in page.soup.select("main a[target=_top]")]
    assert "http://localhost/c/ban-chen-quanguo" in links
    assert page.soup.select("main script") == []


def test_embed_says_the_campaign_has_closed_when_it_no_longer_accepts_letters(
    client_request: ClientRequest, db_session: Session
) -> None:
    campaign = create_campaign(db_session, status=CampaignStatus.CLOSED)

    page = client_request.get("supporter.embed", slug=campaign.slug)

    assert page.soup.select_one("form") is None
    assert "This campaign has closed" in page.text("main")


def test_embed_is_the_only_view_marked_frameable(app: Flask) -> None:
    frameable = sorted(
        endpoint for endpoint, view in app.view_functions.items() if is_frameable(view)
    )

    assert frameable == ["supporter.embed"]


def test_campaign_admin_page_offers_the_embed_snippet_with_a_fallback_link(
    seeded_client: FlaskClient, client_request: ClientRequest, login_as: Any, db_session: Session
) -> None:
    login_as("campaigner")
    campaign_id = db_session.scalar(select(Campaign.id).where(Campaign.slug == BAN_CHEN_SLUG))

    page = client_request.get("campaigns.show_campaign", campaign_id=campaign_id)

    snippet = page.text("#embed-snippet")
    assert '<iframe src="http://localhost/c/ban-chen-quanguo/embed"' in snippet
    assert 'title="Write to your MP: Ban Chen Quanguo"' in snippet
    assert '<a href="http://localhost/c/ban-chen-quanguo">' in snippet
    assert "<script" not in snippet


def test_embed_response_lets_other_sites_frame_it_when_served(
    seeded_client: FlaskClient,
) -> None:
    response = seeded_client.get(path_for("supporter.embed", slug=BAN_CHEN_SLUG))

    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers


def test_campaign_page_refuses_framing_when_served(seeded_client: FlaskClient) -> None:
    response = seeded_client.get(path_for("supporter.campaign_page", slug=BAN_CHEN_SLUG))

    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
