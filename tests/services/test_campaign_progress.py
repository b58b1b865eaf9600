"""A campaign's progress: what is counted, how long a count is kept, and the bar's share."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from mp_mailer.models import LetterStatus
from mp_mailer.services.campaign_progress import CampaignProgress, ProgressCounter
from tests.factories import create_campaign, create_letter

NOW = datetime(2026, 12, 1, 12, 0)


def test_progress_counts_confirmed_letters_and_mps_reached_by_sent_ones_when_counted(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    create_letter(db_session, campaign, status=LetterStatus.SENT, mp_id=1)
    create_letter(db_session, campaign, status=LetterStatus.SENT, mp_id=1)
    create_letter(db_session, campaign, status=LetterStatus.SENT, mp_id=2)
    create_letter(db_session, campaign, status=LetterStatus.QUEUED, mp_id=3)
    create_letter(db_session, campaign, status=LetterStatus.AWAITING_CONFIRMATION, mp_id=4)
    create_letter(db_session, create_campaign(db_session), status=LetterStatus.SENT, mp_id=5)

    progress = ProgressCounter().progress(db_session, campaign, NOW)

    assert (progress.letters, progress.mps_reached) == (4, 2)


def test_progress_reuses_its_count_when_asked_again_within_the_lifetime(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    counter = ProgressCounter(lifetime=timedelta(seconds=60))
    counter.progress(db_session, campaign, NOW)
    create_letter(db_session, campaign, status=LetterStatus.SENT)

    progress = counter.progress(db_session, campaign, NOW + timedelta(seconds=59))

    assert progress.letters == 0


def test_progress_counts_again_when_the_lifetime_has_passed(db_session: Session) -> None:
    campaign = create_campaign(db_session)
    counter = ProgressCounter(lifetime=timedelta(seconds=60))
    counter.progress(db_session, campaign, NOW)
    create_letter(db_session, campaign, status=LetterStatus.SENT)

    progress = counter.progress(db_session, campaign, NOW + timedelta(seconds=60))

    assert progress.letters == 1


def test_progress_takes_the_target_from_the_campaign_when_it_changed_since_counting(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session, target_letters=100)
    counter = ProgressCounter()
    counter.progress(db_session, campaign, NOW)
    campaign.target_letters = 400

    assert counter.progress(db_session, campaign, NOW).target_letters == 400


def test_progress_percent_stops_at_a_hundred_when_the_target_is_passed() -> None:
    assert CampaignProgress(letters=150, mps_reached=90, target_letters=100).percent == 100


def test_progress_bar_step_rounds_down_to_five_percent_when_between_steps() -> None:
    assert CampaignProgress(letters=39, mps_reached=1, target_letters=100).bar_step == 35


def test_progress_percent_is_none_when_the_campaign_sets_no_target() -> None:
    assert CampaignProgress(letters=39, mps_reached=1, target_letters=None).percent is None
