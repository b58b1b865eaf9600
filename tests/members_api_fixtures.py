"""Members API responses for `responses`: load fixture JSON and register the standard postcodes.

Each postcode below (in the normalised form the client sends as `searchText`) maps to a
constituency search fixture and, where the seat has an MP, a contact fixture for
GET /Members/{id}/Contact:

- "SW1A 1AA": Hackney North and Stoke Newington (4074), MP 172 Ms Diane Abbott, Independent
  (member object copied from the real capture members_172.json). Contact
  schema_contact_172.json: email diane.abbott.office@parliament.uk from the Parliamentary
  office, beating a preferred Constituency office email; also an X (web) entry.
- "E8 1AA": Hackney South and Shoreditch (4075), vacant: currentRepresentation is null. The
  search also returns the ended 2010 seat 3532, which must be ignored. No contact.
- "SW1A 9ZZ": well-formed but unknown: totalResults 0. No contact.
- "CF10 1AA": Cardiff South and Penarth (4321), MP 5901 Ms Carys Pritchard, Labour. Contact
  schema_contact_no_email.json: no email at all; phone "020 7219 8123" and postal address
  "House of Commons, London, SW1A 0AA" from the Parliamentary office.
- "M1 1AE": Manchester Central (4399), MP 5902 Mr Tom Ashworth, Labour. Contact
  schema_contact_constituency_email_only.json: tom.ashworth.mp@parliament.uk, filed only
  under the Constituency office.

SW1A 1AA is really in Cities of London and Westminster; it is paired with the real member
capture instead so that the happy path uses real data. MPs 5901 and 5902 are invented. See
tests/fixtures/parliament/README.md for which files are real captures.

With `assert_all_requests_are_fired=True` every registered response must be used, so
register only the calls a test makes: `add_postcode_responses(..., contact=False)` for a
test that only looks the seat up.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import responses

FIXTURES_DIR = Path(__file__).parent / "fixtures" / "parliament"
DEFAULT_BASE_URL = "https://members-api.parliament.uk/api"


@dataclass(frozen=True)
class PostcodeFixture:
    search: str
    member_id: int | None
    contact: str | None


POSTCODE_FIXTURES: dict[str, PostcodeFixture] = {
    "SW1A 1AA": PostcodeFixture(
        "schema_constituency_search_sw1a1aa.json", 172, "schema_contact_172.json"
    ),
    "E8 1AA": PostcodeFixture("schema_constituency_search_e81aa_vacant.json", None, None),
    "SW1A 9ZZ": PostcodeFixture("schema_constituency_search_empty.json", None, None),
    "CF10 1AA": PostcodeFixture(
        "schema_constituency_search_cf101aa.json", 5901, "schema_contact_no_email.json"
    ),
    "M1 1AE": PostcodeFixture(
        "schema_constituency_search_m11ae.json",
        5902,
        "schema_contact_constituency_email_only.json",
    ),
}


def load_fixture(name: str) -> dict[str, Any]:
    """Return a fresh copy of tests/fixtures/parliament/<name> (".json" optional)."""
    path = FIXTURES_DIR / (name if name.endswith(".json") else f"{name}.json")
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def add_postcode_responses(
    rsps: responses.RequestsMock,
    base_url: str,
    postcode: str,
    *,
    contact: bool = True,
) -> None:
    """Register the search for one postcode above and, if `contact` and it has an MP, the
    MP's contact details."""
    # Imported here so tools/fake_members_api.py can use the fixtures without the test extras.
    from responses import matchers

    fixture = POSTCODE_FIXTURES[postcode]
    base = base_url.rstrip("/")
    rsps.get(
        f"{base}/Location/Constituency/Search",
        json=load_fixture(fixture.search),
        match=[matchers.query_param_matcher({"searchText": postcode, "skip": "0", "take": "20"})],
    )
    if contact and fixture.contact is not None:
        rsps.get(f"{base}/Members/{fixture.member_id}/Contact", json=load_fixture(fixture.contact))


def add_standard_responses(rsps: responses.RequestsMock, base_url: str) -> None:
    """Register the happy path: "SW1A 1AA" -> constituency 4074 with MP 172 -> contact for 172."""
    add_postcode_responses(rsps, base_url, "SW1A 1AA")
