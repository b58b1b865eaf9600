"""UK time for people: stored naive UTC shown and filtered as Europe/London."""

from __future__ import annotations

from datetime import date, datetime

from mp_mailer.uk_time import format_uk, uk_date, uk_midnight_as_utc


def test_uk_date_is_the_next_day_when_it_is_after_midnight_in_british_summer_time() -> None:
    assert uk_date(datetime(2026, 7, 1, 23, 30)) == date(2026, 7, 2)


def test_uk_date_is_the_utc_date_when_it_is_winter() -> None:
    assert uk_date(datetime(2026, 1, 1, 23, 30)) == date(2026, 1, 1)


def test_uk_midnight_as_utc_is_an_hour_earlier_when_in_summer() -> None:
    assert uk_midnight_as_utc(date(2026, 7, 2)) == datetime(2026, 7, 1, 23, 0)


def test_format_uk_shows_the_wall_clock_time_when_in_summer() -> None:
    assert format_uk(datetime(2026, 7, 1, 23, 30)) == "2 Jul 2026, 00:30"
