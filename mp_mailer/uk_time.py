"""UK time for people, UTC for storage: the database holds naive UTC, pages and letters show
Europe/London (GMT or BST), and staff's date filters mean UK days."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

UK = ZoneInfo("Europe/London")


def to_uk(naive_utc: datetime) -> datetime:
    """A stored (naive UTC) time as a UK wall-clock time, with its offset."""
    return naive_utc.replace(tzinfo=UTC).astimezone(UK)


def uk_date(naive_utc: datetime) -> date:
    """The date in the UK at that moment: 23:30 UTC on 1 July is already 2 July in London."""
    return to_uk(naive_utc).date()


def uk_midnight_as_utc(day: date) -> datetime:
    """The moment a UK day starts, as naive UTC, to compare with stored times."""
    return datetime.combine(day, time(), tzinfo=UK).astimezone(UTC).replace(tzinfo=None)


def format_uk(naive_utc: datetime | None) -> str:
    """'2 Jul 2026, 00:30' in UK time; '' for no time."""
    if naive_utc is None:
        return ""
    moment = to_uk(naive_utc)
    return f"{moment.day} {moment:%b %Y, %H:%M}"
