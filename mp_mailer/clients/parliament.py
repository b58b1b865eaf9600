"""Client for the UK Parliament Members API: postcode to constituency, MP and contact details,
over one requests.Session with timeouts, retries and the API's own pauses."""

import logging
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from types import TracebackType
from typing import Self
from urllib.parse import quote, urlencode

import requests

from mp_mailer.clients.parliament_errors import (
    MembersApiBadResponse,
    MembersApiNotFound,
    MembersApiPaused,
    MembersApiUnavailable,
)
from mp_mailer.clients.parliament_records import (
    COMMONS,
    Constituency,
    ContactDetails,
    Member,
    item_value,
    parse_constituency,
    parse_contact,
    parse_member,
    search_page,
)

logger = logging.getLogger(__name__)


DEFAULT_USER_AGENT = "mp_mailer/0.1 (+https://github.com/mp-mailer/mp_mailer)"


# The API rejects or caps anything above 20 (spec: "Maximum is 20").
_PAGE_SIZE = 20


# About 650 MPs make 33 pages; this only stops a misbehaving API paging us forever.
_MAX_PAGES = 100


_RETRYABLE_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    # Raised by _send only for 429 and 5xx responses.
    requests.HTTPError,
)


# Without a Retry-After, a 429 still means "not now": keep away for this long.
_DEFAULT_PAUSE_SECONDS = 60.0


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
        items, _ = search_page(_decode(path, response), "constituency search")
        current = [c for c in map(parse_constituency, items) if c.is_current]
        if len(current) > 1:
            ids = ", ".join(str(c.id) for c in current)
            raise MembersApiBadResponse(f"several current constituencies match: {ids}")
        return current[0] if current else None

    def get_constituency(self, constituency_id: int) -> Constituency:
        """Raises MembersApiNotFound for an unknown id."""
        payload = self._get_json(f"Location/Constituency/{constituency_id}")
        return parse_constituency(item_value(payload, "constituency"))

    def get_member(self, member_id: int) -> Member:
        """Raises MembersApiNotFound for an unknown id."""
        payload = self._get_json(f"Members/{member_id}")
        return parse_member(item_value(payload, "member"))

    def get_contact(self, member_id: int) -> ContactDetails:
        """Raises MembersApiNotFound for an unknown id; email is None if none is published."""
        payload = self._get_json(f"Members/{member_id}/Contact")
        return parse_contact(member_id, payload)

    def list_current_mps(self) -> Iterator[Member]:
        """Yield every current MP, one page of 20 at a time.

        Errors surface during iteration. A page that comes back empty before
        totalResults is reached raises MembersApiBadResponse, so a caller syncing
        MPs never mistakes a short list for the whole House.
        """
        skip = 0
        for _ in range(_MAX_PAGES):
            query: dict[str, str | int] = {
                "House": COMMONS,
                "IsCurrentMember": "true",
                "skip": skip,
                "take": _PAGE_SIZE,
            }
            items, total = search_page(self._get_json("Members/Search", query), "members search")
            for item in items:
                yield parse_member(item)
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
