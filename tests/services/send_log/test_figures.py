"""A campaign's figures, counted by the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from mp_mailer.models import LetterStatus
from mp_mailer.services.send_log.figures import DayCount, campaign_figures, period_start
from tests.factories import create_campaign, create_letter

NOW = datetime(2026, 11, 25, 12, 0)


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
