"""The Members API's JSON read into typed records (party, member, constituency, contact details),
with the form of address and the choice of the email constituents should use."""

import re
from collections.abc import Mapping
from dataclasses import dataclass

from mp_mailer.clients.parliament_errors import MembersApiBadResponse

COMMONS = 1


_COLOUR = re.compile(r"#?(?P<hex>[0-9A-Fa-f]{6})")


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


# Parliament's own nameAddressAs uses these as "Ms Abbott"; knights and dames as "Sir Paul".
_HONORIFICS = frozenset({"Mr", "Mrs", "Ms", "Miss", "Mx", "Dr", "Prof", "Professor", "Rev", "Revd"})


_KNIGHT_OR_DAME = frozenset({"Sir", "Dame"})


# Prefixes of nameFullTitle that are not part of a name ("Rt Hon Sir Keir Starmer KCB KC MP").
_STYLES = frozenset({"Rt", "Hon", "The", "Right", "Honourable"})


# A Contact note such as "If you are a constituent ... please use the constituency office
# contact details" sends constituents' letters to the Constituency office entry instead.
_USE_CONSTITUENCY_OFFICE = re.compile(
    r"constituen.*constituency\s+office", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class Party:
    id: int
    name: str
    abbreviation: str | None
    background_colour: str | None
    foreground_colour: str | None


@dataclass(frozen=True)
class Member:
    id: int
    display_name: str
    address_as: str
    full_title: str | None
    list_as: str | None
    party: Party | None
    constituency_id: int | None
    constituency_name: str | None
    thumbnail_url: str | None
    # Current while the House membership has no end date, whatever the status says.
    is_current: bool
    # Parliament's statusDescription ("Current Member", "Suspended"); shown, never used to refuse.
    status: str | None = None


@dataclass(frozen=True)
class Constituency:
    id: int
    name: str
    is_current: bool
    member: Member | None


@dataclass(frozen=True)
class ContactDetails:
    email: str | None
    postal_address: str | None
    phone: str | None
    contact_page_url: str


def _object(value: object, what: str) -> Mapping[str, object]:
    if not isinstance(value, dict):
        raise MembersApiBadResponse(f"{what}: expected an object, got {type(value).__name__}")
    return value


def _list(value: object, what: str) -> list[object]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MembersApiBadResponse(f"{what}: expected a list, got {type(value).__name__}")
    return value


def _optional_object(
    data: Mapping[str, object], key: str, what: str
) -> Mapping[str, object] | None:
    value = data.get(key)
    return None if value is None else _object(value, f"{what}.{key}")


def _int(data: Mapping[str, object], key: str, what: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise MembersApiBadResponse(f"{what}.{key}: expected an integer, got {value!r}")
    return value


def _optional_int(data: Mapping[str, object], key: str, what: str) -> int | None:
    return None if data.get(key) is None else _int(data, key, what)


def _optional_str(data: Mapping[str, object], key: str, what: str) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise MembersApiBadResponse(f"{what}.{key}: expected a string, got {value!r}")
    return value.strip() or None


def _str(data: Mapping[str, object], key: str, what: str) -> str:
    value = _optional_str(data, key, what)
    if value is None:
        raise MembersApiBadResponse(f"{what}.{key}: missing")
    return value


def item_value(payload: object, what: str) -> object:
    """Unwrap the {"value": ..., "links": [...]} envelope."""
    value = _object(payload, what).get("value")
    if value is None:
        raise MembersApiBadResponse(f"{what}: no value in envelope")
    return value


def search_page(payload: object, what: str) -> tuple[list[object], int]:
    """Return the unwrapped items and totalResults of a search result."""
    data = _object(payload, what)
    items = [item_value(item, what) for item in _list(data.get("items"), f"{what}.items")]
    return items, _int(data, "totalResults", what)


def _colour(data: Mapping[str, object], key: str) -> str | None:
    value = data.get(key)
    match = _COLOUR.fullmatch(value.strip()) if isinstance(value, str) else None
    return f"#{match['hex'].lower()}" if match else None


def _parse_party(data: Mapping[str, object]) -> Party:
    return Party(
        id=_int(data, "id", "party"),
        name=_str(data, "name", "party"),
        abbreviation=_optional_str(data, "abbreviation", "party"),
        background_colour=_colour(data, "backgroundColour"),
        foreground_colour=_colour(data, "foregroundColour"),
    )


def _membership_status(membership: Mapping[str, object]) -> str | None:
    status = _optional_object(membership, "membershipStatus", "membership")
    return None if status is None else _optional_str(status, "statusDescription", "status")


def form_of_address(
    display_name: str,
    list_as: str | None,
    full_title: str | None,
    address_as: str | None = None,
) -> str:
    """How a letter greets the MP ("Dear ..."), in Parliament's own convention.

    Parliament's nameAddressAs wins when given. Otherwise: an honorific and the surname
    ("Mr Bacon", "Dr Whitford"), Sir or Dame and the first name ("Sir Keir"), or, with no
    honorific at all, the display name ("Debbie Abrahams"), as Parliament itself writes
    it. The surname comes from nameListAs ("Rees-Mogg, Mr Jacob", "Duncan Smith, Sir
    Iain"), so double-barrelled and two-word surnames stay whole. Gender is never used to
    invent an honorific: Parliament does not do so either.
    """
    if address_as:
        return address_as
    surname, _, listed_rest = (list_as or "").partition(",")
    listed = listed_rest.split()
    displayed = display_name.split()
    titled = [word for word in (full_title or "").split() if word not in _STYLES]
    honorific = next(
        (
            words[0]
            for words in (listed, displayed, titled)
            if words and words[0] in _HONORIFICS | _KNIGHT_OR_DAME
        ),
        None,
    )
    if honorific in _KNIGHT_OR_DAME:
        first_names = next(
            (words[1:] for words in (listed, displayed, titled) if words and words[0] == honorific),
            [],
        )
        if first_names:
            return f"{honorific} {first_names[0]}"
    elif honorific is not None:
        surname = surname.strip() or (displayed[-1] if len(displayed) > 1 else "")
        if surname:
            return f"{honorific} {surname}"
    return display_name


def parse_member(raw: object) -> Member:
    data = _object(raw, "member")
    display_name = _str(data, "nameDisplayAs", "member")
    party = _optional_object(data, "latestParty", "member")
    membership = _optional_object(data, "latestHouseMembership", "member")
    constituency_id: int | None = None
    constituency_name: str | None = None
    is_current = False
    status: str | None = None
    if membership is not None:
        # For peers membershipFrom is the kind of peerage, not a place.
        if _optional_int(membership, "house", "membership") == COMMONS:
            constituency_id = _optional_int(membership, "membershipFromId", "membership")
            constituency_name = _optional_str(membership, "membershipFrom", "membership")
        # A suspended MP has statusIsActive false but is still the constituents' MP: a
        # member is current until the membership ends.
        is_current = membership.get("membershipEndDate") is None
        status = _membership_status(membership)
    full_title = _optional_str(data, "nameFullTitle", "member")
    list_as = _optional_str(data, "nameListAs", "member")
    return Member(
        id=_int(data, "id", "member"),
        display_name=display_name,
        address_as=form_of_address(
            display_name, list_as, full_title, _optional_str(data, "nameAddressAs", "member")
        ),
        full_title=full_title,
        list_as=list_as,
        party=None if party is None else _parse_party(party),
        constituency_id=constituency_id,
        constituency_name=constituency_name,
        thumbnail_url=_optional_str(data, "thumbnailUrl", "member"),
        is_current=is_current,
        status=status,
    )


def parse_constituency(raw: object) -> Constituency:
    data = _object(raw, "constituency")
    member = None
    representation = _optional_object(data, "currentRepresentation", "constituency")
    if representation is not None:
        # A vacant seat has no representation, or one whose member is null.
        member_item = _optional_object(representation, "member", "representation")
        if member_item is not None and member_item.get("value") is not None:
            member = parse_member(member_item["value"])
    return Constituency(
        id=_int(data, "id", "constituency"),
        name=_str(data, "name", "constituency"),
        is_current=data.get("endDate") is None,
        member=member,
    )


def _office_is(entry: Mapping[str, object], office: str) -> bool:
    return any(
        (_optional_str(entry, key, "contact") or "").casefold() == office
        for key in ("type", "typeDescription")
    )


def _is_parliamentary_office(entry: Mapping[str, object]) -> bool:
    return _office_is(entry, "parliamentary office")


def _is_constituency_office(entry: Mapping[str, object]) -> bool:
    return _office_is(entry, "constituency office")


def normalise_email(text: str) -> str | None:
    """An address as published, tidied: no spaces, domain (and @parliament.uk) in lower case.

    Returns None for text that is not an address at all ("see website").
    """
    address = "".join(text.split())
    if not _EMAIL.fullmatch(address):
        return None
    local, _, domain = address.rpartition("@")
    domain = domain.casefold()
    # Parliament's mail ignores case; elsewhere the local part is left as the MP wrote it.
    if domain == "parliament.uk":
        local = local.casefold()
    return f"{local}@{domain}"


def _email(entry: Mapping[str, object]) -> str | None:
    value = _optional_str(entry, "email", "contact")
    return None if value is None else normalise_email(value)


def _asks_constituents_to_use_constituency_office(entries: list[Mapping[str, object]]) -> bool:
    return any(
        _USE_CONSTITUENCY_OFFICE.search(_optional_str(entry, "notes", "contact") or "")
        for entry in entries
    )


def _choose_email(entries: list[Mapping[str, object]]) -> str | None:
    """Pick one email deterministically, entries already in preference order.

    First the Constituency office when a note sends constituents there; then an
    @parliament.uk address, the Parliamentary office's before others; then the
    Parliamentary office's other address; then any other address.
    """
    redirected = _asks_constituents_to_use_constituency_office(entries)

    def rank(candidate: tuple[Mapping[str, object], str]) -> tuple[bool, bool, bool]:
        entry, email = candidate
        return (
            not (redirected and _is_constituency_office(entry)),
            not email.endswith("@parliament.uk"),
            not _is_parliamentary_office(entry),
        )

    candidates = [(entry, email) for entry in entries if (email := _email(entry))]
    # min() keeps the first of equal ranks, so the API's order breaks ties.
    return min(candidates, key=rank)[1] if candidates else None


def _postal_address(entry: Mapping[str, object]) -> str | None:
    keys = ("line1", "line2", "line3", "line4", "line5", "postcode")
    parts = [part for key in keys if (part := _optional_str(entry, key, "contact"))]
    return ", ".join(parts) or None


def parse_contact(member_id: int, payload: object) -> ContactDetails:
    raw_entries = _list(_object(payload, "contact").get("value"), "contact.value")
    entries = [
        entry
        for entry in (_object(raw, "contact entry") for raw in raw_entries)
        if entry.get("isWebAddress") is not True
    ]
    # Preferred entries first; sorted() is stable, so API order breaks ties.
    entries.sort(key=lambda entry: entry.get("isPreferred") is not True)
    # Only the Parliamentary office gives an address and phone (a Constituency office
    # record is often the member's home), unless the MP's own note sends constituents there.
    is_office = (
        _is_constituency_office
        if _asks_constituents_to_use_constituency_office(entries)
        else _is_parliamentary_office
    )
    office = next((entry for entry in entries if is_office(entry)), None)
    return ContactDetails(
        email=_choose_email(entries),
        postal_address=None if office is None else _postal_address(office),
        phone=None if office is None else _optional_str(office, "phone", "contact"),
        contact_page_url=f"https://members.parliament.uk/member/{member_id}/contact",
    )
