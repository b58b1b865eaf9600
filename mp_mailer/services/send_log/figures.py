"""A campaign's figures: letters by status, per day, by constituency and by party.

Also the confirmation rate, MPs reached, how much of the letters is in supporters' own words,
and the petition link followed; each is counted by the database, not in Python."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import ColumnElement, Date, case, func, or_, select
from sqlalchemy.orm import Session

from mp_mailer.models import CachedMember, Letter, LetterStatus
from mp_mailer.services.personal_touch import COPIED_BELOW, MOSTLY_OWN_FROM, Band
from mp_mailer.services.petition_clicks import count_petition_clicks
from mp_mailer.services.send_log.mp_reach import count_current_mps, count_mps_reached

WAITING_STATUSES = (
    LetterStatus.AWAITING_CONFIRMATION,
    LetterStatus.QUEUED,
    LetterStatus.SENDING,
    LetterStatus.RETRYING,
)
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
class OwnWords:
    """Letters by how much is in the supporter's own words (services/personal_touch.py)."""

    bands: Mapping[Band, int]
    # Letters written before it was measured.
    unmeasured: int
    # The median own-word share, in whole percent; None with no measured letters.
    median_percent: float | None

    @property
    def measured(self) -> int:
        return sum(self.bands.values())


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
    own_words: OwnWords
    petition_clicks: int

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
        mps_reached=count_mps_reached(session, conditions),
        current_mps=count_current_mps(session),
        days=_letters_per_day(session, conditions, since, today),
        top_constituencies=breakdown.top_constituencies(),
        parties=_with_colours(session, breakdown.parties()),
        own_words=_own_words(session, conditions),
        petition_clicks=count_petition_clicks(
            session, campaign_id, since.date() if since is not None else None
        ),
    )


def _own_words(session: Session, conditions: list[ColumnElement[bool]]) -> OwnWords:
    """Bands and the median from one GROUP BY of (band, whole percent): at most 404 rows."""
    share = Letter.own_word_share
    measured = (
        select(
            case(
                (share.is_(None), "unmeasured"),
                (share >= MOSTLY_OWN_FROM, Band.MOSTLY_OWN.value),
                (Letter.own_sentences > 0, Band.OWN_SENTENCE.value),
                (share < COPIED_BELOW, Band.COPIED.value),
                else_=Band.FEW_WORDS.value,
            ).label("band"),
            func.round(share * 100).label("percent"),
        )
        .where(*conditions, Letter.status != LetterStatus.CANCELLED)
        .subquery()
    )
    rows = session.execute(
        select(measured.c.band, measured.c.percent, func.count()).group_by(
            measured.c.band, measured.c.percent
        )
    ).all()
    bands = dict.fromkeys(Band, 0)
    unmeasured = 0
    percents: dict[float, int] = defaultdict(int)
    for band, percent, count in rows:
        if band == "unmeasured":
            unmeasured += count
            continue
        bands[Band(band)] += count
        percents[float(percent)] += count
    return OwnWords(bands=bands, unmeasured=unmeasured, median_percent=_median(percents))


def _median(counts: Mapping[float, int]) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    middle = [(total - 1) // 2, total // 2]
    values: list[float] = []
    seen = 0
    for value in sorted(counts):
        while middle and middle[0] < seen + counts[value]:
            values.append(value)
            middle.pop(0)
        seen += counts[value]
    return sum(values) / len(values)


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


_SERIES_OF_STATUS = {
    LetterStatus.SENT: "sent",
    LetterStatus.FAILED: "failed",
    LetterStatus.CANCELLED: "cancelled",
    # Never confirmed: as good as withdrawn, for the figures.
    LetterStatus.EXPIRED: "cancelled",
    # The relay took them: acknowledged reached the office; bounced did not.
    LetterStatus.ACKNOWLEDGED: "sent",
    LetterStatus.BOUNCED: "failed",
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
