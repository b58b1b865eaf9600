"""Which letters the send log shows: the filter and its SQL conditions.

Also the choices the filter bar offers, and a description of a filter a person can read."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from mp_mailer.models import CachedConstituency, CachedMember, Campaign, Letter, LetterStatus
from mp_mailer.uk_time import uk_midnight_as_utc

_FULL_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LIKE_ESCAPE = "/"


def status_label(status: str) -> str:
    """'awaiting_confirmation' -> 'awaiting confirmation'."""
    return str(status).replace("_", " ")


def is_full_email(text: str) -> bool:
    return bool(_FULL_EMAIL.match(text))


@dataclass(frozen=True)
class LetterFilter:
    """Which letters the log shows; the default shows every letter."""

    campaign_id: int | None = None
    status: LetterStatus | None = None
    created_from: date | None = None
    created_to: date | None = None
    place: str = ""
    search: str = ""

    @property
    def is_empty(self) -> bool:
        return self == LetterFilter()


def letter_conditions(session: Session, letter_filter: LetterFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if letter_filter.campaign_id is not None:
        conditions.append(Letter.campaign_id == letter_filter.campaign_id)
    if letter_filter.status is not None:
        conditions.append(Letter.status == letter_filter.status)
    if letter_filter.created_from is not None:
        conditions.append(Letter.created_at >= uk_midnight_as_utc(letter_filter.created_from))
    if letter_filter.created_to is not None:
        day_after = letter_filter.created_to + timedelta(days=1)
        conditions.append(Letter.created_at < uk_midnight_as_utc(day_after))
    if letter_filter.place:
        conditions.append(_place_condition(session, letter_filter.place))
    if letter_filter.search:
        conditions.append(_search_condition(letter_filter.search))
    return conditions


def _like_pattern(text: str) -> str:
    escaped = (
        text.replace(_LIKE_ESCAPE, _LIKE_ESCAPE * 2)
        .replace("%", f"{_LIKE_ESCAPE}%")
        .replace("_", f"{_LIKE_ESCAPE}_")
    )
    return f"%{escaped}%"


def _search_condition(term: str) -> ColumnElement[bool]:
    # A whole address uses the plain index on supporter_email (stored lowercase); anything else
    # is a substring match, which PostgreSQL answers from the trigram index.
    if is_full_email(term):
        return Letter.supporter_email == term.lower()
    pattern = _like_pattern(term)
    return or_(
        Letter.supporter_name.ilike(pattern, escape=_LIKE_ESCAPE),
        Letter.supporter_email.ilike(pattern.lower(), escape=_LIKE_ESCAPE),
    )


def _place_condition(session: Session, place: str) -> ColumnElement[bool]:
    """Letters to an MP or a constituency, found by name in the MP cache so the letters' indexes
    on mp_id and constituency_id do the work: an exact name first, else any name containing it."""
    term = place.lower()
    mp_ids, constituency_ids = _cached_places(session, lambda column: func.lower(column) == term)
    if not (mp_ids or constituency_ids):
        pattern = _like_pattern(place)
        mp_ids, constituency_ids = _cached_places(
            session, lambda column: column.ilike(pattern, escape=_LIKE_ESCAPE)
        )
    if mp_ids or constituency_ids:
        return or_(Letter.mp_id.in_(mp_ids), Letter.constituency_id.in_(constituency_ids))
    pattern = _like_pattern(place)
    return or_(
        Letter.mp_name.ilike(pattern, escape=_LIKE_ESCAPE),
        Letter.constituency_name.ilike(pattern, escape=_LIKE_ESCAPE),
    )


def _cached_places(session: Session, matches: Any) -> tuple[list[int], list[int]]:
    mp_ids = session.scalars(
        select(CachedMember.id).where(matches(CachedMember.display_name))
    ).all()
    constituency_ids = session.scalars(
        select(CachedConstituency.id)
        .where(matches(CachedConstituency.name))
        .union(
            select(CachedMember.constituency_id).where(
                CachedMember.constituency_id.is_not(None),
                matches(CachedMember.constituency_name),
            )
        )
    ).all()
    return list(mp_ids), [i for i in constituency_ids if i is not None]


@dataclass(frozen=True)
class FilterOptions:
    campaigns: list[tuple[int, str]]
    statuses: list[LetterStatus]
    places: list[str]


def campaign_choices(session: Session) -> list[tuple[int, str]]:
    """(id, title) of every campaign, newest first."""
    rows = session.execute(
        select(Campaign.id, Campaign.title).order_by(Campaign.created_at.desc(), Campaign.id)
    ).all()
    return [(row.id, row.title) for row in rows]


def filter_options(session: Session) -> FilterOptions:
    """The choices offered by the filter bar: campaigns, states, and names of MPs and seats."""
    names = session.execute(
        select(CachedMember.constituency_name, CachedMember.display_name).where(
            CachedMember.is_current.is_(True)
        )
    ).all()
    return FilterOptions(
        campaigns=campaign_choices(session),
        statuses=list(LetterStatus),
        places=sorted({name for row in names for name in row if name}),
    )


def describe_filter(session: Session, letter_filter: LetterFilter) -> list[tuple[str, str]]:
    """A filter as (label, value) pairs a person can read."""
    described: list[tuple[str, str]] = []
    if letter_filter.campaign_id is not None:
        title = session.scalar(
            select(Campaign.title).where(Campaign.id == letter_filter.campaign_id)
        )
        described.append(("Campaign", title or f"#{letter_filter.campaign_id} (deleted)"))
    if letter_filter.status is not None:
        described.append(("State", status_label(letter_filter.status)))
    if letter_filter.created_from is not None:
        described.append(("Written from", f"{letter_filter.created_from:%d %b %Y}"))
    if letter_filter.created_to is not None:
        described.append(("Written up to", f"{letter_filter.created_to:%d %b %Y}"))
    if letter_filter.place:
        described.append(("Constituency or MP", letter_filter.place))
    if letter_filter.search:
        described.append(("Supporter", letter_filter.search))
    return described
