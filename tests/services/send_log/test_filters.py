"""The send log's filter, described for people."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mp_mailer.models import LetterStatus
from mp_mailer.services.send_log.filters import LetterFilter, describe_filter
from tests.factories import create_campaign


def test_describe_filter_names_the_campaign_and_state(db_session: Session) -> None:
    campaign = create_campaign(db_session, title="Ban Chen Quanguo")

    described = describe_filter(
        db_session, LetterFilter(campaign_id=campaign.id, status=LetterStatus.FAILED)
    )

    assert described == [("Campaign", "Ban Chen Quanguo"), ("State", "failed")]
