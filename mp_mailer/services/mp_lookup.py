"""Postcode to MP, through the Members API with a database cache that outlives an API outage."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mp_mailer.clients.parliament import (
    Constituency,
    ContactDetails,
    Member,
    MembersApiClient,
    MembersApiError,
    MembersApiUnavailable,
)
from mp_mailer.db import transaction
from mp_mailer.models import CachedConstituency, CachedMember, CachedPostcode
from mp_mailer.postcodes import PostcodeKind, crown_dependency_name, parse_postcode

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


def find_mp_for_postcode(
    session: Session,
    client: MembersApiClient,
    postcode_text: str,
    now: datetime,
    lifetimes: CacheLifetimes,
) -> MpDetails:
    """The current MP for a postcode, from the cache while fresh, else from the Members API.

    Raises a LookupProblem subclass with a message for the supporter. When the API is down,
    stale cached answers are used rather than failing.
    """
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

    cached = session.get(CachedPostcode, postcode.text)
    if cached is not None and cached.constituency is not None:
        constituency = cached.constituency
        member = constituency.member
        fresh = (
            now - cached.refreshed_at < lifetimes.postcode
            and now - constituency.refreshed_at < lifetimes.member
            and (member is None or _contact_is_fresh(member, now, lifetimes))
        )
        if fresh:
            return _details_or_vacant(constituency, member)
    try:
        return _fetch_and_cache(session, client, postcode.text, now, lifetimes)
    except MembersApiUnavailable as e:
        if cached is not None and cached.constituency is not None:
            logger.warning("Members API unavailable; answering from a stale cache: %s", e)
            return _details_or_vacant(cached.constituency, cached.constituency.member)
        raise LookupUnavailable() from e
    except MembersApiError as e:
        logger.error("Members API gave an answer we could not use: %s", e)
        raise LookupUnavailable() from e


def _contact_is_fresh(member: CachedMember, now: datetime, lifetimes: CacheLifetimes) -> bool:
    return member.contact_refreshed_at is not None and (
        now - member.contact_refreshed_at < lifetimes.member
    )


def _fetch_and_cache(
    session: Session,
    client: MembersApiClient,
    postcode: str,
    now: datetime,
    lifetimes: CacheLifetimes,
) -> MpDetails:
    found = client.find_constituency_for_postcode(postcode)
    if found is None:
        raise PostcodeNotFound()
    contact = client.get_contact(found.member.id) if found.member is not None else None
    with transaction(session):
        constituency = store_constituency(session, found, now)
        if found.member is not None and contact is not None:
            store_contact(session, found.member.id, contact, now)
        cached = session.get(CachedPostcode, postcode)
        if cached is None:
            session.add(CachedPostcode(postcode=postcode, constituency_id=constituency.id))
        else:
            cached.constituency_id = constituency.id
            cached.refreshed_at = now
    session.refresh(constituency)
    return _details_or_vacant(constituency, constituency.member)


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
