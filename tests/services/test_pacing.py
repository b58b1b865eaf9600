"""Pacing: letters over a campaign's limits or outside its sending window wait, in order, and go
once the limit or window allows (the worker's clock moved, never slept)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import Letter, LetterStatus
from mp_mailer.services.pacing import UK_TIME, Pacing, PacingProblem, parse_window, set_pacing
from tests.conftest import Clock
from tests.factories import create_campaign, create_letter
from tests.smtp_server import SmtpTestServer


def sent_message_ids(smtp_server: SmtpTestServer) -> list[str]:
    return [str(message["Message-ID"]) for message in smtp_server.messages]


def statuses(db_session: Session, letters: list[Letter]) -> list[LetterStatus]:
    for letter in letters:
        db_session.refresh(letter)
    return [letter.status for letter in letters]


def test_worker_holds_letters_over_the_hourly_limit_and_sends_them_in_order_when_the_hour_passes(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Callable[[], int], clock: Clock
) -> None:
    campaign = create_campaign(db_session)
    set_pacing(db_session, campaign.slug, Pacing(2, None, ""))
    now = utcnow()
    letters = [
        create_letter(db_session, campaign, next_attempt_at=now + timedelta(seconds=n))
        for n in range(4)
    ]
    clock.advance(seconds=10)

    deliver()
    assert statuses(db_session, letters) == [LetterStatus.SENT] * 2 + [LetterStatus.QUEUED] * 2

    clock.advance(minutes=61)
    deliver()

    assert statuses(db_session, letters) == [LetterStatus.SENT] * 4
    assert sent_message_ids(smtp_server) == [letter.message_id for letter in letters]


def test_worker_holds_a_second_letter_to_the_same_mp_until_the_next_day_when_limited_per_mp(
    db_session: Session, deliver: Callable[[], int], clock: Clock
) -> None:
    campaign = create_campaign(db_session)
    set_pacing(db_session, campaign.slug, Pacing(None, 1, ""))
    first = create_letter(db_session, campaign)
    second = create_letter(db_session, campaign)
    other_mp = create_letter(db_session, campaign, mp_id=4212, mp_email="other.mp@parliament.uk")

    deliver()
    assert statuses(db_session, [first, second, other_mp]) == [
        LetterStatus.SENT,
        LetterStatus.QUEUED,
        LetterStatus.SENT,
    ]

    clock.advance(hours=24, minutes=1)
    deliver()

    assert statuses(db_session, [second]) == [LetterStatus.SENT]


def _offset_to(target_uk: datetime) -> timedelta:
    """How far to move the clock so it reads `target_uk` (a UK wall-clock time)."""
    target_utc = target_uk.astimezone(UTC).replace(tzinfo=None)
    return target_utc - utcnow()


def test_worker_holds_letters_outside_the_sending_window_until_it_opens_in_uk_time(
    db_session: Session, deliver: Callable[[], int], clock: Clock
) -> None:
    campaign = create_campaign(db_session)
    set_pacing(db_session, campaign.slug, Pacing(None, None, "mon-fri 08:00-20:00"))
    letters = [create_letter(db_session, campaign) for _ in range(2)]
    today = datetime.now(UK_TIME).date()
    saturday = today + timedelta(days=(5 - today.weekday()) % 7 or 7)
    clock.offset = _offset_to(
        datetime(saturday.year, saturday.month, saturday.day, 12, tzinfo=UK_TIME)
    )

    deliver()
    assert statuses(db_session, letters) == [LetterStatus.QUEUED] * 2

    monday = saturday + timedelta(days=2)
    clock.offset = _offset_to(
        datetime(monday.year, monday.month, monday.day, 7, 59, tzinfo=UK_TIME)
    )
    deliver()
    assert statuses(db_session, letters) == [LetterStatus.QUEUED] * 2

    clock.advance(minutes=2)
    deliver()
    assert statuses(db_session, letters) == [LetterStatus.SENT] * 2


def test_worker_sends_letters_of_an_unpaced_campaign_when_another_campaign_is_held(
    db_session: Session, deliver: Callable[[], int], clock: Clock
) -> None:
    tomorrow = datetime.now(UK_TIME).date() + timedelta(days=1)
    clock.offset = _offset_to(
        datetime(tomorrow.year, tomorrow.month, tomorrow.day, 12, tzinfo=UK_TIME)
    )
    paced = create_campaign(db_session)
    set_pacing(db_session, paced.slug, Pacing(None, None, "00:00-00:01"))
    held = create_letter(db_session, paced)
    free = create_letter(db_session, create_campaign(db_session))

    deliver()

    assert statuses(db_session, [held, free]) == [LetterStatus.QUEUED, LetterStatus.SENT]


@pytest.mark.parametrize("text", ["weekdays 8-20", "mon-fri 20:00-08:00", "mon-fry 08:00-20:00"])
def test_parse_window_refuses_a_window_when_it_is_not_days_and_hours(text: str) -> None:
    with pytest.raises(PacingProblem):
        parse_window(text)


def test_sending_window_is_open_in_british_summer_time_by_uk_clock_when_utc_is_an_hour_behind() -> (
    None
):
    window = parse_window("mon-fri 08:00-20:00")

    # Wednesday 1 July 2026, 07:30 UTC is 08:30 BST.
    assert window.is_open(datetime(2026, 7, 1, 7, 30))
    assert not window.is_open(datetime(2026, 7, 1, 19, 30))
