"""Which current MPs have received letters, in one campaign or all, and how many each."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from mp_mailer.models import CachedMember, Letter, LetterStatus

MP_SORTS = ("constituency", "name", "letters")


def mp_reach(session: Session, campaign_id: int | None) -> tuple[int, int]:
    """(current MPs who have received a letter, all current MPs), in one or all campaigns."""
    conditions = [] if campaign_id is None else [Letter.campaign_id == campaign_id]
    return count_mps_reached(session, conditions), count_current_mps(session)


def count_current_mps(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(CachedMember).where(CachedMember.is_current)
        )
        or 0
    )


def count_mps_reached(session: Session, conditions: list[ColumnElement[bool]]) -> int:
    # The MPs written to first, then which are current: asked the other way round, SQLite walks
    # every letter of every MP by ix_letters_mp_id.
    written_to = (
        select(Letter.mp_id)
        .where(*conditions, Letter.status == LetterStatus.SENT)
        .group_by(Letter.mp_id)
        .subquery()
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(written_to)
            .join(CachedMember, CachedMember.id == written_to.c.mp_id)
            .where(CachedMember.is_current)
        )
        or 0
    )


@dataclass(frozen=True)
class MpLetters:
    mp_id: int
    name: str
    party: str | None
    party_colour: str | None
    constituency: str | None
    letters_sent: int
    last_sent_at: datetime | None


def list_mps(
    session: Session,
    campaign_id: int | None,
    *,
    sort: str = "constituency",
    only_not_written: bool = False,
) -> list[MpLetters]:
    """Every current MP and how many letters they have received (sent), in one or all campaigns."""
    conditions = [Letter.status == LetterStatus.SENT]
    if campaign_id is not None:
        conditions.append(Letter.campaign_id == campaign_id)
    sent = (
        select(
            Letter.mp_id,
            func.count().label("letters_sent"),
            func.max(Letter.sent_at).label("last_sent_at"),
        )
        .where(*conditions)
        .group_by(Letter.mp_id)
        .subquery()
    )
    letters_sent = func.coalesce(sent.c.letters_sent, 0)
    query: Select[Any] = (
        select(
            CachedMember.id.label("mp_id"),
            CachedMember.display_name.label("name"),
            CachedMember.party_name.label("party"),
            CachedMember.party_colour,
            CachedMember.constituency_name.label("constituency"),
            letters_sent.label("letters_sent"),
            sent.c.last_sent_at,
        )
        .outerjoin(sent, sent.c.mp_id == CachedMember.id)
        .where(CachedMember.is_current.is_(True))
    )
    if only_not_written:
        query = query.where(sent.c.mp_id.is_(None))
    orderings = {
        "name": (CachedMember.display_name,),
        "letters": (letters_sent.desc(), CachedMember.constituency_name),
        "constituency": (CachedMember.constituency_name, CachedMember.display_name),
    }
    query = query.order_by(*orderings.get(sort, orderings["constituency"]))
    return [MpLetters(**row._mapping) for row in session.execute(query)]
