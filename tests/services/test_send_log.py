"""The send log's queries, export encoding and figures, below the web pages."""

from __future__ import annotations

import inspect
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from mp_mailer.models import LetterStatus
from mp_mailer.services.send_log.export import EXPORT_COLUMNS, export_csv, safe_cell
from mp_mailer.services.send_log.figures import DayCount, campaign_figures, period_start
from mp_mailer.services.send_log.filters import LetterFilter, describe_filter
from mp_mailer.services.send_log.listing import (
    COUNT_LIMIT,
    SEARCH_COUNT_LIMIT,
    count_limit,
    count_matching,
    list_letters,
)
from tests.factories import create_campaign, create_letter

NOW = datetime(2026, 11, 25, 12, 0)


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+44 20 7946 0000", "'+44 20 7946 0000"),
        ("-5", "'-5"),
        ("@SUM(A1:A2)", "'@SUM(A1:A2)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Jane = Doe", "Jane = Doe"),
        ("", ""),
        (None, ""),
        (-5, "-5"),
        (True, "yes"),
        (False, "no"),
        (datetime(2026, 11, 25, 9, 5, 7, 123), "2026-11-25 09:05:07"),
    ],
)
def test_safe_cell_neutralises_only_text_a_spreadsheet_would_run(value: object, cell: str) -> None:
    assert safe_cell(value) == cell


def test_describe_filter_names_the_campaign_and_state(db_session: Session) -> None:
    campaign = create_campaign(db_session, title="Ban Chen Quanguo")

    described = describe_filter(
        db_session, LetterFilter(campaign_id=campaign.id, status=LetterStatus.FAILED)
    )

    assert described == [("Campaign", "Ban Chen Quanguo"), ("State", "failed")]


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


def test_export_csv_is_a_generator_that_reads_nothing_until_asked(db_session: Session) -> None:
    create_letter(db_session)

    rows = export_csv(db_session, LetterFilter())

    assert inspect.isgenerator(rows)
    assert inspect.getgeneratorstate(rows) == inspect.GEN_CREATED


def test_figures_fill_in_days_without_letters_with_zeros(db_session: Session) -> None:
    campaign = create_campaign(db_session)
    create_letter(db_session, campaign, status=LetterStatus.SENT, created_at=NOW)
    create_letter(db_session, campaign, status=LetterStatus.FAILED, created_at=NOW)
    create_letter(
        db_session, campaign, status=LetterStatus.QUEUED, created_at=NOW - timedelta(days=2)
    )

    figures = campaign_figures(db_session, campaign.id, period_start("7", NOW.date()), NOW.date())

    assert figures.days[0].day == date(2026, 11, 19)
    assert figures.days[-3:] == [
        DayCount(day=date(2026, 11, 23), waiting=1),
        DayCount(day=date(2026, 11, 24)),
        DayCount(day=date(2026, 11, 25), sent=1, failed=1),
    ]


def test_period_start_counts_today_as_one_of_the_days() -> None:
    assert period_start("7", date(2026, 11, 25)) == datetime(2026, 11, 19)
    assert period_start("all", date(2026, 11, 25)) is None


def test_every_export_column_is_documented() -> None:
    documentation = (Path(__file__).parents[2] / "docs" / "send-log.md").read_text()

    for name, _ in EXPORT_COLUMNS:
        assert f"| `{name}` |" in documentation


def test_count_limit_is_lower_when_searching_by_part_of_a_name() -> None:
    assert count_limit(LetterFilter(search="smi")) == SEARCH_COUNT_LIMIT
    assert count_limit(LetterFilter(search="jane@example.org")) == COUNT_LIMIT
    assert count_limit(LetterFilter(status=LetterStatus.SENT)) == COUNT_LIMIT
