"""Postcode to MP, through the Members API with a database cache that outlives an API outage."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from limits import RateLimitItem, parse_many
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mp_mailer.clients.parliament import (
    Constituency,
    ContactDetails,
    Member,
    MembersApiClient,
    MembersApiError,
    MembersApiPaused,
    MembersApiUnavailable,
)
from mp_mailer.db import transaction
from mp_mailer.models import CachedConstituency, CachedMember, CachedPostcode
from mp_mailer.postcodes import PostcodeKind, crown_dependency_name, parse_postcode
from mp_mailer.services.warm_lookups import WarmLookups

logger = logging.getLogger(__name__)


class LookupProblem(Exception):
    """A postcode that does not lead to an MP we can write to; `message` is for the supporter."""

    message = "We could not find an MP for that postcode."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class NotAPostcode(LookupProblem):
    message = "Enter a full UK postcode, like SW1A 1AA."


class PostcodeNotFound(LookupProblem):
    message = (
        "We couldn't find that postcode. Check it against an envelope or bill: "
        "new postcodes can take a few months to reach Parliament's records."
    )


class NoWestminsterMp(LookupProblem):
    """Somewhere with a postcode but no MP in the House of Commons: outside the UK proper."""


class SeatVacant(LookupProblem):
    def __init__(self, constituency_name: str) -> None:
        super().__init__(
            f"{constituency_name} has no MP at the moment: the seat is vacant until a "
            "by-election. Please come back once a new MP has been elected."
        )
        self.constituency_name = constituency_name


class LookupUnavailable(LookupProblem):
    message = (
        "Parliament's MP finder isn't answering right now. Please try again in a few minutes: "
        "nothing you have typed has been lost."
    )


class TooManyLookups(LookupProblem):
    """One client address has used up its share of lookups that reach the Members API."""

    message = (
        "We have looked up a lot of postcodes from your internet connection in the last few "
        "minutes. Please wait a few minutes and try again: nothing you have typed has been lost."
    )


class LookupBusy(LookupUnavailable):
    """The site's own ceiling on Members API calls, or Parliament's request to wait."""

    message = (
        "So many people are finding their MP right now that we have to slow down for a "
        "moment. Please try again in a minute or two: nothing you have typed has been lost."
    )


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
class MpDetails:
    id: int
    name: str
    address_as: str
    full_title: str | None
    party: str | None
    party_colour: str | None
    constituency_id: int
    constituency_name: str
    thumbnail_url: str | None
    email: str | None
    postal_address: str | None
    phone: str | None
    contact_page_url: str | None


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
            return _details_or_vacant(stale, stale.member)
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
        return _details_or_vacant(constituency, member)
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
    return _details_or_vacant(constituency, member)


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
    return _details_or_vacant(constituency, constituency.member)


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


def store_member(session: Session, member: Member, now: datetime) -> CachedMember:
    cached = session.get(CachedMember, member.id)
    if cached is None:
        cached = CachedMember(id=member.id)
        session.add(cached)
    cached.display_name = member.display_name
    cached.address_as = member.address_as
    cached.full_title = member.full_title
    cached.party_name = member.party.name if member.party else None
    cached.party_abbreviation = member.party.abbreviation if member.party else None
    cached.party_colour = member.party.background_colour if member.party else None
    cached.constituency_id = member.constituency_id
    cached.constituency_name = member.constituency_name
    cached.thumbnail_url = member.thumbnail_url
    cached.is_current = member.is_current
    cached.refreshed_at = now
    return cached


def store_constituency(
    session: Session, constituency: Constituency, now: datetime
) -> CachedConstituency:
    if constituency.member is not None:
        store_member(session, constituency.member, now)
        session.flush()
    cached = session.get(CachedConstituency, constituency.id)
    if cached is None:
        cached = CachedConstituency(id=constituency.id)
        session.add(cached)
    cached.name = constituency.name
    cached.member_id = constituency.member.id if constituency.member else None
    cached.refreshed_at = now
    session.flush()
    return cached


def store_contact(session: Session, member_id: int, contact: ContactDetails, now: datetime) -> None:
    session.execute(
        update(CachedMember)
        .where(CachedMember.id == member_id)
        .values(
            email=contact.email,
            postal_address=contact.postal_address,
            phone=contact.phone,
            contact_page_url=contact.contact_page_url,
            contact_refreshed_at=now,
        )
    )


def _details_or_vacant(constituency: CachedConstituency, member: CachedMember | None) -> MpDetails:
    if member is None or not member.is_current:
        raise SeatVacant(constituency.name)
    return mp_details(member, constituency)


def mp_details(member: CachedMember, constituency: CachedConstituency | None = None) -> MpDetails:
    return MpDetails(
        id=member.id,
        name=member.display_name,
        address_as=member.address_as,
        full_title=member.full_title,
        party=member.party_name,
        party_colour=member.party_colour,
        constituency_id=constituency.id if constituency else member.constituency_id or 0,
        constituency_name=(
            constituency.name if constituency else member.constituency_name or "their constituency"
        ),
        thumbnail_url=member.thumbnail_url,
        email=member.email,
        postal_address=member.postal_address,
        phone=member.phone,
        contact_page_url=member.contact_page_url,
    )


def find_cached_mp(session: Session, member_id: int) -> MpDetails | None:
    member = session.get(CachedMember, member_id)
    return mp_details(member) if member is not None else None


def search_cached_mps(session: Session, text: str, limit: int = 20) -> list[MpDetails]:
    """Current MPs whose name or constituency contains the text, for campaigners' previews."""
    pattern = f"%{text.strip()}%"
    rows = session.scalars(
        select(CachedMember)
        .where(CachedMember.is_current.is_(True))
        .where(
            CachedMember.display_name.ilike(pattern) | CachedMember.constituency_name.ilike(pattern)
        )
        .order_by(CachedMember.display_name)
        .limit(limit)
    )
    return [mp_details(member) for member in rows]


@dataclass(frozen=True)
class SyncReport:
    current: int
    no_longer_current: int


def sync_current_mps(session: Session, client: MembersApiClient, now: datetime) -> SyncReport:
    """Load every current MP into the cache, and mark the ones Parliament no longer lists."""
    seen: set[int] = set()
    with transaction(session):
        for member in client.list_current_mps():
            if member.constituency_id is None or not member.constituency_name:
                store_member(session, member, now)
            else:
                store_constituency(
                    session,
                    Constituency(
                        id=member.constituency_id,
                        name=member.constituency_name,
                        is_current=True,
                        member=member,
                    ),
                    now,
                )
            seen.add(member.id)
        if not seen:
            raise LookupUnavailable("The Members API listed no current MPs; nothing was changed.")
        gone = session.execute(
            update(CachedMember)
            .where(CachedMember.id.not_in(seen), CachedMember.is_current.is_(True))
            .values(is_current=False, refreshed_at=now)
        )
    return SyncReport(current=len(seen), no_longer_current=gone.rowcount)  # type: ignore[attr-defined]
