"""Client for the UK Parliament Members API: postcode to constituency, MP and contact details."""

import logging
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Self
from urllib.parse import quote, urlencode

import requests

logger = logging.getLogger(__name__)

DEFAULT_USER_AGENT = "mp_mailer/0.1 (+https://github.com/mp-mailer/mp_mailer)"

# The API rejects or caps anything above 20 (spec: "Maximum is 20").
_PAGE_SIZE = 20
# About 650 MPs make 33 pages; this only stops a misbehaving API paging us forever.
_MAX_PAGES = 100
_COMMONS = 1
_RETRYABLE_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    # Raised by _send only for 429 and 5xx responses.
    requests.HTTPError,
)
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
# Without a Retry-After, a 429 still means "not now": keep away for this long.
_DEFAULT_PAUSE_SECONDS = 60.0


class MembersApiError(Exception):
    """Any failure talking to the Members API."""


class MembersApiUnavailable(MembersApiError):
    """Retryable: connection error, timeout, 429 or 5xx, after the client's own retries."""


class MembersApiPaused(MembersApiUnavailable):
    """Parliament asked us to wait (429 or Retry-After), and the wait is not over: no call made."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class MembersApiBadResponse(MembersApiError):
    """Permanent: a 4xx, malformed JSON or a payload of an unexpected shape."""


class MembersApiNotFound(MembersApiBadResponse):
    """A 404 for a member or constituency id."""


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


class MembersApiClient:
    """Typed access to the few Members API endpoints the tool needs.

    Every method raises MembersApiUnavailable (worth retrying later) or
    MembersApiBadResponse (not worth retrying); both are MembersApiErrors.
    """

    def __init__(
        self,
        base_url: str,
        timeout: tuple[float, float] = (3.05, 10.0),
        retries: int = 2,
        backoff_factor: float = 0.5,
        session: requests.Session | None = None,
        *,
        max_retry_after: float = 5.0,
        user_agent: str = DEFAULT_USER_AGENT,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Set up the client.

        `retries` is the number of extra attempts after a retryable failure, waiting
        `backoff_factor * 2**n` seconds, or the server's Retry-After if longer. A
        Retry-After above `max_retry_after` means a rate-limit ban: the client gives up
        at once rather than hold a supporter's request. A `session` passed in gets the
        client's headers and is left open by close().
        """
        if retries < 0:
            raise ValueError("retries must be zero or more")
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout
        self._retries = retries
        self._backoff_factor = backoff_factor
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._clock = clock
        self._paused_until = 0.0
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        self._session.headers.update({"Accept": "application/json", "User-Agent": user_agent})

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        if self._owns_session:
            self._session.close()

    def find_constituency_for_postcode(self, postcode: str) -> Constituency | None:
        """Return the one current constituency containing a full postcode, or None.

        Pass a normalised full postcode: the API also matches constituency names, so
        partial text can match several seats. None means no current constituency
        matched (or the API rejected the text with a 400). Several current matches
        raise MembersApiBadResponse rather than guess.
        """
        path = "Location/Constituency/Search"
        response = self._send(path, {"searchText": postcode, "skip": 0, "take": _PAGE_SIZE})
        if response.status_code == requests.codes.bad_request:
            return None
        items, _ = _search_page(_decode(path, response), "constituency search")
        current = [c for c in map(_parse_constituency, items) if c.is_current]
        if len(current) > 1:
            ids = ", ".join(str(c.id) for c in current)
            raise MembersApiBadResponse(f"several current constituencies match: {ids}")
        return current[0] if current else None

    def get_constituency(self, constituency_id: int) -> Constituency:
        """Raises MembersApiNotFound for an unknown id."""
        payload = self._get_json(f"Location/Constituency/{constituency_id}")
        return _parse_constituency(_item_value(payload, "constituency"))

    def get_member(self, member_id: int) -> Member:
        """Raises MembersApiNotFound for an unknown id."""
        payload = self._get_json(f"Members/{member_id}")
        return _parse_member(_item_value(payload, "member"))

    def get_contact(self, member_id: int) -> ContactDetails:
        """Raises MembersApiNotFound for an unknown id; email is None if none is published."""
        payload = self._get_json(f"Members/{member_id}/Contact")
        return _parse_contact(member_id, payload)

    def list_current_mps(self) -> Iterator[Member]:
        """Yield every current MP, one page of 20 at a time.

        Errors surface during iteration. A page that comes back empty before
        totalResults is reached raises MembersApiBadResponse, so a caller syncing
        MPs never mistakes a short list for the whole House.
        """
        skip = 0
        for _ in range(_MAX_PAGES):
            query: dict[str, str | int] = {
                "House": _COMMONS,
                "IsCurrentMember": "true",
                "skip": skip,
                "take": _PAGE_SIZE,
            }
            items, total = _search_page(self._get_json("Members/Search", query), "members search")
            for item in items:
                yield _parse_member(item)
            skip += len(items)
            if skip >= total:
                return
            if not items:
                raise MembersApiBadResponse(f"empty page at skip={skip} of {total} members")
        raise MembersApiBadResponse(f"members search still paging after {_MAX_PAGES} pages")

    def _get_json(self, path: str, params: Mapping[str, str | int] | None = None) -> object:
        return _decode(path, self._send(path, params))

    def _send(self, path: str, params: Mapping[str, str | int] | None = None) -> requests.Response:
        """GET with bounded retries; returns any response that is not 429 or 5xx.

        After a 429, or a Retry-After too long to wait for, no request leaves this client
        until the wait is over: MembersApiPaused is raised at once instead, so a busy site
        does not keep knocking while Parliament has asked it to stop.
        """
        remaining = self._paused_until - self._clock()
        if remaining > 0:
            raise MembersApiPaused(
                f"Members API asked us to wait; {remaining:.0f} s left", retry_after=remaining
            )
        url = f"{self._base_url}/{path}"
        # %20 rather than requests' '+' for spaces: unambiguous in a query string.
        query = urlencode(params, quote_via=quote, safe="") if params else None
        attempt = 0
        while True:
            started = time.monotonic()
            try:
                response = self._session.get(url, params=query, timeout=self._timeout)
                # The query string is left out of logs: it can hold a supporter's postcode.
                logger.debug(
                    "Members API GET /%s -> %s in %.0f ms",
                    path,
                    response.status_code,
                    (time.monotonic() - started) * 1000,
                )
                if _is_retryable_status(response.status_code):
                    response.raise_for_status()
                return response
            except _RETRYABLE_ERRORS as e:
                delay = self._retry_delay(attempt, e.response)
                if attempt >= self._retries or delay is None:
                    self._pause_if_asked(e.response)
                    raise MembersApiUnavailable(f"Members API GET /{path} failed: {e}") from e
                attempt += 1
                logger.warning(
                    "Members API GET /%s failed (%s); retry %d of %d in %.2f s",
                    path,
                    type(e).__name__,
                    attempt,
                    self._retries,
                    delay,
                )
                self._sleep(delay)
            except requests.RequestException as e:
                raise MembersApiBadResponse(f"Members API GET /{path} failed: {e}") from e

    def _pause_if_asked(self, response: requests.Response | None) -> None:
        """Remember Parliament's 'come back later' when giving up on a 429 or a Retry-After."""
        if response is None:
            return
        retry_after = _parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None and response.status_code == requests.codes.too_many_requests:
            retry_after = _DEFAULT_PAUSE_SECONDS
        if retry_after:
            self._paused_until = max(self._paused_until, self._clock() + retry_after)
            logger.warning("Members API asked us to wait; no calls for %.0f s", retry_after)

    def _retry_delay(self, attempt: int, response: requests.Response | None) -> float | None:
        """Seconds to wait before the next attempt, or None to give up now."""
        delay = self._backoff_factor * 2.0**attempt
        if response is None:
            return delay
        retry_after = _parse_retry_after(response.headers.get("Retry-After"))
        if retry_after is None:
            return delay
        if retry_after > self._max_retry_after:
            logger.warning(
                "Members API asked us to wait %.0f s, above the %.0f s limit; giving up",
                retry_after,
                self._max_retry_after,
            )
            return None
        return max(delay, retry_after)


def _is_retryable_status(status: int) -> bool:
    return status == requests.codes.too_many_requests or status >= 500


def _parse_retry_after(value: str | None) -> float | None:
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _decode(path: str, response: requests.Response) -> object:
    try:
        response.raise_for_status()
    except requests.HTTPError as e:
        if response.status_code == requests.codes.not_found:
            raise MembersApiNotFound(f"Members API GET /{path}: not found") from e
        raise MembersApiBadResponse(f"Members API GET /{path}: HTTP {response.status_code}") from e
    try:
        payload: object = response.json()
    except requests.JSONDecodeError as e:
        raise MembersApiBadResponse(f"Members API GET /{path}: malformed JSON") from e
    return payload


# Shape checks. The API's own schema marks almost every field nullable, so only the
# fields the tool cannot work without are required; anything else missing becomes None.


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


def _item_value(payload: object, what: str) -> object:
    """Unwrap the {"value": ..., "links": [...]} envelope."""
    value = _object(payload, what).get("value")
    if value is None:
        raise MembersApiBadResponse(f"{what}: no value in envelope")
    return value


def _search_page(payload: object, what: str) -> tuple[list[object], int]:
    """Return the unwrapped items and totalResults of a search result."""
    data = _object(payload, what)
    items = [_item_value(item, what) for item in _list(data.get("items"), f"{what}.items")]
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


def _parse_member(raw: object) -> Member:
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
        if _optional_int(membership, "house", "membership") == _COMMONS:
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


def _parse_constituency(raw: object) -> Constituency:
    data = _object(raw, "constituency")
    member = None
    representation = _optional_object(data, "currentRepresentation", "constituency")
    if representation is not None:
        # A vacant seat has no representation, or one whose member is null.
        member_item = _optional_object(representation, "member", "representation")
        if member_item is not None and member_item.get("value") is not None:
            member = _parse_member(member_item["value"])
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


def _parse_contact(member_id: int, payload: object) -> ContactDetails:
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
