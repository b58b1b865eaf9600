"""Tests for the Members API client, replaying real and schema-built responses."""

import logging
from collections.abc import Iterator
from typing import Any

import pytest
import requests
import responses
from responses import matchers

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.clients.parliament_errors import (
    MembersApiBadResponse,
    MembersApiNotFound,
    MembersApiPaused,
    MembersApiUnavailable,
)
from mp_mailer.clients.parliament_records import Constituency, ContactDetails, Party
from tests.members_api_fixtures import (
    DEFAULT_BASE_URL,
    add_postcode_responses,
    add_standard_responses,
    load_fixture,
)

BASE_URL = DEFAULT_BASE_URL
SEARCH_URL = f"{BASE_URL}/Location/Constituency/Search"
MEMBERS_SEARCH_URL = f"{BASE_URL}/Members/Search"


@pytest.fixture
def rsps() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(assert_all_requests_are_fired=True) as mock:
        yield mock


@pytest.fixture
def sleeps() -> list[float]:
    """The delays the client waited for, in order; nothing really sleeps."""
    return []


@pytest.fixture
def client(sleeps: list[float]) -> Iterator[MembersApiClient]:
    with MembersApiClient(BASE_URL, sleep=sleeps.append) as api:
        yield api


def member_payload(**changes: Any) -> dict[str, Any]:
    """The real /Members/172 capture with top-level fields of `value` replaced."""
    payload = load_fixture("members_172.json")
    payload["value"].update(changes)
    return payload


def membership(**changes: Any) -> dict[str, Any]:
    """The real capture's latestHouseMembership with fields replaced."""
    data: dict[str, Any] = load_fixture("members_172.json")["value"]["latestHouseMembership"]
    data.update(changes)
    return data


def contact_entry(**fields: Any) -> dict[str, Any]:
    """One ContactInformation object as in the OpenAPI schema; all optional fields null."""
    entry: dict[str, Any] = {
        "type": "Constituency office",
        "typeDescription": "Constituency office",
        "typeId": 4,
        "isPreferred": False,
        "isWebAddress": False,
        "notes": None,
        "line1": None,
        "line2": None,
        "line3": None,
        "line4": None,
        "line5": None,
        "postcode": None,
        "phone": None,
        "fax": None,
        "email": None,
    }
    entry.update(fields)
    return entry


def contact_payload(*entries: dict[str, Any]) -> dict[str, Any]:
    return {"value": list(entries), "links": []}


# Members


def test_get_member_parses_name_forms_when_given_the_real_member_sample(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    member = client.get_member(172)

    assert member.id == 172
    assert member.display_name == "Ms Diane Abbott"
    assert member.address_as == "Ms Abbott"
    assert member.full_title == "Rt Hon Diane Abbott MP"
    assert member.list_as == "Abbott, Ms Diane"


def test_get_member_returns_party_with_hash_colours_when_api_gives_bare_hex(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    member = client.get_member(172)

    assert member.party == Party(8, "Independent", "Ind", "#909090", "#ffffff")


def test_get_member_returns_commons_seat_and_current_status_when_given_the_real_sample(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    member = client.get_member(172)

    assert member.constituency_id == 4074
    assert member.constituency_name == "Hackney North and Stoke Newington"
    assert member.is_current is True
    assert member.thumbnail_url == "https://members-api.parliament.uk/api/Members/172/Thumbnail"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("909090", "#909090"),
        ("FAA61A", "#faa61a"),
        ("#D50000", "#d50000"),
        (" 0000ff ", "#0000ff"),
        ("", None),
        (None, None),
        ("red", None),
        ("12345", None),
        ("1234567", None),
        (909090, None),
    ],
)
def test_get_member_normalises_party_colour_when_api_gives_colour(
    rsps: responses.RequestsMock, client: MembersApiClient, raw: object, expected: str | None
) -> None:
    party = load_fixture("members_172.json")["value"]["latestParty"] | {"backgroundColour": raw}
    rsps.get(f"{BASE_URL}/Members/172", json=member_payload(latestParty=party))

    member = client.get_member(172)

    assert member.party is not None
    assert member.party.background_colour == expected


def test_get_member_addresses_a_knight_by_first_name_when_name_address_as_is_null(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/467", json=load_fixture("modelled_member_467_speaker.json"))

    member = client.get_member(467)

    assert member.address_as == "Sir Lindsay"


def test_find_constituency_for_postcode_greets_mp_by_honorific_and_surname_when_address_as_null(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(SEARCH_URL, json=load_fixture("constituency_search_inverness.json"))

    constituency = client.find_constituency_for_postcode("IV1 1AA")

    assert constituency is not None
    assert constituency.member is not None
    assert constituency.member.address_as == "Mr MacDonald"


# Real names, as Parliament gives them in nameDisplayAs / nameListAs / nameFullTitle, with
# nameAddressAs null; the expected value is what Parliament writes for the same MP.
@pytest.mark.parametrize(
    ("display_as", "list_as", "full_title", "expected"),
    [
        ("Sir Keir Starmer", "Starmer, Sir Keir", "Rt Hon Sir Keir Starmer KCB KC MP", "Sir Keir"),
        ("Keir Starmer", "Starmer, Keir", "Rt Hon Sir Keir Starmer KCB KC MP", "Sir Keir"),
        ("Mr Richard Bacon", "Bacon, Mr Richard", "Mr Richard Bacon MP", "Mr Bacon"),
        ("Ms Diane Abbott", "Abbott, Ms Diane", "Rt Hon Diane Abbott MP", "Ms Abbott"),
        ("Dr Philippa Whitford", "Whitford, Dr Philippa", "Dr Philippa Whitford MP", "Dr Whitford"),
        ("Mrs Sharon Hodgson", "Hodgson, Mrs Sharon", "Mrs Sharon Hodgson MP", "Mrs Hodgson"),
        (
            "Dame Margaret Hodge",
            "Hodge, Dame Margaret",
            "Rt Hon Dame Margaret Hodge MP",
            "Dame Margaret",
        ),
        ("Sir Paul Beresford", "Beresford, Sir Paul", "Sir Paul Beresford MP", "Sir Paul"),
        ("Mr Jacob Rees-Mogg", "Rees-Mogg, Mr Jacob", "Rt Hon Jacob Rees-Mogg MP", "Mr Rees-Mogg"),
        (
            "Dr Rosena Allin-Khan",
            "Allin-Khan, Dr Rosena",
            "Dr Rosena Allin-Khan MP",
            "Dr Allin-Khan",
        ),
        (
            "Mr Iain Duncan Smith",
            "Duncan Smith, Mr Iain",
            "Mr Iain Duncan Smith MP",
            "Mr Duncan Smith",
        ),
        (
            "Sir Iain Duncan Smith",
            "Duncan Smith, Sir Iain",
            "Rt Hon Sir Iain Duncan Smith MP",
            "Sir Iain",
        ),
        ("Debbie Abrahams", "Abrahams, Debbie", "Debbie Abrahams MP", "Debbie Abrahams"),
        ("Nigel Adams", None, None, "Nigel Adams"),
        ("Mr Angus MacDonald", None, "Mr Angus MacDonald MP", "Mr MacDonald"),
    ],
)
def test_get_member_derives_parliaments_form_of_address_when_name_address_as_is_null(
    rsps: responses.RequestsMock,
    client: MembersApiClient,
    display_as: str,
    list_as: str | None,
    full_title: str | None,
    expected: str,
) -> None:
    names = {"nameDisplayAs": display_as, "nameListAs": list_as, "nameFullTitle": full_title}
    rsps.get(f"{BASE_URL}/Members/172", json=member_payload(nameAddressAs=None, **names))

    assert client.get_member(172).address_as == expected


def test_get_member_keeps_parliaments_own_address_as_when_it_is_the_display_name(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    names = {"nameDisplayAs": "Debbie Abrahams", "nameListAs": "Abrahams, Debbie"}
    payload = member_payload(
        nameAddressAs="Debbie Abrahams", nameFullTitle="Ms Debbie Abrahams MP", **names
    )
    rsps.get(f"{BASE_URL}/Members/172", json=payload)

    assert client.get_member(172).address_as == "Debbie Abrahams"


def test_get_member_returns_speaker_party_when_member_is_the_speaker(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/467", json=load_fixture("modelled_member_467_speaker.json"))

    member = client.get_member(467)

    assert member.party == Party(47, "Speaker", "Spk", None, None)
    assert member.constituency_name == "Chorley"
    assert member.is_current is True


def test_get_member_has_no_party_when_latest_party_is_null(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json=member_payload(latestParty=None))

    assert client.get_member(172).party is None


def test_get_member_is_current_when_membership_status_is_null_and_no_end_date(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    house_membership = membership(membershipStatus=None, membershipEndDate=None)
    rsps.get(f"{BASE_URL}/Members/172", json=member_payload(latestHouseMembership=house_membership))

    assert client.get_member(172).is_current is True


def test_get_member_is_not_current_when_membership_status_is_null_and_end_date_is_set(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    house_membership = membership(membershipStatus=None, membershipEndDate="2024-05-30T00:00:00")
    rsps.get(f"{BASE_URL}/Members/172", json=member_payload(latestHouseMembership=house_membership))

    assert client.get_member(172).is_current is False


def test_get_member_is_current_with_suspended_status_when_given_the_real_suspended_sample(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/1581", json=load_fixture("members_1581_suspended.json"))

    member = client.get_member(1581)

    assert (member.is_current, member.status) == (True, "Suspended")
    assert (member.constituency_id, member.address_as) == (3837, "Mr Bone")


def test_get_member_party_has_no_colours_when_the_api_gives_null_colours(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    party = load_fixture("members_1581_suspended.json")["value"]["latestParty"] | {
        "backgroundColour": None,
        "foregroundColour": None,
    }
    rsps.get(f"{BASE_URL}/Members/1581", json=member_payload(latestParty=party))

    member = client.get_member(1581)

    assert member.party is not None
    assert (member.party.background_colour, member.party.foreground_colour) == (None, None)


def test_get_member_has_no_constituency_when_member_sits_in_the_lords(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    house_membership = membership(house=2, membershipFrom="Life peer", membershipFromId=None)
    rsps.get(f"{BASE_URL}/Members/172", json=member_payload(latestHouseMembership=house_membership))

    member = client.get_member(172)

    assert member.constituency_id is None
    assert member.constituency_name is None


def test_get_member_raises_not_found_bad_response_when_api_returns_404(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/999999", status=404)

    with pytest.raises(MembersApiBadResponse) as excinfo:
        client.get_member(999999)

    assert isinstance(excinfo.value, MembersApiNotFound)
    assert isinstance(excinfo.value.__cause__, requests.HTTPError)


def test_get_member_raises_bad_response_when_json_is_malformed(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", body='{"value": {"id": 172,', content_type="text/json")

    with pytest.raises(MembersApiBadResponse) as excinfo:
        client.get_member(172)

    assert isinstance(excinfo.value.__cause__, ValueError)


def test_get_member_raises_bad_response_when_envelope_has_no_value(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json={"links": []})

    with pytest.raises(MembersApiBadResponse, match="no value"):
        client.get_member(172)


def test_get_member_raises_bad_response_when_id_is_not_an_integer(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json=member_payload(id="172"))

    with pytest.raises(MembersApiBadResponse, match=r"member\.id"):
        client.get_member(172)


# Constituencies


def test_get_constituency_parses_mp_when_representation_membership_status_is_null(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Location/Constituency/3720", json=load_fixture("constituency_3720.json"))

    constituency = client.get_constituency(3720)

    assert (constituency.id, constituency.name, constituency.is_current) == (
        3720,
        "Selby and Ainsty",
        True,
    )
    assert constituency.member is not None
    assert constituency.member.id == 4057
    assert constituency.member.display_name == "Nigel Adams"
    assert constituency.member.party == Party(4, "Conservative", "Con", "#0000ff", "#ffffff")
    assert constituency.member.is_current is True


def test_get_constituency_returns_vacant_seat_when_representation_member_is_null(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = load_fixture("constituency_3720.json")
    payload["value"]["currentRepresentation"]["member"] = None
    rsps.get(f"{BASE_URL}/Location/Constituency/3720", json=payload)

    assert client.get_constituency(3720).member is None


def test_get_constituency_raises_not_found_when_api_returns_404(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Location/Constituency/1", status=404)

    with pytest.raises(MembersApiNotFound):
        client.get_constituency(1)


# Postcode search


def test_find_constituency_for_postcode_returns_seat_and_mp_when_postcode_matches(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    add_postcode_responses(rsps, BASE_URL, "SW1A 1AA", contact=False)

    constituency = client.find_constituency_for_postcode("SW1A 1AA")

    assert constituency is not None
    assert (constituency.id, constituency.name, constituency.is_current) == (
        4074,
        "Hackney North and Stoke Newington",
        True,
    )
    assert constituency.member is not None
    assert constituency.member.id == 172
    assert constituency.member.address_as == "Ms Abbott"


def test_find_constituency_for_postcode_returns_vacant_seat_when_current_representation_is_null(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    add_postcode_responses(rsps, BASE_URL, "E8 1AA")

    constituency = client.find_constituency_for_postcode("E8 1AA")

    assert constituency == Constituency(4075, "Hackney South and Shoreditch", True, None)


def test_find_constituency_for_postcode_returns_none_when_only_ended_constituencies_match(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = load_fixture("schema_constituency_search_e81aa_vacant.json")
    payload["items"] = [item for item in payload["items"] if item["value"]["endDate"] is not None]
    payload["totalResults"] = len(payload["items"])
    rsps.get(SEARCH_URL, json=payload)

    assert client.find_constituency_for_postcode("E8 1AA") is None


def test_find_constituency_for_postcode_returns_none_when_search_has_no_results(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    add_postcode_responses(rsps, BASE_URL, "SW1A 9ZZ")

    assert client.find_constituency_for_postcode("SW1A 9ZZ") is None


def test_find_constituency_for_postcode_returns_none_when_api_rejects_search_with_400(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(SEARCH_URL, status=400, json={"title": "Bad Request"})

    assert client.find_constituency_for_postcode("SW1A 1AA") is None


def test_find_constituency_for_postcode_raises_bad_response_when_several_current_seats_match(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = load_fixture("modelled_constituency_search_sw1a1aa.json")
    payload["items"] += load_fixture("modelled_constituency_search_m11ae.json")["items"]
    payload["totalResults"] = 2
    rsps.get(SEARCH_URL, json=payload)

    with pytest.raises(MembersApiBadResponse, match="4074, 4399"):
        client.find_constituency_for_postcode("SW1A 1AA")


def test_find_constituency_for_postcode_percent_encodes_postcode_when_building_query(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    typed = "SW1A 1AA&take=999"
    rsps.get(
        SEARCH_URL,
        json=load_fixture("schema_constituency_search_empty.json"),
        match=[matchers.query_param_matcher({"searchText": typed, "skip": "0", "take": "20"})],
    )

    client.find_constituency_for_postcode(typed)

    assert rsps.calls[0].request.url == (
        f"{SEARCH_URL}?searchText=SW1A%201AA%26take%3D999&skip=0&take=20"
    )


def test_find_constituency_for_postcode_keeps_postcode_out_of_logs_when_debug_logging(
    rsps: responses.RequestsMock, client: MembersApiClient, caplog: pytest.LogCaptureFixture
) -> None:
    add_postcode_responses(rsps, BASE_URL, "SW1A 1AA", contact=False)

    with caplog.at_level(logging.DEBUG, logger="mp_mailer.clients.parliament"):
        client.find_constituency_for_postcode("SW1A 1AA")

    assert "Location/Constituency/Search -> 200" in caplog.text
    assert "SW1A" not in caplog.text


# Contact details


def test_get_contact_prefers_parliamentary_office_email_when_another_email_is_preferred(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172/Contact", json=load_fixture("modelled_contact_172.json"))

    assert client.get_contact(172).email == "diane.abbott.office@parliament.uk"


def test_get_contact_takes_address_and_phone_from_parliamentary_office_when_both_offices_listed(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172/Contact", json=load_fixture("modelled_contact_172.json"))

    contact = client.get_contact(172)

    assert contact.postal_address == "House of Commons, London, SW1A 0AA"
    assert contact.phone == "020 7219 4426"
    assert contact.contact_page_url == "https://members.parliament.uk/member/172/contact"


def test_get_contact_falls_back_to_parliament_uk_email_when_only_constituency_office_has_one(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(
        f"{BASE_URL}/Members/5902/Contact",
        json=load_fixture("modelled_contact_constituency_email_only.json"),
    )

    contact = client.get_contact(5902)

    assert contact.email == "tom.ashworth.mp@parliament.uk"
    assert contact.postal_address == "House of Commons, London, SW1A 0AA"


def test_get_contact_prefers_preferred_parliament_uk_email_when_several_entries_have_one(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = contact_payload(
        contact_entry(email="first.mp@parliament.uk"),
        contact_entry(email="second.mp@parliament.uk", isPreferred=True),
    )
    rsps.get(f"{BASE_URL}/Members/5902/Contact", json=payload)

    assert client.get_contact(5902).email == "second.mp@parliament.uk"


def test_get_contact_prefers_parliament_uk_email_when_another_email_is_listed_first(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = contact_payload(
        contact_entry(email="office@example.org.uk", isPreferred=True),
        contact_entry(email="member.mp@parliament.uk"),
    )
    rsps.get(f"{BASE_URL}/Members/5902/Contact", json=payload)

    assert client.get_contact(5902).email == "member.mp@parliament.uk"


def test_get_contact_falls_back_to_any_email_when_none_is_at_parliament_uk(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = contact_payload(
        contact_entry(type="Parliamentary office", typeDescription="Parliamentary office"),
        contact_entry(email="office@example.org.uk"),
    )
    rsps.get(f"{BASE_URL}/Members/5902/Contact", json=payload)

    assert client.get_contact(5902).email == "office@example.org.uk"


def test_get_contact_ignores_web_address_entries_when_choosing_email(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = contact_payload(
        contact_entry(type="Website", isWebAddress=True, email="web@parliament.uk"),
        contact_entry(email="office@example.org.uk"),
    )
    rsps.get(f"{BASE_URL}/Members/5902/Contact", json=payload)

    assert client.get_contact(5902).email == "office@example.org.uk"


def test_get_contact_ignores_text_that_is_not_an_email_when_choosing_email(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = contact_payload(contact_entry(email="see website"))
    rsps.get(f"{BASE_URL}/Members/5902/Contact", json=payload)

    assert client.get_contact(5902).email is None


def test_get_contact_returns_phone_and_address_without_email_when_none_is_published(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(
        f"{BASE_URL}/Members/5901/Contact", json=load_fixture("modelled_contact_no_email.json")
    )

    assert client.get_contact(5901) == ContactDetails(
        email=None,
        postal_address="House of Commons, London, SW1A 0AA",
        phone="020 7219 8123",
        contact_page_url="https://members.parliament.uk/member/5901/contact",
    )


def test_get_contact_withholds_constituency_office_address_when_no_parliamentary_office(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = contact_payload(
        contact_entry(line1="1 Home Street", postcode="M1 3AA", phone="0161 000 0002"),
    )
    rsps.get(f"{BASE_URL}/Members/5902/Contact", json=payload)

    contact = client.get_contact(5902)

    assert (contact.postal_address, contact.phone) == (None, None)


def real_contact(*changes: dict[str, Any] | None) -> dict[str, Any]:
    """The real /Members/4514/Contact capture, entry by entry: changes, or None to drop it."""
    payload = load_fixture("members_4514_contact.json")
    entries = []
    for entry, change in zip(payload["value"], changes, strict=True):
        if change is not None:
            entries.append(entry | change)
    payload["value"] = entries
    return payload


def test_get_contact_takes_parliamentary_office_email_when_given_the_real_contact_sample(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/4514/Contact", json=load_fixture("members_4514_contact.json"))

    assert client.get_contact(4514) == ContactDetails(
        email="keir.starmer.mp@parliament.uk",
        postal_address="House of Commons, London, SW1A 0AA",
        phone=None,
        contact_page_url="https://members.parliament.uk/member/4514/contact",
    )


def test_get_contact_uses_constituency_office_when_a_note_sends_constituents_there(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    note = (
        "If you are a constituent, please use the constituency office contact details "
        "rather than this address."
    )
    payload = real_contact(
        {"notes": note}, {"line2": "Kentish Town", "postcode": "NW5 1AA"}, {}, {}, {}
    )
    rsps.get(f"{BASE_URL}/Members/4514/Contact", json=payload)

    contact = client.get_contact(4514)

    assert contact.email == "keir.starmer.constituency@parliament.uk"
    assert contact.postal_address == "Constituency Office, Kentish Town, NW5 1AA"


def test_get_contact_keeps_parliamentary_office_email_when_its_note_says_something_else(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = real_contact({"notes": "Office hours 9am to 5pm"}, {}, {}, {}, {})
    rsps.get(f"{BASE_URL}/Members/4514/Contact", json=payload)

    assert client.get_contact(4514).email == "keir.starmer.mp@parliament.uk"


@pytest.mark.parametrize(
    ("published", "expected"),
    [
        ("Lindsay.hoyle.mp@parliament.uk ", "lindsay.hoyle.mp@parliament.uk"),
        (" KEIR.STARMER.MP@PARLIAMENT.UK", "keir.starmer.mp@parliament.uk"),
        ("keir.starmer.mp @parliament.uk", "keir.starmer.mp@parliament.uk"),
        ("Office@Starmer.Example.ORG", "Office@starmer.example.org"),
    ],
)
def test_get_contact_normalises_email_when_published_with_spaces_or_capitals(
    rsps: responses.RequestsMock, client: MembersApiClient, published: str, expected: str
) -> None:
    rsps.get(
        f"{BASE_URL}/Members/4514/Contact",
        json=real_contact({"email": published}, None, {}, {}, {}),
    )

    assert client.get_contact(4514).email == expected


def test_get_contact_prefers_parliament_uk_email_when_parliamentary_office_lists_another_domain(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = real_contact({"email": "keir@starmer-office.example"}, {}, {}, {}, {})
    rsps.get(f"{BASE_URL}/Members/4514/Contact", json=payload)

    assert client.get_contact(4514).email == "keir.starmer.constituency@parliament.uk"


def test_get_contact_uses_parliamentary_office_other_domain_when_no_parliament_uk_email_exists(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = real_contact(
        {"email": "keir@starmer-office.example"}, {"email": "home@starmer.example"}, {}, {}, {}
    )
    rsps.get(f"{BASE_URL}/Members/4514/Contact", json=payload)

    assert client.get_contact(4514).email == "keir@starmer-office.example"


def test_get_contact_uses_constituency_office_email_when_it_is_the_only_one_in_the_real_shape(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/4514/Contact", json=real_contact({"email": None}, {}, {}, {}, {}))

    contact = client.get_contact(4514)

    assert contact.email == "keir.starmer.constituency@parliament.uk"
    assert contact.postal_address == "House of Commons, London, SW1A 0AA"


def test_get_contact_has_no_email_when_the_real_shape_publishes_none(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = real_contact({"email": None}, {"email": None}, {}, {}, {})
    rsps.get(f"{BASE_URL}/Members/4514/Contact", json=payload)

    contact = client.get_contact(4514)

    assert (contact.email, contact.postal_address) == (None, "House of Commons, London, SW1A 0AA")


def test_get_contact_finds_the_parliamentary_office_when_type_description_is_null(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    payload = real_contact({"email": "keir.starmer.mp@parliament.uk"}, {}, {}, {}, {})
    assert payload["value"][0]["typeDescription"] is None
    payload["value"][1]["isPreferred"] = True
    rsps.get(f"{BASE_URL}/Members/4514/Contact", json=payload)

    assert client.get_contact(4514).email == "keir.starmer.mp@parliament.uk"


# Transport: headers, timeouts, retries


def test_members_api_client_sends_json_accept_and_user_agent_when_calling_api(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    client.get_member(172)

    headers = rsps.calls[0].request.headers
    assert headers["Accept"] == "application/json"
    assert headers["User-Agent"].startswith("mp_mailer/")


def test_members_api_client_passes_connect_and_read_timeout_when_calling_api(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    with MembersApiClient(BASE_URL, timeout=(1.5, 4.0), sleep=sleeps.append) as api:
        api.get_member(172)

    request = rsps.calls[0].request
    assert request.req_kwargs["timeout"] == (1.5, 4.0)  # type: ignore[attr-defined]


def test_members_api_client_joins_paths_when_base_url_has_trailing_slash(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    with MembersApiClient(f"{BASE_URL}/", sleep=sleeps.append) as api:
        assert api.get_member(172).id == 172


def test_members_api_client_retries_when_server_error_is_followed_by_success(
    rsps: responses.RequestsMock, client: MembersApiClient, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=503)
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    assert client.get_member(172).id == 172
    assert sleeps == [0.5]


def test_members_api_client_raises_unavailable_after_backing_off_when_server_errors_persist(
    rsps: responses.RequestsMock, client: MembersApiClient, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=500)

    with pytest.raises(MembersApiUnavailable) as excinfo:
        client.get_member(172)

    assert len(rsps.calls) == 3
    assert sleeps == [0.5, 1.0]
    assert isinstance(excinfo.value.__cause__, requests.HTTPError)


def test_members_api_client_raises_unavailable_when_request_times_out(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", body=requests.ReadTimeout("read timed out"))

    with pytest.raises(MembersApiUnavailable) as excinfo:
        client.get_member(172)

    assert len(rsps.calls) == 3
    assert isinstance(excinfo.value.__cause__, requests.Timeout)


def test_members_api_client_retries_when_connection_fails_once(
    rsps: responses.RequestsMock, client: MembersApiClient, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", body=requests.ConnectionError("connection reset"))
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    assert client.get_member(172).id == 172
    assert sleeps == [0.5]


def test_members_api_client_waits_for_retry_after_when_rate_limited(
    rsps: responses.RequestsMock, client: MembersApiClient, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=429, headers={"Retry-After": "2"})
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    assert client.get_member(172).id == 172
    assert sleeps == [2.0]


def test_members_api_client_gives_up_at_once_when_retry_after_exceeds_the_cap(
    rsps: responses.RequestsMock, client: MembersApiClient, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=429, headers={"Retry-After": "3123"})

    with pytest.raises(MembersApiUnavailable):
        client.get_member(172)

    assert len(rsps.calls) == 1
    assert sleeps == []


def test_members_api_client_gives_up_at_once_when_retry_after_date_is_far_ahead(
    rsps: responses.RequestsMock, client: MembersApiClient, sleeps: list[float]
) -> None:
    retry_after = "Fri, 01 Jan 2100 00:00:00 GMT"
    rsps.get(f"{BASE_URL}/Members/172", status=503, headers={"Retry-After": retry_after})

    with pytest.raises(MembersApiUnavailable):
        client.get_member(172)

    assert sleeps == []


def test_members_api_client_makes_no_call_while_parliament_has_asked_it_to_wait(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=429, headers={"Retry-After": "3123"})
    with pytest.raises(MembersApiUnavailable):
        client.get_member(172)

    with pytest.raises(MembersApiPaused) as excinfo:
        client.get_member(172)

    assert len(rsps.calls) == 1
    assert excinfo.value.retry_after > 3000


def test_members_api_client_waits_a_minute_when_rate_limited_without_retry_after(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=429)
    with MembersApiClient(BASE_URL, retries=0, sleep=sleeps.append) as api:
        with pytest.raises(MembersApiUnavailable):
            api.get_member(172)

        with pytest.raises(MembersApiPaused) as excinfo:
            api.get_member(172)

    assert 59 < excinfo.value.retry_after <= 60
    assert len(rsps.calls) == 1


def test_members_api_client_calls_again_when_the_requested_wait_is_over(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    now = [1000.0]
    rsps.get(f"{BASE_URL}/Members/172", status=429, headers={"Retry-After": "30"})
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))
    with MembersApiClient(BASE_URL, retries=0, sleep=sleeps.append, clock=lambda: now[0]) as api:
        with pytest.raises(MembersApiUnavailable):
            api.get_member(172)
        now[0] += 29
        with pytest.raises(MembersApiPaused):
            api.get_member(172)
        now[0] += 2

        assert api.get_member(172).id == 172


def test_members_api_client_does_not_pause_when_a_server_error_has_no_retry_after(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=503)
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))
    with MembersApiClient(BASE_URL, retries=0, sleep=sleeps.append) as api:
        with pytest.raises(MembersApiUnavailable):
            api.get_member(172)

        assert api.get_member(172).id == 172


def test_members_api_client_uses_backoff_when_retry_after_is_unreadable(
    rsps: responses.RequestsMock, client: MembersApiClient, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=503, headers={"Retry-After": "soon"})
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    client.get_member(172)

    assert sleeps == [0.5]


def test_members_api_client_really_sleeps_when_using_the_default_sleep(
    rsps: responses.RequestsMock,
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=502)
    rsps.get(f"{BASE_URL}/Members/172", json=load_fixture("members_172.json"))

    with MembersApiClient(BASE_URL, backoff_factor=0.001) as api:
        assert api.get_member(172).id == 172


def test_members_api_client_does_not_retry_when_api_returns_client_error(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=400)

    with pytest.raises(MembersApiBadResponse):
        client.get_member(172)

    assert len(rsps.calls) == 1


def test_members_api_client_makes_one_attempt_when_retries_is_zero(
    rsps: responses.RequestsMock, sleeps: list[float]
) -> None:
    rsps.get(f"{BASE_URL}/Members/172", status=503)

    with (
        MembersApiClient(BASE_URL, retries=0, sleep=sleeps.append) as api,
        pytest.raises(MembersApiUnavailable),
    ):
        api.get_member(172)

    assert len(rsps.calls) == 1


# Listing all current MPs


def members_page(skip: int, payload: dict[str, Any]) -> dict[str, Any]:
    query = {"House": "1", "IsCurrentMember": "true", "skip": str(skip), "take": "20"}
    return {
        "url": MEMBERS_SEARCH_URL,
        "json": payload,
        "match": [matchers.query_param_matcher(query)],
    }


def test_list_current_mps_yields_every_member_when_results_span_three_pages(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    for page, skip in enumerate((0, 20, 40)):
        rsps.get(**members_page(skip, load_fixture(f"schema_members_search_page_{page}.json")))

    members = list(client.list_current_mps())

    assert len(members) == 45
    assert len({member.id for member in members}) == 45
    assert members[0].display_name == "Ms Diane Abbott"
    assert all(member.is_current for member in members)


def test_list_current_mps_raises_bad_response_when_a_page_is_empty_before_the_total(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    empty_page = load_fixture("schema_members_search_page_1.json") | {"items": []}
    rsps.get(**members_page(0, load_fixture("schema_members_search_page_0.json")))
    rsps.get(**members_page(20, empty_page))

    with pytest.raises(MembersApiBadResponse, match="empty page"):
        list(client.list_current_mps())


def test_list_current_mps_yields_nothing_when_there_are_no_results(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    empty = load_fixture("schema_members_search_page_0.json") | {"items": [], "totalResults": 0}
    rsps.get(**members_page(0, empty))

    assert list(client.list_current_mps()) == []


# Shared fixtures for other test modules


def test_add_standard_responses_serves_mp_and_contact_when_looking_up_sw1a_1aa(
    rsps: responses.RequestsMock, client: MembersApiClient
) -> None:
    add_standard_responses(rsps, BASE_URL)

    constituency = client.find_constituency_for_postcode("SW1A 1AA")
    assert constituency is not None
    assert constituency.member is not None
    contact = client.get_contact(constituency.member.id)

    assert contact.email == "diane.abbott.office@parliament.uk"


@pytest.mark.parametrize(
    ("postcode", "member_id", "email"),
    [
        ("CF10 1AA", 5901, None),
        ("M1 1AE", 5902, "tom.ashworth.mp@parliament.uk"),
    ],
)
def test_add_postcode_responses_serves_documented_mp_and_email_when_looking_up_postcode(
    rsps: responses.RequestsMock,
    client: MembersApiClient,
    postcode: str,
    member_id: int,
    email: str | None,
) -> None:
    add_postcode_responses(rsps, BASE_URL, postcode)

    constituency = client.find_constituency_for_postcode(postcode)
    assert constituency is not None
    assert constituency.member is not None
    assert constituency.member.id == member_id

    assert client.get_contact(member_id).email == email
