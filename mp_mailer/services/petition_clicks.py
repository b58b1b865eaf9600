"""Counting supporters outside the UK sent on to a campaign's petition: one number a day.

A count per campaign and day, and nothing else: no address, no cookie, no time of day, so the
figure cannot be traced back to anyone. The increment is one atomic upsert, so two clicks at
once both count, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import PetitionClick


def record_petition_click(session: Session, campaign_id: int, day: date) -> None:
    """Add one to the campaign's count for `day` (a UTC date)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(PetitionClick).values(campaign_id=campaign_id, day=day, count=1)
    statement = statement.on_conflict_do_update(
        index_elements=[PetitionClick.campaign_id, PetitionClick.day],
        set_={"count": PetitionClick.count + 1},
    )
    with transaction(session):
        session.execute(statement)


def count_petition_clicks(
    session: Session, campaign_id: int | None, since: date | None = None
) -> int:
    """Clicks since `since` (every day if None), for one campaign or (None) all of them."""
    query = select(func.coalesce(func.sum(PetitionClick.count), 0))
    if campaign_id is not None:
        query = query.where(PetitionClick.campaign_id == campaign_id)
    if since is not None:
        query = query.where(PetitionClick.day >= since)
    return int(session.scalar(query) or 0)
