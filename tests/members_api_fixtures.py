"""Members API responses for `responses`: load fixture JSON and register the standard postcodes.

Each postcode below (in the normalised form the client sends as `searchText`) maps to a
constituency search fixture and, where the seat has an MP, a contact fixture for
GET /Members/{id}/Contact. Files without a prefix are real captures; `modelled_` files are
real captures with the names and addresses changed; `schema_` files follow the OpenAPI
schema for shapes nobody has captured (see tests/fixtures/parliament/README.md).

- "SW1A 1AA": Hackney North and Stoke Newington (4074), MP 172 Ms Diane Abbott, Independent
  (the real members_172.json object). Contact modelled_contact_172.json: email
  diane.abbott.office@parliament.uk from the Parliamentary office, beating a preferred
  Constituency office email; also an X (web) entry.
- "E8 1AA": Hackney South and Shoreditch (4075), vacant: currentRepresentation is null. The
  search also returns the ended 2010 seat 3532, which must be ignored. No contact.
- "SW1A 9ZZ": well-formed but unknown: totalResults 0. No contact.
- "CF10 1AA": Cardiff South and Penarth (4321), MP 5901 Ms Carys Pritchard, Labour. Contact
  modelled_contact_no_email.json: no email at all; phone "020 7219 8123" and postal address
  "House of Commons, London, SW1A 0AA" from the Parliamentary office.
- "M1 1AE": Manchester Central (4399), MP 5902 Mr Tom Ashworth, Labour. Contact
  modelled_contact_constituency_email_only.json: tom.ashworth.mp@parliament.uk, filed only
  under the Constituency office.
- "IV1 1AA": the real Inverness search (4483): MP 5362 Mr Angus MacDonald, nameAddressAs
  null. Contact modelled_contact_5362_notes.json: the Parliamentary office's note sends
  constituents to the Constituency office, angus.macdonald.constituency@parliament.uk.
- "NN8 1AA": Wellingborough (3837), the real suspended MP 1581 Mr Peter Bone. Contact
  modelled_contact_1581.json: peter.bone.mp@parliament.uk.
- "PR7 1AA": Chorley (4142), the Speaker 467 Sir Lindsay Hoyle: null party colours, null
  nameAddressAs. Contact modelled_contact_467.json: "Lindsay.hoyle.mp@parliament.uk ".
- "CO15 1AA": Clacton (3905), invented MP 5903 Ms Rhiannon Pryce, Reform UK, null party
  colours. Contact modelled_contact_5903_other_domain.json: only "Office@RhiannonPryce.example ",
  on the Parliamentary office entry.

SW1A 1AA is really in Cities of London and Westminster; it is paired with the real member
capture instead so that the happy path uses real data. MPs 5901, 5902 and 5903 are invented.

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
        "modelled_constituency_search_sw1a1aa.json", 172, "modelled_contact_172.json"
    ),
    "E8 1AA": PostcodeFixture("schema_constituency_search_e81aa_vacant.json", None, None),
    "SW1A 9ZZ": PostcodeFixture("schema_constituency_search_empty.json", None, None),
    "CF10 1AA": PostcodeFixture(
        "modelled_constituency_search_cf101aa.json", 5901, "modelled_contact_no_email.json"
    ),
    "M1 1AE": PostcodeFixture(
        "modelled_constituency_search_m11ae.json",
        5902,
        "modelled_contact_constituency_email_only.json",
    ),
    "IV1 1AA": PostcodeFixture(
        "constituency_search_inverness.json", 5362, "modelled_contact_5362_notes.json"
    ),
    "NN8 1AA": PostcodeFixture(
        "modelled_constituency_search_nn81aa_suspended.json", 1581, "modelled_contact_1581.json"
    ),
    "PR7 1AA": PostcodeFixture(
        "modelled_constituency_search_pr71aa_speaker.json", 467, "modelled_contact_467.json"
    ),
    "CO15 1AA": PostcodeFixture(
        "modelled_constituency_search_co151aa_reform.json",
        5903,
        "modelled_contact_5903_other_domain.json",
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
