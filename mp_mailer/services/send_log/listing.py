"""The send log itself: a page of letters, newest first, and how many match the filter."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, Letter, LetterStatus
from mp_mailer.services.send_log.filters import LetterFilter, is_full_email, letter_conditions

PAGE_SIZE = 50
COUNT_LIMIT = 10_000
SEARCH_COUNT_LIMIT = 1_000


@dataclass(frozen=True)
class LogRow:
    id: int
    created_at: datetime
    campaign_title: str
    status: LetterStatus
    mp_name: str
    constituency_name: str
    supporter_name: str
    supporter_email: str
    sent_at: datetime | None
    attempt_count: int


@dataclass(frozen=True)
class LogPage:
    """One page of letters, newest first, with the cursors for the neighbouring pages."""

    rows: list[LogRow]
    newer_cursor: int | None
    older_cursor: int | None


_LOG_COLUMNS = (
    Letter.id,
    Letter.created_at,
    Campaign.title.label("campaign_title"),
    Letter.status,
    Letter.mp_name,
    Letter.constituency_name,
    Letter.supporter_name,
    Letter.supporter_email,
    Letter.sent_at,
    Letter.attempt_count,
)


def list_letters(
    session: Session,
    letter_filter: LetterFilter,
    *,
    before: int | None = None,
    after: int | None = None,
    page_size: int = PAGE_SIZE,
) -> LogPage:
    """A page of the log, newest first, by keyset on (created_at, id): no OFFSET, so every page
    costs the same however deep it is. `before`/`after` are letter ids from the previous page's
    links; the page holds the letters just older than `before`, or just newer than `after`."""
    conditions = letter_conditions(session, letter_filter)
    base = select(*_LOG_COLUMNS).join(Campaign, Campaign.id == Letter.campaign_id)
    key = tuple_(Letter.created_at, Letter.id)
    going_newer = after is not None and before is None
    cursor = _position(session, after if going_newer else before)
    query = base.where(*conditions)
    if going_newer and cursor is not None:
        query = query.where(key > cursor).order_by(Letter.created_at, Letter.id)
    else:
        if cursor is not None:
            query = query.where(key < cursor)
        query = query.order_by(Letter.created_at.desc(), Letter.id.desc())
    fetched = session.execute(query.limit(page_size + 1)).all()
    more = len(fetched) > page_size
    rows = [LogRow(**row._mapping) for row in fetched[:page_size]]
    if going_newer and cursor is not None:
        rows.reverse()
        newer = more
        older = bool(rows) and _exists(
            session, conditions, key < (rows[-1].created_at, rows[-1].id)
        )
    else:
        older = more
        newer = (
            cursor is not None
            and bool(rows)
            and _exists(session, conditions, key > (rows[0].created_at, rows[0].id))
        )
    return LogPage(
        rows=rows,
        newer_cursor=rows[0].id if newer else None,
        older_cursor=rows[-1].id if older else None,
    )


def _position(session: Session, letter_id: int | None) -> tuple[datetime, int] | None:
    if letter_id is None:
        return None
    created_at = session.scalar(select(Letter.created_at).where(Letter.id == letter_id))
    return None if created_at is None else (created_at, letter_id)


def _exists(
    session: Session, conditions: Sequence[ColumnElement[bool]], beyond: ColumnElement[bool]
) -> bool:
    return session.scalar(select(Letter.id).where(*conditions, beyond).limit(1)) is not None


def count_limit(letter_filter: LetterFilter) -> int:
    """How far the log counts: less far for a search by part of a name, which (without
    PostgreSQL's trigram index) reads letter after letter to find each match."""
    if letter_filter.search and not is_full_email(letter_filter.search):
        return SEARCH_COUNT_LIMIT
    return COUNT_LIMIT


def count_matching(
    session: Session, letter_filter: LetterFilter, limit: int | None = None
) -> tuple[int, bool]:
    """How many letters match, counting no further than `limit`; (count, whether it stopped)."""
    limit = count_limit(letter_filter) if limit is None else limit
    matching = select(Letter.id).where(*letter_conditions(session, letter_filter)).limit(limit + 1)
    counted = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    return min(counted, limit), counted > limit
