"""A campaign's progress for its page: letters sent, MPs reached and people sent on to the
petition, counted at most once a minute.

A viral campaign's page is read thousands of times a minute; the counts behind its progress bar
change slowly, so each process counts once per lifetime (three index-only queries) and reuses it."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import distinct, func, select
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, Letter, LetterStatus
from mp_mailer.services.letters import COUNTED_STATUSES
from mp_mailer.services.petition_clicks import count_petition_clicks

HOUSE_OF_COMMONS_SEATS = 650
DEFAULT_LIFETIME = timedelta(seconds=60)
# The bar's fill is drawn in steps of this many percent (a class per step; no inline styles).
BAR_STEP = 5


@dataclass(frozen=True)
class CampaignProgress:
    letters: int
    mps_reached: int
    target_letters: int | None
    # People outside the UK who followed the campaign page's link to its petition.
    petition_clicks: int = 0

    @property
    def percent(self) -> int | None:
        """How far towards the target, 0-100 (a campaign past its target shows 100)."""
        if not self.target_letters:
            return None
        return min(100, self.letters * 100 // self.target_letters)

    @property
    def bar_step(self) -> int:
        return (self.percent or 0) // BAR_STEP * BAR_STEP


@dataclass(frozen=True)
class _Counted:
    letters: int
    mps_reached: int
    petition_clicks: int
    at: datetime


class ProgressCounter:
    """Counts per campaign, kept for `lifetime`; one per process, shared by its threads."""

    def __init__(self, lifetime: timedelta = DEFAULT_LIFETIME) -> None:
        self.lifetime = lifetime
        self._counted: dict[int, _Counted] = {}
        self._lock = threading.Lock()

    def progress(self, session: Session, campaign: Campaign, now: datetime) -> CampaignProgress:
        with self._lock:
            counted = self._counted.get(campaign.id)
        if counted is None or now - counted.at >= self.lifetime:
            counted = _count(session, campaign.id, now)
            with self._lock:
                self._counted[campaign.id] = counted
        return CampaignProgress(
            counted.letters,
            counted.mps_reached,
            campaign.target_letters,
            counted.petition_clicks if campaign.petition_url else 0,
        )


def _count(session: Session, campaign_id: int, now: datetime) -> _Counted:
    letters = session.scalar(
        select(func.count())
        .select_from(Letter)
        .where(Letter.campaign_id == campaign_id, Letter.status.in_(COUNTED_STATUSES))
    )
    mps_reached = session.scalar(
        select(func.count(distinct(Letter.mp_id))).where(
            Letter.campaign_id == campaign_id, Letter.status == LetterStatus.SENT
        )
    )
    return _Counted(
        letters or 0, mps_reached or 0, count_petition_clicks(session, campaign_id), now
    )
