"""A campaign's figures, counted by the database."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from mp_mailer.models import LetterStatus
from mp_mailer.services.personal_touch import Band
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


def test_figures_put_letters_in_own_words_bands_by_their_measures(db_session: Session) -> None:
    campaign = create_campaign(db_session)
    for sentences, share in [(0, 0.0), (0, 0.015), (0, 0.08), (1, 0.2), (2, 0.3), (3, 0.7)]:
        create_letter(db_session, campaign, own_sentences=sentences, own_word_share=share)
    create_letter(db_session, campaign)

    own_words = campaign_figures(db_session, campaign.id, None, NOW.date()).own_words

    assert own_words.bands == {
        Band.COPIED: 2,
        Band.FEW_WORDS: 1,
        Band.OWN_SENTENCE: 2,
        Band.MOSTLY_OWN: 1,
    }
    assert own_words.unmeasured == 1


def test_figures_give_the_median_own_word_share_of_measured_letters(db_session: Session) -> None:
    campaign = create_campaign(db_session)
    for share in (0.0, 0.1, 0.3, 0.9):
        create_letter(db_session, campaign, own_sentences=0, own_word_share=share)
    create_letter(db_session, campaign)

    own_words = campaign_figures(db_session, campaign.id, None, NOW.date()).own_words

    assert own_words.median_percent == 20


def test_figures_have_no_median_own_word_share_when_no_letter_was_measured(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    create_letter(db_session, campaign)

    assert (
        campaign_figures(db_session, campaign.id, None, NOW.date()).own_words.median_percent is None
    )
