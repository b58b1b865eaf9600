"""Campaign editing below the pages: settings and statuses (campaign_settings), template
versions, roll-backs and diffs (template_versions), previews (letter_previews)."""

from __future__ import annotations

from datetime import datetime
from email.headerregistry import Address

import pytest
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, CampaignStatus, LetterTemplate, User, UserRole
from mp_mailer.services import campaign_settings as settings
from mp_mailer.services import letter_previews as previews
from mp_mailer.services import template_versions as versions
from mp_mailer.services.mp_lookup import find_cached_mp
from tests.factories import cache_mp, create_campaign, create_letter, create_user

MAIL_FROM = Address("Free Tibet", "campaigns", "freetibet.example")
NOW = datetime(2026, 3, 2, 9, 30)


@pytest.fixture
def author(db_session: Session) -> User:
    return create_user(db_session, role=UserRole.CAMPAIGNER)


def save(db_session: Session, campaign: Campaign, body: str, author: User) -> LetterTemplate:
    saved = versions.save_template(db_session, campaign, "Subject", body, "", author.id)
    assert saved is not None
    return saved


def test_list_campaigns_puts_live_campaigns_first_then_drafts_then_closed(
    db_session: Session,
) -> None:
    create_campaign(db_session, title="A closed", status=CampaignStatus.CLOSED)
    create_campaign(db_session, title="B draft", status=CampaignStatus.DRAFT)
    create_campaign(db_session, title="C live", status=CampaignStatus.LIVE)

    titles = [summary.campaign.title for summary in settings.list_campaigns(db_session)]

    assert titles == ["C live", "B draft", "A closed"]


def test_change_status_refuses_a_draft_when_the_campaign_is_on_the_home_page(
    db_session: Session,
) -> None:
    campaign = create_campaign(db_session, is_default=True)

    with pytest.raises(settings.CampaignProblem) as refused:
        settings.change_status(db_session, campaign, CampaignStatus.DRAFT)

    assert refused.value.field == "is_default"
    db_session.expire_all()
    assert campaign.status == CampaignStatus.LIVE


def test_save_template_numbers_versions_after_the_highest_when_saved_again(
    db_session: Session, author: User
) -> None:
    campaign = create_campaign(db_session)

    versions = [save(db_session, campaign, f"Letter {n}", author).version for n in range(3)]

    assert versions == [2, 3, 4]


def test_roll_back_is_refused_when_the_old_text_fails_todays_checks(
    db_session: Session, author: User
) -> None:
    campaign = create_campaign(db_session, body_template="Dear MP, {{ supporter.name }}")
    save(db_session, campaign, "Dear {{ mp.address_as }}", author)

    with pytest.raises(versions.TemplateRefused) as refused:
        versions.roll_back_template(db_session, campaign, 1, author.id)

    assert refused.value.message.startswith(
        "Letter: Line 1: there is no variable called 'supporter'"
    )
    assert [v.template.version for v in versions.list_versions(db_session, campaign.id)] == [2, 1]


def test_list_versions_counts_the_letters_written_from_each_version(
    db_session: Session, author: User
) -> None:
    campaign = create_campaign(db_session)
    create_letter(db_session, campaign)
    save(db_session, campaign, "Dear {{ mp.address_as }}", author)
    db_session.refresh(campaign)
    create_letter(db_session, campaign)
    create_letter(db_session, campaign)

    counts = [
        (v.template.version, v.letters) for v in versions.list_versions(db_session, campaign.id)
    ]

    assert counts == [(2, 2), (1, 1)]


def test_diff_versions_shows_the_subject_then_the_letter_by_line_when_both_change(
    db_session: Session, author: User
) -> None:
    campaign = create_campaign(db_session, body_template="Dear MP,\nOld line.\nThanks.")
    new = save(db_session, campaign, "Dear MP,\nNew line.\nThanks.", author)

    diff = versions.diff_versions(campaign.templates[0], new)

    assert [(line.kind, line.text) for line in diff] == [
        ("hunk", "Subject"),
        ("removed", "Please act, {{ mp.address_as }}"),
        ("added", "Subject"),
        ("hunk", "Letter, from line 1"),
        ("context", "Dear MP,"),
        ("removed", "Old line."),
        ("added", "New line."),
        ("context", "Thanks."),
    ]


def test_diff_versions_is_empty_when_the_texts_are_the_same(db_session: Session) -> None:
    campaign = create_campaign(db_session)
    template = campaign.templates[0]

    assert versions.diff_versions(template, template) == []


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
