"""The send log's date filters mean UK days, whatever the stored UTC says."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import Letter
from mp_mailer.services.send_log.filters import LetterFilter, letter_conditions
from tests.factories import create_letter


def matching(db_session: Session, letter_filter: LetterFilter) -> list[int]:
    conditions = letter_conditions(db_session, letter_filter)
    return list(db_session.scalars(select(Letter.id).where(*conditions).order_by(Letter.id)))


def test_date_filter_counts_a_letter_on_the_uk_day_when_written_after_midnight_in_summer(
    db_session: Session,
) -> None:
    # 23:30 UTC on 1 July is 00:30 on 2 July in London.
    letter = create_letter(db_session, created_at=datetime(2026, 7, 1, 23, 30))

    on_the_second = matching(db_session, LetterFilter(created_from=date(2026, 7, 2)))
    up_to_the_first = matching(db_session, LetterFilter(created_to=date(2026, 7, 1)))

    assert on_the_second == [letter.id]
    assert up_to_the_first == []
