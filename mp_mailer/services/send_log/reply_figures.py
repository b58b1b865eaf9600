"""Which MPs answer: per campaign, per party and per MP, the letters they received, how many
their offices acknowledged, and how many supporters told us of a reply, with the numbers behind
every rate and no rate at all from too few letters. The same table serves staff and, when the
campaign allows, the public; it names MPs and parties, never a supporter.

Counted by the database per MP (one grouped query over the campaign's received letters, using
ix_letters_campaign_status_created and the reply checks' letter index); only the few "yes"
answers come back row by row, for the median days to a reply."""

from __future__ import annotations

import csv
import io
import statistics
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Subquery

from mp_mailer.models import Letter, LetterStatus, ReplyAnswer, ReplyCheck
from mp_mailer.services.reply_checks import RECEIVED_STATUSES
from mp_mailer.services.send_log.export import safe_cell

# Fewer letters than this, and a rate says more about chance than about the MP.
MIN_LETTERS_FOR_A_RATE = 5
NO_PARTY = "No party recorded"
PUBLIC_LIFETIME = timedelta(minutes=5)


@dataclass(frozen=True)
class Rate:
    count: int
    of: int

    @property
    def shown(self) -> bool:
        return self.of >= MIN_LETTERS_FOR_A_RATE

    @property
    def percent(self) -> int | None:
        return round(self.count * 100 / self.of) if self.shown else None


@dataclass(frozen=True)
class ReplyTally:
    """One MP's, one party's or the whole campaign's letters and what came of them."""

    name: str
    party: str
    constituency: str
    mp_id: int | None
    received: int
    acknowledged: int
    asked: int
    told_us: int
    replied: int
    median_days_to_reply: float | None

    @property
    def acknowledged_rate(self) -> Rate:
        return Rate(self.acknowledged, self.received)

    @property
    def replied_rate(self) -> Rate:
        """Replies among supporters who answered our question (the others told us nothing)."""
        return Rate(self.replied, self.told_us)


@dataclass(frozen=True)
class ReplyFigures:
    campaign: ReplyTally
    parties: list[ReplyTally]
    mps: list[ReplyTally]


@dataclass(frozen=True)
class MpLetter:
    letter_id: int
    status: LetterStatus
    sent_at: datetime | None
    asked: int
    answer: ReplyAnswer | None
    answered_at: datetime | None
    reply_text: str | None


def _per_letter() -> Subquery:
    """Each letter's reply checks reduced to one row: asked, answered, said yes, and when."""
    return (
        select(
            ReplyCheck.letter_id,
            func.max(case((ReplyCheck.sent_at.is_not(None), 1), else_=0)).label("asked"),
            func.max(case((ReplyCheck.answer.is_not(None), 1), else_=0)).label("told_us"),
            func.max(case((ReplyCheck.answer == ReplyAnswer.YES, 1), else_=0)).label("replied"),
            func.min(
                case((ReplyCheck.answer == ReplyAnswer.YES, ReplyCheck.answered_at), else_=None)
            ).label("replied_at"),
        )
        .group_by(ReplyCheck.letter_id)
        .subquery()
    )


def reply_figures(session: Session, campaign_id: int) -> ReplyFigures:
    checks = _per_letter()
    received = [Letter.campaign_id == campaign_id, Letter.status.in_(RECEIVED_STATUSES)]
    rows = session.execute(
        select(
            Letter.mp_id,
            func.max(Letter.mp_name).label("mp_name"),
            func.max(Letter.mp_party).label("party"),
            func.max(Letter.constituency_name).label("constituency"),
            func.count().label("received"),
            func.sum(case((Letter.status == LetterStatus.ACKNOWLEDGED, 1), else_=0)).label(
                "acknowledged"
            ),
            func.coalesce(func.sum(checks.c.asked), 0).label("asked"),
            func.coalesce(func.sum(checks.c.told_us), 0).label("told_us"),
            func.coalesce(func.sum(checks.c.replied), 0).label("replied"),
        )
        .outerjoin(checks, checks.c.letter_id == Letter.id)
        .where(*received)
        .group_by(Letter.mp_id)
    ).all()
    days_by_mp: dict[int, list[float]] = defaultdict(list)
    for mp_id, sent_at, replied_at in session.execute(
        select(Letter.mp_id, Letter.sent_at, checks.c.replied_at)
        .join(checks, checks.c.letter_id == Letter.id)
        .where(*received, checks.c.replied_at.is_not(None))
    ):
        if sent_at is not None:
            days_by_mp[mp_id].append((replied_at - sent_at).total_seconds() / 86400)
    mps = [
        ReplyTally(
            name=row.mp_name,
            party=row.party or NO_PARTY,
            constituency=row.constituency,
            mp_id=row.mp_id,
            received=row.received,
            acknowledged=int(row.acknowledged or 0),
            asked=int(row.asked),
            told_us=int(row.told_us),
            replied=int(row.replied),
            median_days_to_reply=_median(days_by_mp.get(row.mp_id, [])),
        )
        for row in rows
    ]
    # Party, then name: an order that ranks nobody, so a tiny sample never tops the table.
    mps.sort(key=lambda mp: (mp.party.casefold(), mp.name.casefold()))
    by_party: dict[str, list[ReplyTally]] = defaultdict(list)
    for mp in mps:
        by_party[mp.party].append(mp)
    parties = [_sum(party, party_mps, days_by_mp) for party, party_mps in sorted(by_party.items())]
    return ReplyFigures(campaign=_sum("All MPs", mps, days_by_mp), parties=parties, mps=mps)


def _sum(name: str, tallies: list[ReplyTally], days_by_mp: dict[int, list[float]]) -> ReplyTally:
    days = [day for tally in tallies for day in days_by_mp.get(tally.mp_id or 0, [])]
    return ReplyTally(
        name=name,
        party=name,
        constituency="",
        mp_id=None,
        received=sum(t.received for t in tallies),
        acknowledged=sum(t.acknowledged for t in tallies),
        asked=sum(t.asked for t in tallies),
        told_us=sum(t.told_us for t in tallies),
        replied=sum(t.replied for t in tallies),
        median_days_to_reply=_median(days),
    )


def _median(days: list[float]) -> float | None:
    return round(statistics.median(days), 1) if days else None


def mp_letters(session: Session, campaign_id: int, mp_id: int) -> list[MpLetter]:
    """One MP's letters in the campaign and what their supporters told us, newest first."""
    letters = session.execute(
        select(Letter.id, Letter.status, Letter.sent_at)
        .where(Letter.campaign_id == campaign_id, Letter.mp_id == mp_id)
        .order_by(Letter.created_at.desc(), Letter.id.desc())
    ).all()
    checks: dict[int, list[ReplyCheck]] = defaultdict(list)
    for check in session.scalars(
        select(ReplyCheck)
        .where(ReplyCheck.letter_id.in_([letter.id for letter in letters]))
        .order_by(ReplyCheck.round)
    ):
        checks[check.letter_id].append(check)
    result = []
    for letter in letters:
        answered = [check for check in checks[letter.id] if check.answer is not None]
        last = answered[-1] if answered else None
        result.append(
            MpLetter(
                letter_id=letter.id,
                status=letter.status,
                sent_at=letter.sent_at,
                asked=sum(1 for check in checks[letter.id] if check.sent_at is not None),
                answer=last.answer if last else None,
                answered_at=last.answered_at if last else None,
                reply_text=next((c.reply_text for c in answered if c.reply_text), None),
            )
        )
    return result


CSV_COLUMNS = (
    "party",
    "mp",
    "constituency",
    "letters_received",
    "acknowledged",
    "supporters_asked",
    "supporters_who_answered",
    "said_the_mp_replied",
    "median_days_to_reply_at_most",
)


def figures_csv(figures: ReplyFigures) -> Iterator[str]:
    """The per-MP table as CSV, each cell made safe for spreadsheets."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    writer.writerows(_csv_rows(figures.mps))
    yield "\ufeff" + buffer.getvalue()


def _csv_rows(mps: Iterable[ReplyTally]) -> Iterator[list[str]]:
    for mp in mps:
        yield [
            safe_cell(value)
            for value in (
                mp.party,
                mp.name,
                mp.constituency,
                mp.received,
                mp.acknowledged,
                mp.asked,
                mp.told_us,
                mp.replied,
                mp.median_days_to_reply,
            )
        ]
