"""UK time for people: stored naive UTC shown and filtered as Europe/London."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from mp_mailer.services.letters import prefill_letter
from mp_mailer.services.mp_cache import find_cached_mp
from mp_mailer.uk_time import format_uk, uk_date, uk_midnight_as_utc
from tests.factories import cache_mp, create_campaign


def test_uk_date_is_the_next_day_when_it_is_after_midnight_in_british_summer_time() -> None:
    assert uk_date(datetime(2026, 7, 1, 23, 30)) == date(2026, 7, 2)


def test_uk_date_is_the_utc_date_when_it_is_winter() -> None:
    assert uk_date(datetime(2026, 1, 1, 23, 30)) == date(2026, 1, 1)


def test_uk_midnight_as_utc_is_an_hour_earlier_when_in_summer() -> None:
    assert uk_midnight_as_utc(date(2026, 7, 2)) == datetime(2026, 7, 1, 23, 0)


def test_format_uk_shows_the_wall_clock_time_when_in_summer() -> None:
    assert format_uk(datetime(2026, 7, 1, 23, 30)) == "2 Jul 2026, 00:30"


def test_prefill_letter_dates_the_letter_in_uk_time_when_written_after_midnight_in_summer(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session, body_template="Written on {{ today }}")
    mp = find_cached_mp(db_session, cache_mp(db_session).id)
    assert mp is not None

    _subject, body = prefill_letter(
        campaign.templates[-1], campaign, mp, "https://example.org", datetime(2026, 7, 1, 23, 30)
    )

    assert body == "Written on 2 July 2026"
