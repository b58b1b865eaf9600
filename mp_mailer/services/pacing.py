"""Per-campaign sending pace: letters per hour, letters per MP per day, and a sending window in UK
time. A letter over a limit simply is not claimed yet: it keeps its place and is never dropped."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, not_, or_, select
from sqlalchemy.orm import Session

from mp_mailer.db import Base, transaction
from mp_mailer.errors import DomainError
from mp_mailer.models import Campaign, CampaignPacing, Letter, LetterStatus

UK_TIME = ZoneInfo("Europe/London")
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_WINDOW = re.compile(
    r"^\s*(?:(?P<days>[a-z]{3}(?:\s*-\s*[a-z]{3})?(?:\s*,\s*[a-z]{3}(?:\s*-\s*[a-z]{3})?)*)\s+)?"
    r"(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s*$"
)


class PacingProblem(DomainError):
    """A pacing setting that cannot be used; the message says why."""


@dataclass(frozen=True)
class SendingWindow:
    """Days of the week (0 = Monday) and a time range, in UK time (GMT or BST)."""

    days: frozenset[int]
    start: time
    end: time

    def is_open(self, now: datetime) -> bool:
        """`now` is naive UTC, as the database stores times."""
        local = now.replace(tzinfo=UTC).astimezone(UK_TIME)
        return local.weekday() in self.days and self.start <= local.time() < self.end


def parse_window(text: str) -> SendingWindow:
    """ "mon-fri 08:00-20:00", "sat,sun 10:00-16:00" or "08:00-20:00" (every day)."""
    match = _WINDOW.match(text.lower())
    if match is None:
        raise PacingProblem(f"a sending window looks like mon-fri 08:00-20:00, not {text!r}")
    try:
        start, end = (time.fromisoformat(match[name].zfill(5)) for name in ("start", "end"))
    except ValueError:
        raise PacingProblem(f"{text!r} has a time that does not exist") from None
    if start >= end:
        raise PacingProblem("a sending window must end after it starts, on the same day")
    return SendingWindow(_days(match["days"]), start, end)


def _days(text: str | None) -> frozenset[int]:
    if not text:
        return frozenset(range(7))
    days: set[int] = set()
    for part in text.replace(" ", "").split(","):
        first, _, last = part.partition("-")
        if first not in _DAYS or (last and last not in _DAYS):
            raise PacingProblem(f"days are written mon, tue, wed, thu, fri, sat, sun, not {part!r}")
        start, end = _DAYS.index(first), _DAYS.index(last or first)
        days.update(range(start, end + 1) if start <= end else [*range(start, 7), *range(end + 1)])
    return frozenset(days)


# The claim's conditions are Core, like the claim itself (services.outbox.claims): an ORM
# attribute in them would make the whole claim an ORM statement.
_LETTERS = Base.metadata.tables[Letter.__tablename__].c


def _recently_sent(since: datetime) -> ColumnElement[bool]:
    # A letter being sent right now counts too, so two workers cannot both take the last place.
    return or_(_LETTERS.sent_at >= since, _LETTERS.status == LetterStatus.SENDING)


def paced_campaigns(session: Session) -> list[CampaignPacing]:
    return list(session.scalars(select(CampaignPacing)).all())


def held_back_conditions(
    session: Session, now: datetime, paced: Sequence[CampaignPacing] | None = None
) -> list[ColumnElement[bool]]:
    """Conditions a due letter must meet to be claimed now; empty when no campaign is paced.

    `paced` is what paced_campaigns() returned, for a caller that reuses it for a while.
    """
    if paced is None:
        paced = paced_campaigns(session)
    closed: list[int] = []
    conditions: list[ColumnElement[bool]] = []
    for pacing in paced:
        if pacing.sending_window and not parse_window(pacing.sending_window).is_open(now):
            closed.append(pacing.campaign_id)
            continue
        if pacing.letters_per_hour:
            sent = session.scalar(
                select(func.count()).where(
                    _LETTERS.campaign_id == pacing.campaign_id,
                    _recently_sent(now - timedelta(hours=1)),
                )
            )
            if (sent or 0) >= pacing.letters_per_hour:
                closed.append(pacing.campaign_id)
                continue
        if pacing.letters_per_mp_per_day:
            full = (
                select(_LETTERS.mp_id)
                .where(
                    _LETTERS.campaign_id == pacing.campaign_id,
                    _recently_sent(now - timedelta(days=1)),
                )
                .group_by(_LETTERS.mp_id)
                .having(func.count() >= pacing.letters_per_mp_per_day)
            )
            conditions.append(
                not_(and_(_LETTERS.campaign_id == pacing.campaign_id, _LETTERS.mp_id.in_(full)))
            )
    if closed:
        conditions.append(_LETTERS.campaign_id.not_in(closed))
    return conditions


@dataclass(frozen=True)
class Pacing:
    letters_per_hour: int | None
    letters_per_mp_per_day: int | None
    sending_window: str

    def describe(self) -> str:
        parts = [
            f"{self.letters_per_hour} letters an hour" if self.letters_per_hour else None,
            f"{self.letters_per_mp_per_day} letters per MP a day"
            if self.letters_per_mp_per_day
            else None,
            f"only {self.sending_window} UK time" if self.sending_window else None,
        ]
        return "; ".join(part for part in parts if part) or "no limits"


def campaign_id_for(session: Session, campaign_slug: str) -> int:
    campaign_id = session.scalar(select(Campaign.id).where(Campaign.slug == campaign_slug))
    if campaign_id is None:
        raise PacingProblem(f"there is no campaign {campaign_slug!r}")
    return campaign_id


def find_pacing(session: Session, campaign_id: int) -> Pacing:
    row = session.get(CampaignPacing, campaign_id)
    if row is None:
        return Pacing(None, None, "")
    return Pacing(row.letters_per_hour, row.letters_per_mp_per_day, row.sending_window)


def set_pacing(session: Session, campaign_slug: str, pacing: Pacing) -> Pacing:
    """Store a campaign's limits (None or "" for none). Raises PacingProblem."""
    if pacing.sending_window:
        parse_window(pacing.sending_window)
    for limit in (pacing.letters_per_hour, pacing.letters_per_mp_per_day):
        if limit is not None and limit < 1:
            raise PacingProblem("a limit must be at least 1 (leave it out for no limit)")
    with transaction(session):
        campaign_id = campaign_id_for(session, campaign_slug)
        row = session.get(CampaignPacing, campaign_id) or CampaignPacing(campaign_id=campaign_id)
        row.letters_per_hour = pacing.letters_per_hour
        row.letters_per_mp_per_day = pacing.letters_per_mp_per_day
        row.sending_window = pacing.sending_window.strip()
        session.add(row)
    return find_pacing(session, campaign_id)
