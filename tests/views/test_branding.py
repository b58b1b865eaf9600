"""Every page speaks for the organisation: its name, logo, colour and favicon, never the tool's."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.pages import ClientRequest, soup


def test_page_title_ends_with_the_organisation_name_when_it_comes_from_mail_from(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    page = client_request.get("supporter.campaign_page")

    assert page.soup.title.get_text() == "Ban Chen Quanguo · Free Tibet"


@pytest.mark.parametrize("app_settings", [{"organisation_name": "Free Tibet UK"}])
def test_page_header_names_organisation_name_when_it_is_set(
    seeded_client: FlaskClient, client_request: ClientRequest, app_settings: dict[str, Any]
) -> None:
    page = client_request.get("supporter.campaign_page")

    assert page.soup.title.get_text().endswith(" · Free Tibet UK")
    assert "Free Tibet UK" in page.text(".site-header__brand")


@pytest.mark.parametrize(
    "endpoint", ["supporter.campaign_page", "auth.login", "supporter.thank_you"]
)
def test_supporter_pages_never_name_the_software_when_shown(
    seeded_client: FlaskClient, client_request: ClientRequest, endpoint: str
) -> None:
    slug = {"supporter.thank_you": {"slug": "ban-chen-quanguo"}}.get(endpoint, {})

    page = client_request.get(endpoint, **slug)

    assert "mp_mailer" not in page.soup.get_text()
    assert "mp-mailer" not in page.soup.get_text()


@pytest.mark.parametrize(
    "app_settings", [{"organisation_logo_url": "https://freetibet.example/logo.svg"}]
)
def test_page_header_shows_the_logo_named_for_the_organisation_when_a_logo_is_set(
    seeded_client: FlaskClient, client_request: ClientRequest, app_settings: dict[str, Any]
) -> None:
    logo = client_request.get("supporter.campaign_page").soup.select_one(".site-header__logo")

    assert logo is not None
    assert (logo["src"], logo["alt"]) == ("https://freetibet.example/logo.svg", "Free Tibet")


def test_favicon_is_the_bundled_icon_when_no_favicon_url_is_set(client: FlaskClient) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 200
    assert response.data[:4] == b"\x00\x00\x01\x00"
    response.close()


@pytest.mark.parametrize("app_settings", [{"favicon_url": "https://freetibet.example/icon.png"}])
def test_favicon_redirects_to_the_organisations_icon_when_favicon_url_is_set(
    client: FlaskClient, app_settings: dict[str, Any]
) -> None:
    response = client.get("/favicon.ico")

    assert response.status_code == 302
    assert response.headers["Location"] == "https://freetibet.example/icon.png"


@pytest.mark.parametrize("app_settings", [{"favicon_url": "https://freetibet.example/icon.png"}])
def test_pages_link_the_organisations_icon_when_favicon_url_is_set(
    seeded_client: FlaskClient, client_request: ClientRequest, app_settings: dict[str, Any]
) -> None:
    icon = client_request.get("supporter.campaign_page").soup.select_one("link[rel=icon]")

    assert icon is not None
    assert icon["href"] == "https://freetibet.example/icon.png"


@pytest.mark.parametrize("app_settings", [{"brand_colour": "#1d4ed8"}])
def test_brand_stylesheet_sets_the_brand_colour_when_brand_colour_is_set(
    client: FlaskClient, app_settings: dict[str, Any]
) -> None:
    response = client.get("/brand.css")

    assert response.mimetype == "text/css"
    assert "--brand: #1d4ed8;" in response.text
    assert "--brand-dark: #163ca6;" in response.text


def test_pages_load_the_brand_stylesheet_and_the_site_script_from_the_site(
    seeded_client: FlaskClient,
) -> None:
    page = soup(seeded_client.get("/"))

    assert [link["href"] for link in page.select("link[rel=stylesheet]")] == [
        "/static/site.css",
        "/brand.css",
    ]
    assert [script.get("src") for script in page.select("script")] == ["/static/site.js"]


def test_site_script_is_served_as_javascript(client: FlaskClient) -> None:
    response = client.get("/static/site.js")

    assert response.mimetype in ("text/javascript", "application/javascript")
    assert "error-summary" in response.text
    response.close()


def test_staff_pages_show_no_supporters_privacy_note_when_a_campaigner_is_logged_in(
    client_request: ClientRequest, login_as: Any
) -> None:
    login_as("campaigner")

    footer = client_request.get("campaigns.list_campaigns").text(".site-footer")

    assert "uses your details only to send your letter" not in footer
    assert "Staff pages of Free Tibet" in footer


def test_supporter_pages_show_the_privacy_note_when_shown_to_supporters(
    seeded_client: FlaskClient, client_request: ClientRequest
) -> None:
    footer = client_request.get("supporter.campaign_page").text(".site-footer")

    assert "Free Tibet uses your details only to send your letter" in footer


def test_error_page_title_starts_with_error_when_a_page_is_not_found(
    client_request: ClientRequest,
) -> None:
    response = client_request.client.get("/no-such-page")

    assert soup(response).title.get_text().startswith("Error: Page not found")
