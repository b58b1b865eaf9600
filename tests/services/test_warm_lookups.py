"""Warm postcode lookups kept in the process: no query while fresh, the database once stale."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event, update
from sqlalchemy.orm import Session

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.db import utcnow
from mp_mailer.models import CachedMember
from mp_mailer.services.mp_cache import MpDetails
from mp_mailer.services.mp_lookup import CacheLifetimes, find_mp_for_postcode
from mp_mailer.services.warm_lookups import WarmLookups
from tests.factories import cache_mp

LIFETIMES = CacheLifetimes(postcode=timedelta(days=30), member=timedelta(hours=12))
NEW_EMAIL = "new.office@parliament.uk"


class QueryCounter:
    """Counts the statements an engine sends to the database."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, *_args: Any) -> None:
        self.count += 1


@pytest.fixture
def queries(app: Flask) -> Iterator[QueryCounter]:
    engine = app.extensions["mp_mailer.engine"]
    counter = QueryCounter()
    event.listen(engine, "before_cursor_execute", counter)
    yield counter
    event.remove(engine, "before_cursor_execute", counter)


def look_up(app: Flask, session: Session, warm: WarmLookups[MpDetails], now: datetime) -> MpDetails:
    client: MembersApiClient = app.extensions["mp_mailer.members_api"]
    return find_mp_for_postcode(session, client, "SW1A 1AA", now, LIFETIMES, warm=warm)


def change_mp_email(session: Session) -> None:
    session.execute(update(CachedMember).where(CachedMember.id == 172).values(email=NEW_EMAIL))
    session.commit()


def test_warm_lookup_answers_a_repeated_postcode_without_a_query_when_within_its_lifetime(
    app: Flask, db_session: Session, queries: QueryCounter
) -> None:
    start = utcnow()
    cache_mp(db_session, refreshed_at=start)
    warm = WarmLookups[MpDetails](lifetime=timedelta(seconds=30))
    look_up(app, db_session, warm, start)
    change_mp_email(db_session)
    queries.count = 0

    mp = look_up(app, db_session, warm, start + timedelta(seconds=29))

    assert queries.count == 0
    assert mp.email == "diane.abbott.office@parliament.uk"


def test_warm_lookup_reads_the_database_again_when_its_lifetime_has_passed(
    app: Flask, db_session: Session, queries: QueryCounter
) -> None:
    start = utcnow()
    cache_mp(db_session, refreshed_at=start)
    warm = WarmLookups[MpDetails](lifetime=timedelta(seconds=30))
    look_up(app, db_session, warm, start)
    change_mp_email(db_session)
    queries.count = 0

    mp = look_up(app, db_session, warm, start + timedelta(seconds=30))

    assert queries.count > 0
    assert mp.email == NEW_EMAIL


def test_warm_lookup_reads_the_database_when_the_clock_went_backwards(
    app: Flask, db_session: Session
) -> None:
    start = utcnow()
    cache_mp(db_session, refreshed_at=start - timedelta(minutes=1))
    warm = WarmLookups[MpDetails](lifetime=timedelta(seconds=30))
    look_up(app, db_session, warm, start)
    change_mp_email(db_session)

    mp = look_up(app, db_session, warm, start - timedelta(seconds=1))

    assert mp.email == NEW_EMAIL


def test_warm_lookups_read_the_database_again_when_forgotten(
    app: Flask, db_session: Session
) -> None:
    start = utcnow()
    cache_mp(db_session, refreshed_at=start)
    warm = WarmLookups[MpDetails](lifetime=timedelta(seconds=30))
    look_up(app, db_session, warm, start)
    change_mp_email(db_session)

    warm.forget()
    mp = look_up(app, db_session, warm, start + timedelta(seconds=1))

    assert mp.email == NEW_EMAIL
