"""The send log's pages of letters by keyset, and how far it counts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mp_mailer.models import LetterStatus
from mp_mailer.services.send_log.filters import LetterFilter
from mp_mailer.services.send_log.listing import (
    COUNT_LIMIT,
    SEARCH_COUNT_LIMIT,
    count_limit,
    count_matching,
    list_letters,
)
from tests.factories import create_campaign, create_letter

NOW = datetime(2026, 11, 25, 12, 0)


def test_list_letters_has_no_neighbouring_pages_when_there_are_no_letters(
    db_session: Session,
) -> None:
    page = list_letters(db_session, LetterFilter())

    assert (page.rows, page.newer_cursor, page.older_cursor) == ([], None, None)


def test_list_letters_starts_from_the_newest_when_the_cursor_letter_does_not_exist(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    letters = [
        create_letter(db_session, campaign, created_at=NOW - timedelta(minutes=n)) for n in range(3)
    ]

    page = list_letters(db_session, LetterFilter(), before=999_999, page_size=2)

    assert [row.id for row in page.rows] == [letters[0].id, letters[1].id]
    assert page.older_cursor == letters[1].id


def test_list_letters_shows_nothing_newer_when_the_cursor_is_the_newest_letter(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    newest = create_letter(db_session, campaign, created_at=NOW)
    create_letter(db_session, campaign, created_at=NOW - timedelta(minutes=1))

    page = list_letters(db_session, LetterFilter(), after=newest.id, page_size=2)

    assert (page.rows, page.newer_cursor, page.older_cursor) == ([], None, None)


def test_list_letters_going_newer_keeps_newest_first_and_links_both_ways(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    letters = [
        create_letter(db_session, campaign, created_at=NOW - timedelta(minutes=n)) for n in range(5)
    ]

    page = list_letters(db_session, LetterFilter(), after=letters[4].id, page_size=2)

    assert [row.id for row in page.rows] == [letters[2].id, letters[3].id]
    assert page.newer_cursor == letters[2].id
    assert page.older_cursor == letters[3].id


def test_count_matching_stops_at_the_limit_when_more_letters_match(db_session: Session) -> None:
    campaign = create_campaign(db_session)
    for _ in range(4):
        create_letter(db_session, campaign)

    assert count_matching(db_session, LetterFilter(), limit=3) == (3, True)
    assert count_matching(db_session, LetterFilter(), limit=4) == (4, False)


def test_count_limit_is_lower_when_searching_by_part_of_a_name() -> None:
    assert count_limit(LetterFilter(search="smi")) == SEARCH_COUNT_LIMIT
    assert count_limit(LetterFilter(search="jane@example.org")) == COUNT_LIMIT
    assert count_limit(LetterFilter(status=LetterStatus.SENT)) == COUNT_LIMIT
