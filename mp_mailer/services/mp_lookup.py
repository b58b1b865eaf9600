"""Postcode to MP, through the Members API with a database cache that outlives an API outage."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.orm import Session

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.clients.parliament_errors import (
    MembersApiError,
    MembersApiPaused,
    MembersApiUnavailable,
)
from mp_mailer.db import transaction
from mp_mailer.models import CachedConstituency, CachedMember, CachedPostcode
from mp_mailer.postcodes import PostcodeKind, crown_dependency_name, parse_postcode
from mp_mailer.services.lookup_problems import (
    LookupBusy,
    LookupProblem,
    LookupUnavailable,
    NotAPostcode,
    NoWestminsterMp,
    PostcodeNotFound,
    TooManyLookups,
)
from mp_mailer.services.mp_cache import (
    MpDetails,
    details_or_vacant,
    store_constituency,
    store_contact,
)
from mp_mailer.services.warm_lookups import WarmLookups

logger = logging.getLogger(__name__)


class LookupBudget:
    """How many lookups may reach the Members API: per client address, and for the whole site.

    Only lookups the cache cannot answer spend from it. Counters live in the rate limiter's
    storage (memory, or Redis so every web process shares them). The site-wide ceiling keeps
    a viral campaign below the rates at which Parliament's servers start refusing callers.
    """

    def __init__(self, storage_uri: str, per_address: str, site_wide: str) -> None:
        self._limiter = MovingWindowRateLimiter(storage_from_string(storage_uri))
        self._per_address = parse_many(per_address)
        self._site_wide = parse_many(site_wide)

    def spend(self, client_address: str) -> None:
        """Count one lookup, or raise TooManyLookups / LookupBusy and count nothing."""
        if not self._has_room(self._per_address, "address", client_address):
            raise TooManyLookups()
        if not self._has_room(self._site_wide, "site"):
            raise LookupBusy()
        self._hit(self._per_address, "address", client_address)
        self._hit(self._site_wide, "site")

    def _has_room(self, items: list[RateLimitItem], *key: str) -> bool:
        return all(self._limiter.test(item, "mp-lookup", *key) for item in items)

    def _hit(self, items: list[RateLimitItem], *key: str) -> None:
        for item in items:
            self._limiter.hit(item, "mp-lookup", *key)


@dataclass(frozen=True)
class CacheLifetimes:
    postcode: timedelta
    member: timedelta
    # Short: a postcode too new for Parliament's records should work soon after it arrives.
    not_found: timedelta = timedelta(hours=1)


def find_mp_for_postcode(
    session: Session,
    client: MembersApiClient,
    postcode_text: str,
    now: datetime,
    lifetimes: CacheLifetimes,
    *,
    budget: LookupBudget | None = None,
    client_address: str = "",
    warm: WarmLookups[MpDetails] | None = None,
) -> MpDetails:
    """The current MP for a postcode, from the cache while fresh, else from the Members API.

    Raises a LookupProblem subclass with a message for the supporter. When the API is down,
    busy, or asks us to wait, or `budget` has no room for `client_address`, stale cached
    answers are used rather than failing. Only a lookup that reaches the API spends budget.
    `warm` answers a postcode read fresh from the cache a few seconds ago without a query.
    """
    postcode = _full_postcode(postcode_text)
    remembered = warm.find(postcode, now) if warm is not None else None
    if remembered is not None:
        return remembered
    cached = session.get(CachedPostcode, postcode)
    fresh = _fresh_answer(cached, now, lifetimes) if cached is not None else None
    if fresh is not None:
        if warm is not None:
            warm.keep(postcode, fresh, now)
        return fresh
    stale = cached.constituency if cached is not None else None
    try:
        if budget is not None:
            budget.spend(client_address)
        if (
            stale is not None
            and stale.member is not None
            and _seat_is_fresh(cached, now, lifetimes)
        ):
            return _refresh_contact(session, client, stale, stale.member, now)
        return _fetch_and_cache(session, client, postcode, now)
    except (MembersApiUnavailable, TooManyLookups, LookupBusy) as e:
        if stale is not None:
            logger.warning(
                "Members API not asked (%s); answering from a stale cache", type(e).__name__
            )
            return details_or_vacant(stale, stale.member)
        if isinstance(e, LookupProblem):
            raise
        raise (LookupBusy() if isinstance(e, MembersApiPaused) else LookupUnavailable()) from e
    except MembersApiError as e:
        logger.error("Members API gave an answer we could not use: %s", e)
        raise LookupUnavailable() from e


def _full_postcode(postcode_text: str) -> str:
    """The normalised postcode, or the LookupProblem that says why it has no MP."""
    postcode = parse_postcode(postcode_text)
    if postcode.kind == PostcodeKind.INVALID:
        raise NotAPostcode()
    if postcode.kind == PostcodeKind.CROWN_DEPENDENCY:
        place = crown_dependency_name(postcode.text) or "that island"
        raise NoWestminsterMp(
            f"{place[0].upper()}{place[1:]} is a Crown Dependency with its own parliament, "
            "so it has no MP at Westminster."
        )
    if postcode.kind == PostcodeKind.NO_CONSTITUENCY:
        raise NoWestminsterMp(
            "That postcode (forces post, an overseas territory or a non-geographic address) "
            "has no constituency, so it has no MP."
        )
    return postcode.text


def _fresh_answer(
    cached: CachedPostcode, now: datetime, lifetimes: CacheLifetimes
) -> MpDetails | None:
    """The cached answer if it can be trusted without asking the API, else None.

    Raises PostcodeNotFound for a postcode the API recently did not know, and SeatVacant.
    """
    constituency = cached.constituency
    if constituency is None:
        if now - cached.refreshed_at < lifetimes.not_found:
            raise PostcodeNotFound()
        return None
    member = constituency.member
    if _seat_is_fresh(cached, now, lifetimes) and (
        member is None or _contact_is_fresh(member, now, lifetimes)
    ):
        return details_or_vacant(constituency, member)
    return None


def _seat_is_fresh(cached: CachedPostcode | None, now: datetime, lifetimes: CacheLifetimes) -> bool:
    return (
        cached is not None
        and cached.constituency is not None
        and now - cached.refreshed_at < lifetimes.postcode
        and now - cached.constituency.refreshed_at < lifetimes.member
    )


def _contact_is_fresh(member: CachedMember, now: datetime, lifetimes: CacheLifetimes) -> bool:
    return member.contact_refreshed_at is not None and (
        now - member.contact_refreshed_at < lifetimes.member
    )


def _refresh_contact(
    session: Session,
    client: MembersApiClient,
    constituency: CachedConstituency,
    member: CachedMember,
    now: datetime,
) -> MpDetails:
    """The seat and its MP are known and fresh (after sync-mps, say): only the contact is asked."""
    contact = client.get_contact(member.id)
    with transaction(session):
        store_contact(session, member.id, contact, now)
    session.refresh(member)
    return details_or_vacant(constituency, member)


def _fetch_and_cache(
    session: Session,
    client: MembersApiClient,
    postcode: str,
    now: datetime,
) -> MpDetails:
    found = client.find_constituency_for_postcode(postcode)
    if found is None:
        with transaction(session):
            _store_postcode(session, postcode, None, now)
        raise PostcodeNotFound()
    contact = client.get_contact(found.member.id) if found.member is not None else None
    with transaction(session):
        constituency = store_constituency(session, found, now)
        if found.member is not None and contact is not None:
            store_contact(session, found.member.id, contact, now)
        _store_postcode(session, postcode, constituency.id, now)
    session.refresh(constituency)
    return details_or_vacant(constituency, constituency.member)


def _store_postcode(
    session: Session, postcode: str, constituency_id: int | None, now: datetime
) -> None:
    cached = session.get(CachedPostcode, postcode)
    if cached is None:
        session.add(
            CachedPostcode(postcode=postcode, constituency_id=constituency_id, refreshed_at=now)
        )
    else:
        cached.constituency_id = constituency_id
        cached.refreshed_at = now
