"""Previews of a campaign's letter, below the pages."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address

import pytest
from sqlalchemy.orm import Session

from mp_mailer.services import letter_previews as previews
from mp_mailer.services import template_versions as versions
from mp_mailer.services.mp_cache import find_cached_mp
from tests.factories import cache_mp, create_campaign

MAIL_FROM = Address("Free Tibet", "campaigns", "freetibet.example")
NOW = datetime(2026, 3, 2, 9, 30)


def test_preview_letter_addresses_a_reserved_domain_when_the_mp_has_no_email(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)
    cache_mp(db_session, email=None)
    mp = find_cached_mp(db_session, 172)
    assert mp is not None

    preview = previews.preview_letter(
        campaign.templates[0],
        campaign,
        mp,
        campaign_url="http://localhost/c/x",
        now=NOW,
        mail_from=MAIL_FROM,
        redirect_to=None,
    )

    assert preview.message["To"] == "Ms Diane Abbott <no-public-email@parliament.invalid>"


def test_preview_letter_dates_the_email_and_signs_it_as_the_sample_supporter(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)

    preview = previews.preview_letter(
        campaign.templates[0],
        campaign,
        previews.SAMPLE_MP,
        campaign_url="http://localhost/c/x",
        now=NOW,
        mail_from=MAIL_FROM,
        redirect_to=None,
        supporter=previews.sample_supporter("E8 1AA"),
    )

    assert ("Date", "Mon, 02 Mar 2026 09:30:00 -0000") in preview.headers
    assert preview.text.endswith(
        "Sam Sample\n1 Sample Street\nLondon\nE8 1AA\nsam.sample@example.org\n"
    )


def test_preview_unsaved_template_names_the_field_when_its_text_is_refused(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)

    with pytest.raises(versions.TemplateRefused) as refused:
        previews.preview_unsaved_template(
            "Fine subject",
            "Dear {{ mp.oops }}",
            campaign,
            campaign_url="http://localhost/c/x",
            now=NOW,
            mail_from=MAIL_FROM,
            redirect_to=None,
        )

    assert refused.value.field == "body_template"
    assert refused.value.message.startswith("Letter: ")


def test_preview_unsaved_template_writes_to_the_sample_mp_when_the_text_passes(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session)

    preview = previews.preview_unsaved_template(
        "About {{ campaign.title }}",
        "Dear {{ mp.address_as }},",
        campaign,
        campaign_url="http://localhost/c/x",
        now=NOW,
        mail_from=MAIL_FROM,
        redirect_to=None,
    )

    assert preview.mp == previews.SAMPLE_MP
    assert preview.version == 0
    assert preview.text.startswith("Dear Ms Abbott,")
