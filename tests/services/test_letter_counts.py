"""The campaign page's count of letters: counted once per interval per process, not per view."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import event
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import LetterStatus
from mp_mailer.services.letter_counts import CachedLetterCounts
from tests.factories import create_campaign, create_letter


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


def test_letter_counts_answer_without_a_query_when_counted_within_the_interval(
    db_session: Session, queries: QueryCounter
) -> None:
    campaign = create_campaign(db_session)
    create_letter(db_session, campaign, status=LetterStatus.SENT)
    counts = CachedLetterCounts(lifetime=timedelta(seconds=10))
    start = utcnow()
    counts.letters_sent(db_session, campaign.id, start)
    create_letter(db_session, campaign, status=LetterStatus.SENT)
    queries.count = 0

    counted = counts.letters_sent(db_session, campaign.id, start + timedelta(seconds=9))

    assert (counted, queries.count) == (1, 0)


def test_letter_counts_count_again_when_the_interval_has_passed(db_session: Session) -> None:
    campaign = create_campaign(db_session)
    create_letter(db_session, campaign, status=LetterStatus.SENT)
    counts = CachedLetterCounts(lifetime=timedelta(seconds=10))
    start = utcnow()
    counts.letters_sent(db_session, campaign.id, start)
    create_letter(db_session, campaign, status=LetterStatus.SENT)

    counted = counts.letters_sent(db_session, campaign.id, start + timedelta(seconds=10))

    assert counted == 2


def test_letter_counts_count_each_campaign_on_its_own_when_another_was_counted(
    db_session: Session,
) -> None:
    counted_first = create_campaign(db_session)
    other = create_campaign(db_session)
    create_letter(db_session, other, status=LetterStatus.SENT)
    create_letter(db_session, other, status=LetterStatus.QUEUED)
    counts = CachedLetterCounts(lifetime=timedelta(seconds=10))
    start = utcnow()
    counts.letters_sent(db_session, counted_first.id, start)

    counted = counts.letters_sent(db_session, other.id, start + timedelta(seconds=1))

    assert counted == 2
