"""Staff's view of every letter: the filtered send log, one letter in full, retry and cancel,
the CSV export, campaign figures, and which MPs have heard from supporters."""

from __future__ import annotations

import csv
import email
import email.policy
import io
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import pygal
from pygal.style import Style
from sqlalchemy import ColumnElement, Date, Select, case, func, or_, select, tuple_
from sqlalchemy.orm import Session, joinedload, selectinload

from mp_mailer.db import transaction, utcnow
from mp_mailer.models import (
    CachedConstituency,
    CachedMember,
    Campaign,
    ExportRecord,
    Letter,
    LetterEvent,
    LetterStatus,
)
from mp_mailer.services import outbox

PAGE_SIZE = 50
COUNT_LIMIT = 10_000
SEARCH_COUNT_LIMIT = 1_000
EXPORT_BATCH_SIZE = 2_000
FILTER_PARAMETERS = ("campaign", "status", "from", "to", "place", "q")
CURSOR_PARAMETERS = ("before", "after")

WAITING_STATUSES = (
    LetterStatus.AWAITING_CONFIRMATION,
    LetterStatus.QUEUED,
    LetterStatus.SENDING,
    LetterStatus.RETRYING,
)
RETRYABLE_STATUSES = (LetterStatus.FAILED,)
CANCELLABLE_STATUSES = (
    LetterStatus.AWAITING_CONFIRMATION,
    LetterStatus.QUEUED,
    LetterStatus.RETRYING,
)

_FULL_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_LIKE_ESCAPE = "/"


class LetterNotFound(Exception):
    """No letter has that id."""


class ActionRefused(Exception):
    """A retry or cancel the letter's current status does not allow; `message` is for staff."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def status_label(status: str) -> str:
    """'awaiting_confirmation' -> 'awaiting confirmation'."""
    return str(status).replace("_", " ")


# Filters ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LetterFilter:
    """Which letters the log shows; each field is a URL parameter (see FILTER_PARAMETERS)."""

    campaign_id: int | None = None
    status: LetterStatus | None = None
    created_from: date | None = None
    created_to: date | None = None
    place: str = ""
    search: str = ""

    def to_query(self) -> dict[str, str]:
        """The URL parameters for this filter, leaving out the ones not set."""
        values = {
            "campaign": str(self.campaign_id) if self.campaign_id is not None else "",
            "status": self.status.value if self.status else "",
            "from": self.created_from.isoformat() if self.created_from else "",
            "to": self.created_to.isoformat() if self.created_to else "",
            "place": self.place,
            "q": self.search,
        }
        return {name: value for name, value in values.items() if value}

    @property
    def is_empty(self) -> bool:
        return not self.to_query()


def parse_filter(arguments: Mapping[str, str]) -> tuple[LetterFilter, dict[str, str]]:
    """The filter in a send log URL, and a message for each parameter that made no sense.

    A parameter that cannot be read is left out of the filter, so the page still shows letters.
    """
    problems: dict[str, str] = {}
    campaign_id = None
    raw_campaign = arguments.get("campaign", "").strip()
    if raw_campaign:
        if raw_campaign.isdigit():
            campaign_id = int(raw_campaign)
        else:
            problems["campaign"] = "Choose a campaign from the list."
    status = None
    raw_status = arguments.get("status", "").strip()
    if raw_status:
        try:
            status = LetterStatus(raw_status)
        except ValueError:
            problems["status"] = "Choose a state from the list."
    created_from = _parse_date(arguments, "from", "start", problems)
    created_to = _parse_date(arguments, "to", "end", problems)
    if created_from and created_to and created_to < created_from:
        problems["to"] = "The end date must be the same as or after the start date."
        created_to = None
    return (
        LetterFilter(
            campaign_id=campaign_id,
            status=status,
            created_from=created_from,
            created_to=created_to,
            place=" ".join(arguments.get("place", "").split())[:200],
            search=" ".join(arguments.get("q", "").split())[:254],
        ),
        problems,
    )


def _parse_date(
    arguments: Mapping[str, str], name: str, which: str, problems: dict[str, str]
) -> date | None:
    raw = arguments.get(name, "").strip()
    if not raw:
        return None
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(raw, pattern).date()
        except ValueError:
            continue
    problems[name] = f"Enter the {which} date as a real date, like 2026-11-25."
    return None


def _conditions(session: Session, letter_filter: LetterFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if letter_filter.campaign_id is not None:
        conditions.append(Letter.campaign_id == letter_filter.campaign_id)
    if letter_filter.status is not None:
        conditions.append(Letter.status == letter_filter.status)
    if letter_filter.created_from is not None:
        conditions.append(Letter.created_at >= datetime.combine(letter_filter.created_from, time()))
    if letter_filter.created_to is not None:
        day_after = letter_filter.created_to + timedelta(days=1)
        conditions.append(Letter.created_at < datetime.combine(day_after, time()))
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
    if _FULL_EMAIL.match(term):
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


def describe_filter(session: Session, query: Mapping[str, str]) -> list[tuple[str, str]]:
    """A filter's URL parameters as (label, value) pairs a person can read."""
    letter_filter, _ = parse_filter(query)
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


# The log ----------------------------------------------------------------------------------------


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
    conditions = _conditions(session, letter_filter)
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
    if letter_filter.search and not _FULL_EMAIL.match(letter_filter.search):
        return SEARCH_COUNT_LIMIT
    return COUNT_LIMIT


def count_matching(
    session: Session, letter_filter: LetterFilter, limit: int | None = None
) -> tuple[int, bool]:
    """How many letters match, counting no further than `limit`; (count, whether it stopped)."""
    limit = count_limit(letter_filter) if limit is None else limit
    matching = select(Letter.id).where(*_conditions(session, letter_filter)).limit(limit + 1)
    counted = session.scalar(select(func.count()).select_from(matching.subquery())) or 0
    return min(counted, limit), counted > limit


# One letter -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SentMessage:
    """The email as the relay accepted it: its headers, its decoded text, and the raw source."""

    headers: list[tuple[str, str]]
    text: str
    source: str


@dataclass(frozen=True)
class LetterDetail:
    letter: Letter
    sent_message: SentMessage | None
    can_retry: bool
    can_cancel: bool


def get_letter_detail(session: Session, letter_id: int) -> LetterDetail:
    """Everything about one letter. Raises LetterNotFound."""
    letter = session.scalar(
        select(Letter)
        .where(Letter.id == letter_id)
        .options(
            joinedload(Letter.campaign),
            joinedload(Letter.template),
            selectinload(Letter.attempts),
            selectinload(Letter.events).joinedload(LetterEvent.actor),
        )
    )
    if letter is None:
        raise LetterNotFound(letter_id)
    return LetterDetail(
        letter=letter,
        sent_message=parse_sent_message(letter.sent_message),
        can_retry=letter.status in RETRYABLE_STATUSES,
        can_cancel=letter.status in CANCELLABLE_STATUSES or _abandoned(letter, utcnow()),
    )


def _abandoned(letter: Letter, now: datetime) -> bool:
    """Sending, but its worker's lease has run out: staff may cancel it (outbox.cancel_unsent)."""
    return letter.status == LetterStatus.SENDING and (
        letter.lease_until is None or letter.lease_until < now
    )


def parse_sent_message(source: str | None) -> SentMessage | None:
    if not source:
        return None
    # Stored as it went over SMTP, with CRLF line ends; parsed with LF ones, as a mailbox would.
    message = email.message_from_string(source.replace("\r\n", "\n"), policy=email.policy.default)
    headers = [(name, str(value)) for name, value in message.items()]
    try:
        part = message.get_body(preferencelist=("plain",)) if message.is_multipart() else message
        text = part.get_content() if part is not None else ""
    except (LookupError, ValueError):
        text = ""
    return SentMessage(headers=headers, text=text, source=source)


def retry_letter(session: Session, letter_id: int, actor_id: int, now: datetime) -> None:
    """Queue a failed letter to be sent again, recorded as done by `actor_id`.

    Raises LetterNotFound, or ActionRefused if the letter is not failed (so never a sent one).
    """
    if not outbox.retry_failed(session, letter_id, now, actor_id):
        raise ActionRefused(_refusal(session, letter_id, "retried"))


def cancel_letter(session: Session, letter_id: int, actor_id: int, now: datetime) -> None:
    """Stop a letter that has not been sent, recorded as done by `actor_id`.

    Raises LetterNotFound, or ActionRefused once it is being sent, sent, failed or cancelled.
    """
    if not outbox.cancel_unsent(session, letter_id, now, actor_id):
        raise ActionRefused(_refusal(session, letter_id, "cancelled"))


def _refusal(session: Session, letter_id: int, action: str) -> str:
    status = session.scalar(select(Letter.status).where(Letter.id == letter_id))
    if status is None:
        raise LetterNotFound(letter_id)
    return f"This letter is {status_label(status)} now, so it can't be {action}."


# Export -----------------------------------------------------------------------------------------

EXPORT_COLUMNS: tuple[tuple[str, str], ...] = (
    ("letter_id", "The letter's number, as in the send log's address for it"),
    ("written_at", "When the supporter wrote it (UTC)"),
    ("campaign", "The campaign's title"),
    ("status", "awaiting_confirmation, queued, sending, retrying, sent, failed or cancelled"),
    ("mp_id", "The MP's id in the UK Parliament Members API"),
    ("mp_name", "The MP the letter was addressed to"),
    ("mp_party", "The MP's party when the letter was written"),
    ("constituency", "The supporter's constituency"),
    ("supporter_name", "The supporter's name"),
    ("supporter_email", "The supporter's email address"),
    ("supporter_postcode", "The supporter's postcode"),
    ("wants_updates", "yes if the supporter asked for campaign news"),
    ("confirmed_at", "When the supporter confirmed it (UTC); empty if never"),
    ("sent_at", "When the relay accepted it for the MP (UTC); empty if not sent"),
    ("attempts", "Delivery attempts since it was last queued"),
    ("last_error", "The relay's last refusal, if any"),
    ("message_id", "The email's Message-ID header, to find it in the relay's logs"),
)

_EXPORT_SELECT = (
    Letter.id,
    Letter.created_at,
    Campaign.title,
    Letter.status,
    Letter.mp_id,
    Letter.mp_name,
    Letter.mp_party,
    Letter.constituency_name,
    Letter.supporter_name,
    Letter.supporter_email,
    Letter.supporter_postcode,
    Letter.wants_updates,
    Letter.confirmed_at,
    Letter.sent_at,
    Letter.attempt_count,
    Letter.last_error,
    Letter.message_id,
)
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def record_export(
    session: Session, user_id: int, letter_filter: LetterFilter, now: datetime
) -> ExportRecord:
    """Note who downloaded supporters' data, when, and with which filter."""
    with transaction(session):
        record = ExportRecord(user_id=user_id, at=now, filters=letter_filter.to_query())
        session.add(record)
    return record


def export_csv(session: Session, letter_filter: LetterFilter) -> Iterator[str]:
    """The CSV of every letter the filter matches, newest first, yielded a batch at a time.

    Rows are fetched in batches (a server-side cursor on PostgreSQL), so memory stays flat however
    many letters match. Starts with a byte-order mark so spreadsheet programs read it as UTF-8.
    """
    query = (
        select(*_EXPORT_SELECT)
        .join(Campaign, Campaign.id == Letter.campaign_id)
        .where(*_conditions(session, letter_filter))
        .order_by(Letter.created_at.desc(), Letter.id.desc())
        .execution_options(stream_results=True, yield_per=EXPORT_BATCH_SIZE)
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([name for name, _ in EXPORT_COLUMNS])
    yield "\ufeff" + buffer.getvalue()
    result = session.execute(query)
    try:
        for batch in result.partitions():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([safe_cell(value) for value in row] for row in batch)
            yield buffer.getvalue()
    finally:
        result.close()


def safe_cell(value: Any) -> str:
    """A CSV cell that a spreadsheet shows as text: one starting =, +, -, @, tab or CR would be
    run as a formula, so it gets a leading apostrophe (OWASP's advice for CSV injection)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, datetime):
        return value.isoformat(sep=" ", timespec="seconds")
    text = str(value)
    if isinstance(value, str) and text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def recent_exports(session: Session, limit: int = 100) -> list[ExportRecord]:
    return list(
        session.scalars(
            select(ExportRecord)
            .options(joinedload(ExportRecord.user))
            .order_by(ExportRecord.at.desc(), ExportRecord.id.desc())
            .limit(limit)
        )
    )


# Figures ----------------------------------------------------------------------------------------

PERIODS: Mapping[str, int | None] = {"7": 7, "30": 30, "90": 90, "all": None}
DEFAULT_PERIOD = "30"
TOP_CONSTITUENCIES = 10


@dataclass(frozen=True)
class DayCount:
    day: date
    sent: int = 0
    waiting: int = 0
    failed: int = 0
    cancelled: int = 0

    @property
    def total(self) -> int:
        return self.sent + self.waiting + self.failed + self.cancelled


@dataclass(frozen=True)
class PartyCount:
    party: str
    colour: str | None
    letters: int


@dataclass(frozen=True)
class Figures:
    status_counts: Mapping[LetterStatus, int]
    confirmed: int
    needing_confirmation: int
    mps_reached: int
    current_mps: int
    days: list[DayCount]
    top_constituencies: list[tuple[str, int]]
    parties: list[PartyCount]

    @property
    def total(self) -> int:
        return sum(self.status_counts.values())

    def count(self, *statuses: LetterStatus) -> int:
        return sum(self.status_counts.get(status, 0) for status in statuses)

    @property
    def waiting(self) -> int:
        return self.count(*WAITING_STATUSES)

    @property
    def confirmation_rate(self) -> float | None:
        if not self.needing_confirmation:
            return None
        return self.confirmed / self.needing_confirmation


def period_start(period: str, today: date) -> datetime | None:
    """The first moment counted for a period of the last N days (today included); None = all."""
    days = PERIODS.get(period)
    if days is None:
        return None
    return datetime.combine(today - timedelta(days=days - 1), time())


def campaign_figures(
    session: Session, campaign_id: int | None, since: datetime | None, today: date
) -> Figures:
    """Counts for letters written since `since` (all campaigns if campaign_id is None).

    Every count is a GROUP BY in the database; Python only fills in days with no letters.
    """
    conditions: list[ColumnElement[bool]] = []
    if campaign_id is not None:
        conditions.append(Letter.campaign_id == campaign_id)
    if since is not None:
        conditions.append(Letter.created_at >= since)
    status_counts = {
        LetterStatus(status): count
        for status, count in session.execute(
            select(Letter.status, func.count()).where(*conditions).group_by(Letter.status)
        ).all()
    }
    breakdown = _breakdown(session, conditions)
    return Figures(
        status_counts=status_counts,
        confirmed=breakdown.confirmed,
        needing_confirmation=breakdown.needing_confirmation,
        mps_reached=_mps_reached(session, conditions),
        current_mps=_current_mps(session),
        days=_letters_per_day(session, conditions, since, today),
        top_constituencies=breakdown.top_constituencies(),
        parties=_with_colours(session, breakdown.parties()),
    )


@dataclass
class _Breakdown:
    """Letters counted by constituency and party in the database (a few hundred groups), and
    the sums of those groups."""

    confirmed: int = 0
    needing_confirmation: int = 0
    by_constituency: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    by_party: dict[str | None, int] = field(default_factory=lambda: defaultdict(int))

    def top_constituencies(self) -> list[tuple[str, int]]:
        ranked = sorted(self.by_constituency.items(), key=lambda item: (-item[1], item[0]))
        return [(name, letters) for name, letters in ranked if letters][:TOP_CONSTITUENCIES]

    def parties(self) -> list[tuple[str | None, int]]:
        ranked = sorted(self.by_party.items(), key=lambda item: (-item[1], item[0] or ""))
        return [(party, letters) for party, letters in ranked if letters]


def _breakdown(session: Session, conditions: list[ColumnElement[bool]]) -> _Breakdown:
    # One pass over the letters for three figures: on a big campaign each pass reads the table.
    # A letter needed confirming if the supporter was asked (or it is still waiting to be).
    needed = or_(
        Letter.confirmed_at.is_not(None),
        Letter.confirmation_sent_at.is_not(None),
        Letter.status == LetterStatus.AWAITING_CONFIRMATION,
    )
    not_cancelled = Letter.status != LetterStatus.CANCELLED
    rows = session.execute(
        select(
            Letter.constituency_name,
            Letter.mp_party,
            func.sum(case((not_cancelled, 1), else_=0)),
            func.count(Letter.confirmed_at),
            func.sum(case((needed, 1), else_=0)),
        )
        .where(*conditions)
        .group_by(Letter.constituency_name, Letter.mp_party)
    ).all()
    breakdown = _Breakdown()
    for constituency, party, letters, confirmed, needing in rows:
        breakdown.by_constituency[constituency] += letters
        breakdown.by_party[party] += letters
        breakdown.confirmed += confirmed
        breakdown.needing_confirmation += needing
    return breakdown


def mp_reach(session: Session, campaign_id: int | None) -> tuple[int, int]:
    """(current MPs who have received a letter, all current MPs), in one or all campaigns."""
    conditions = [] if campaign_id is None else [Letter.campaign_id == campaign_id]
    return _mps_reached(session, conditions), _current_mps(session)


def _current_mps(session: Session) -> int:
    return (
        session.scalar(
            select(func.count()).select_from(CachedMember).where(CachedMember.is_current)
        )
        or 0
    )


def _mps_reached(session: Session, conditions: list[ColumnElement[bool]]) -> int:
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


_SERIES_OF_STATUS = {
    LetterStatus.SENT: "sent",
    LetterStatus.FAILED: "failed",
    LetterStatus.CANCELLED: "cancelled",
    # Never confirmed: as good as withdrawn, for the figures.
    LetterStatus.EXPIRED: "cancelled",
    **dict.fromkeys(WAITING_STATUSES, "waiting"),
}


def _letters_per_day(
    session: Session,
    conditions: list[ColumnElement[bool]],
    since: datetime | None,
    today: date,
) -> list[DayCount]:
    day = func.date(Letter.created_at, type_=Date)
    rows = session.execute(
        select(day.label("day"), Letter.status, func.count())
        .where(*conditions)
        .group_by(day, Letter.status)
    ).all()
    counts: dict[date, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for row_day, status, count in rows:
        counts[_as_date(row_day)][_SERIES_OF_STATUS[LetterStatus(status)]] += count
    if not counts and since is None:
        return []
    first = since.date() if since is not None else min(counts)
    last = max([today, *counts])
    return [
        DayCount(
            day=first + timedelta(days=offset), **counts.get(first + timedelta(days=offset), {})
        )
        for offset in range((last - first).days + 1)
    ]


def _as_date(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _with_colours(session: Session, parties: list[tuple[str | None, int]]) -> list[PartyCount]:
    colours = dict(
        session.execute(
            select(CachedMember.party_name, func.max(CachedMember.party_colour))
            .where(CachedMember.party_name.is_not(None))
            .group_by(CachedMember.party_name)
        ).all()
    )
    return [
        PartyCount(party=party or "No party recorded", colour=colours.get(party), letters=letters)
        for party, letters in parties
    ]


CHART_STYLE = Style(
    background="transparent",
    plot_background="#ffffff",
    foreground="#4b5563",
    foreground_strong="#1b1f24",
    foreground_subtle="#e5e2dc",
    guide_stroke_color="#e5e2dc",
    major_guide_stroke_color="#d6d3cd",
    guide_stroke_dasharray="0",
    major_guide_stroke_dasharray="0",
    font_family='system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif',
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=13,
    value_font_size=12,
    opacity=".9",
    opacity_hover="1",
    colors=("#0f7a3d", "#1d4ed8", "#b00020", "#6b7280"),
)


def letters_per_day_chart(days: Sequence[DayCount]) -> str:
    """An SVG bar chart of letters written per day, stacked by what became of them.

    Drawn by pygal, with no scripts or external style sheets so it works in any browser."""
    chart = pygal.StackedBar(
        style=CHART_STYLE,
        js=[],
        width=1200,
        height=360,
        legend_at_bottom=True,
        legend_at_bottom_columns=4,
        show_minor_x_labels=False,
        x_labels_major_every=max(1, len(days) // 10),
        truncate_label=-1,
        y_title="Letters",
        disable_xml_declaration=True,
        no_data_text="No letters in this period",
        margin=16,
        spacing=12,
    )
    chart.add_xml_filter(_without_scripts)
    chart.x_labels = [f"{day.day.day} {day.day:%b}" for day in days]
    if days:
        chart.add("Sent", [day.sent for day in days])
        chart.add("Waiting", [day.waiting for day in days])
        chart.add("Failed", [day.failed for day in days])
        chart.add("Cancelled", [day.cancelled for day in days])
    svg: str = chart.render(is_unicode=True)
    return svg


def _without_scripts(root: Any) -> Any:
    # pygal always embeds its settings in a <script> for its optional tooltips; the page needs
    # none, and a strict Content-Security-Policy would refuse it.
    for parent in list(root.iter()):
        for child in list(parent):
            if isinstance(child.tag, str) and child.tag.endswith("script"):
                parent.remove(child)
    return root


# MPs --------------------------------------------------------------------------------------------

MP_SORTS = ("constituency", "name", "letters")


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
