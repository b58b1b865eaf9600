"""What came back to letters' bounce addresses, counted per campaign and per MP."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.models import Letter, ReturnedMail, ReturnedMailKind

MPS_SHOWN = 20


@dataclass(frozen=True)
class MpReturns:
    mp_name: str
    counts: dict[ReturnedMailKind, int]


@dataclass(frozen=True)
class ReturnedMailFigures:
    counts: dict[ReturnedMailKind, int]
    by_mp: list[MpReturns]

    def count(self, kind: ReturnedMailKind) -> int:
        return self.counts.get(kind, 0)


def returned_mail_figures(session: Session, campaign_id: int | None) -> ReturnedMailFigures:
    """Bounces, acknowledgements and automatic replies, for one campaign or all, and the MPs
    with the most of them. One row per returned message, so a letter counts per reply."""
    conditions = [Letter.campaign_id == campaign_id] if campaign_id is not None else []
    joined = select(ReturnedMail.kind, func.count()).join(Letter).where(*conditions)
    counts = {
        ReturnedMailKind(kind): count
        for kind, count in session.execute(joined.group_by(ReturnedMail.kind)).all()
    }
    top = session.execute(
        select(Letter.mp_id, func.max(Letter.mp_name), func.count())
        .join(ReturnedMail)
        .where(*conditions)
        .group_by(Letter.mp_id)
        .order_by(func.count().desc(), Letter.mp_id)
        .limit(MPS_SHOWN)
    ).all()
    by_mp = []
    for mp_id, mp_name, _ in top:
        rows = session.execute(
            select(ReturnedMail.kind, func.count())
            .join(Letter)
            .where(Letter.mp_id == mp_id, *conditions)
            .group_by(ReturnedMail.kind)
        ).all()
        by_mp.append(MpReturns(mp_name, {ReturnedMailKind(k): c for k, c in rows}))
    return ReturnedMailFigures(counts, by_mp)
