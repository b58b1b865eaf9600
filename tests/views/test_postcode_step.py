"""Finding the supporter's MP from their postcode: each answer the supporter can get."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import responses
from bs4 import BeautifulSoup
from flask.testing import FlaskClient

from tests.conftest import MEMBERS_API_URL
from tests.journeys import letter_page_path
from tests.members_api_fixtures import add_postcode_responses
from tests.pages import page_errors


def postcode_box(response: Any) -> str:
    field = BeautifulSoup(response.data, "html.parser").select_one("#postcode")
    assert field is not None
    return str(field.get("value", ""))


def test_postcode_step_refuses_text_that_is_not_a_uk_postcode(
    seeded_client: FlaskClient, post_form: Any
) -> None:
    response = post_form("/", {"postcode": "12345"})

    assert response.status_code == 200
    assert "Enter a full UK postcode, like SW1A 1AA." in page_errors(response)
    assert postcode_box(response) == "12345"


def test_postcode_step_makes_no_api_call_for_a_malformed_postcode(
    seeded_client: FlaskClient, post_form: Any, members_api: responses.RequestsMock
) -> None:
    post_form("/", {"postcode": "NOT A POSTCODE"})

    assert len(members_api.calls) == 0


def test_postcode_step_says_when_parliament_does_not_know_a_postcode(
    seeded_client: FlaskClient, post_form: Any, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "SW1A 9ZZ")

    response = post_form("/", {"postcode": "SW1A 9ZZ"})

    assert "We couldn't find that postcode." in page_errors(response)


@pytest.mark.parametrize(
    ("postcode", "place"),
    [("JE2 3AB", "Jersey"), ("GY1 1AA", "Guernsey"), ("IM1 1AA", "the Isle of Man")],
)
def test_postcode_step_explains_crown_dependencies_have_no_mp(
    seeded_client: FlaskClient, post_form: Any, postcode: str, place: str
) -> None:
    response = post_form("/", {"postcode": postcode})

    assert f"{place[0].upper()}{place[1:]} is a Crown Dependency" in page_errors(response)


def test_postcode_step_points_supporters_outside_the_uk_to_the_petition(
    seeded_client: FlaskClient, post_form: Any
) -> None:
    response = post_form("/", {"postcode": "JE2 3AB"})

    petition = BeautifulSoup(response.data, "html.parser").select_one(".outside-uk--highlight a")
    assert petition is not None
    # Through the site, which counts it and sends them on (tests/views/test_petition_link.py).
    assert petition["href"] == "/c/ban-chen-quanguo/petition"


def test_postcode_step_explains_forces_post_has_no_constituency(
    seeded_client: FlaskClient, post_form: Any
) -> None:
    response = post_form("/", {"postcode": "BFPO 57"})

    assert "has no constituency, so it has no MP" in page_errors(response)


def test_postcode_step_says_when_the_seat_is_vacant(
    seeded_client: FlaskClient, post_form: Any, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "E8 1AA")

    response = post_form("/", {"postcode": "E8 1AA"})

    assert "Hackney South and Shoreditch has no MP at the moment" in page_errors(response)


def test_postcode_step_asks_to_try_later_when_the_lookup_service_is_down(
    seeded_client: FlaskClient, post_form: Any, members_api: responses.RequestsMock
) -> None:
    members_api.get(f"{MEMBERS_API_URL}/Location/Constituency/Search", status=503)

    response = post_form("/", {"postcode": "B33 8TH"})

    assert "isn't answering right now" in page_errors(response)
    assert postcode_box(response) == "B33 8TH"


def test_postcode_step_asks_to_try_later_when_the_lookup_service_is_too_slow(
    seeded_client: FlaskClient, post_form: Any, members_api: responses.RequestsMock
) -> None:
    members_api.get(
        f"{MEMBERS_API_URL}/Location/Constituency/Search",
        body=requests.exceptions.ReadTimeout("read timed out"),
    )

    response = post_form("/", {"postcode": "B33 8TH"})

    assert "isn't answering right now" in page_errors(response)
    assert postcode_box(response) == "B33 8TH"


def test_letter_step_shows_other_ways_to_reach_an_mp_with_no_email(
    seeded_client: FlaskClient, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "CF10 1AA")

    page = seeded_client.get(letter_page_path("CF10 1AA"))

    html = BeautifulSoup(page.data, "html.parser")
    assert "does not list an email address" in html.get_text()
    contacts = html.select_one(".contact-list")
    assert contacts is not None
    assert "House of Commons, London, SW1A 0AA" in contacts.get_text()
    assert "020 7219 8123" in contacts.get_text()
    assert html.select_one("form.letter-form") is None


def test_letter_step_uses_the_constituency_office_email_when_that_is_the_only_one(
    seeded_client: FlaskClient, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "M1 1AE")

    page = seeded_client.get(letter_page_path("M1 1AE"))

    assert BeautifulSoup(page.data, "html.parser").select_one("form.letter-form") is not None
    assert "Dear Mr Ashworth," in page.data.decode()


def test_letter_step_sends_an_unknown_postcode_back_to_the_postcode_form(
    seeded_client: FlaskClient, members_api: responses.RequestsMock
) -> None:
    add_postcode_responses(members_api, MEMBERS_API_URL, "SW1A 9ZZ")

    page = seeded_client.get(letter_page_path("SW1A 9ZZ"))

    assert "We couldn't find that postcode." in page_errors(page)
    assert postcode_box(page) == "SW1A 9ZZ"
