"""The database's copy of MPs and seats: storing what the Members API said, reading it back as
MpDetails, and the sync of every current MP."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.clients.parliament_records import Constituency, ContactDetails, Member
from mp_mailer.db import transaction
from mp_mailer.models import CachedConstituency, CachedMember
from mp_mailer.services.lookup_problems import LookupUnavailable, SeatVacant


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


def details_or_vacant(constituency: CachedConstituency, member: CachedMember | None) -> MpDetails:
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


SYNC_PROGRESS_EVERY = 100


@dataclass(frozen=True)
class SyncReport:
    current: int
    no_longer_current: int


def sync_current_mps(
    session: Session,
    client: MembersApiClient,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> SyncReport:
    """Load every current MP into the cache, and mark the ones Parliament no longer lists.

    `progress` hears how many MPs are loaded so far, after every SYNC_PROGRESS_EVERY."""
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
            if progress is not None and len(seen) % SYNC_PROGRESS_EVERY == 0:
                progress(len(seen))
        if not seen:
            raise LookupUnavailable("The Members API listed no current MPs; nothing was changed.")
        gone = session.execute(
            update(CachedMember)
            .where(CachedMember.id.not_in(seen), CachedMember.is_current.is_(True))
            .values(is_current=False, refreshed_at=now)
        )
    return SyncReport(current=len(seen), no_longer_current=gone.rowcount)  # type: ignore[attr-defined]
