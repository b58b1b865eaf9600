"""What supporters see for the Members API as it really is: suspended MPs, greetings, where
the letter goes, null party colours, and lookups kept within Parliament's patience."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.models import Letter
from tests.conftest import MEMBERS_API_URL
from tests.journeys import letter_page_path, the_letter, write_letter
from tests.members_api_fixtures import add_postcode_responses, load_fixture

SEARCH_URL = f"{MEMBERS_API_URL}/Location/Constituency/Search"
# Letters A-Z without those never used in an inward code, for well-formed made-up postcodes.
INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"


def letter_page(client: FlaskClient, postcode: str) -> BeautifulSoup:
    response = client.get(letter_page_path(postcode))
    assert response.status_code == 200
    return BeautifulSoup(response.data, "html.parser")


def searches(members_api: responses.RequestsMock) -> int:
    return sum(call.request.url.startswith(SEARCH_URL) for call in members_api.calls)


def made_up_postcodes(count: int) -> list[str]:
    letters = INWARD_LETTERS
    return [f"SW1A {n % 10}{letters[n // 10 % 20]}{letters[n // 200 % 20]}" for n in range(count)]


def test_letter_step_offers_the_letter_form_when_the_mp_is_suspended(
    seeded_client: FlaskClient, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "NN8 1AA")

    page = letter_page(seeded_client, "NN8 1AA")

    assert page.select_one("form.letter-form") is not None
    assert "Mr Peter Bone" in page.select_one(".mp-card__name").get_text()  # type: ignore[union-attr]
    assert "Dear Mr Bone," in page.get_text()


def test_letter_step_greets_the_mp_as_parliament_does_when_address_as_is_null(
    seeded_client: FlaskClient, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "IV1 1AA")

    page = letter_page(seeded_client, "IV1 1AA")

    assert "Dear Mr MacDonald," in page.get_text()
    assert "Dear Mr Angus MacDonald" not in page.get_text()


@pytest.mark.parametrize("postcode", ["PR7 1AA", "CO15 1AA"])
def test_letter_step_shows_the_mp_card_in_a_neutral_colour_when_party_colours_are_null(
    seeded_client: FlaskClient, members_api: responses.RequestsMock, postcode: str
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, postcode)

    page = letter_page(seeded_client, postcode)

    card = page.select_one(".mp-card")
    assert card is not None
    assert card["style"] == "--party-colour: #6b7280"
    assert page.select_one("form.letter-form") is not None


@pytest.mark.parametrize(
    ("postcode", "body_greeting", "mp_email"),
    [
        ("PR7 1AA", "Dear Sir Lindsay,", "lindsay.hoyle.mp@parliament.uk"),
        ("CO15 1AA", "Dear Ms Pryce,", "Office@rhiannonpryce.example"),
        ("IV1 1AA", "Dear Mr MacDonald,", "angus.macdonald.constituency@parliament.uk"),
        ("NN8 1AA", "Dear Mr Bone,", "peter.bone.mp@parliament.uk"),
        ("M1 1AE", "Dear Mr Ashworth,", "tom.ashworth.mp@parliament.uk"),
    ],
)
def test_letter_step_addresses_the_letter_as_chosen_when_contact_details_are_awkward(
    seeded_client: FlaskClient,
    members_api: responses.RequestsMock,
    post_form: Any,
    db_session: Session,
    postcode: str,
    body_greeting: str,
    mp_email: str,
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, postcode)
    page = letter_page(seeded_client, postcode)
    assert body_greeting in page.get_text()

    body = f"{body_greeting}\n\nI am your constituent and I ask you to press for sanctions."
    response = write_letter(post_form, postcode=postcode, body=body)

    assert response.status_code == 302
    assert the_letter(db_session).mp_email == mp_email


def test_letter_step_keeps_the_typed_postcode_when_the_mp_has_no_email(
    seeded_client: FlaskClient, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "CF10 1AA")

    page = letter_page(seeded_client, "CF10 1AA")

    no_email = page.select_one('section[aria-labelledby="no-email-title"]')
    assert no_email is not None
    assert "Your postcode: CF10 1AA" in " ".join(no_email.get_text(" ").split())


def test_letter_step_asks_the_api_once_when_the_same_unknown_postcode_is_asked_twenty_times(
    seeded_client: FlaskClient, members_api: responses.RequestsMock
) -> None:
    members_api.get(SEARCH_URL, json=load_fixture("schema_constituency_search_empty.json"))

    pages = [seeded_client.get(letter_page_path("SW1A 9ZZ")) for _ in range(20)]

    assert all(b"find that postcode. Check it" in page.data for page in pages)
    assert searches(members_api) == 1


def test_letter_step_limits_one_address_to_thirty_searches_a_minute_when_postcodes_are_random(
    seeded_client: FlaskClient, members_api: responses.RequestsMock, db_session: Session
) -> None:
    members_api.get(SEARCH_URL, json=load_fixture("schema_constituency_search_empty.json"))

    pages = [seeded_client.get(letter_page_path(p)) for p in made_up_postcodes(150)]

    assert searches(members_api) == 30
    assert b"from your internet connection" in pages[30].data
    assert b"from your internet connection" not in pages[29].data
    assert db_session.scalar(select(func.count()).select_from(Letter)) == 0


def test_letter_step_serves_cached_postcodes_when_an_address_has_used_its_searches(
    seeded_client: FlaskClient, members_api: responses.RequestsMock
) -> None:
    members_api.get(SEARCH_URL, json=load_fixture("schema_constituency_search_empty.json"))
    seeded_client.get(letter_page_path("SW1A 1AA"))
    for postcode in made_up_postcodes(40):
        seeded_client.get(letter_page_path(postcode))

    page = letter_page(seeded_client, "SW1A 1AA")

    assert page.select_one("form.letter-form") is not None


@pytest.mark.parametrize("app_settings", [{"mp_lookups_per_address": "1000 per minute"}])
def test_letter_step_says_busy_when_the_site_reaches_its_ceiling_of_api_lookups(
    seeded_client: FlaskClient, members_api: responses.RequestsMock, app_settings: Any
) -> None:
    members_api.get(SEARCH_URL, json=load_fixture("schema_constituency_search_empty.json"))

    pages = [seeded_client.get(letter_page_path(p)) for p in made_up_postcodes(301)]

    assert searches(members_api) == 300
    assert b"So many people are finding their MP right now" in pages[300].data
