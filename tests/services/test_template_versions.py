"""Letter template versions below the pages: saving, roll-backs, counts and diffs."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, LetterTemplate, User, UserRole
from mp_mailer.services import template_versions as versions
from tests.factories import create_campaign, create_letter, create_user


@pytest.fixture
def author(db_session: Session) -> User:
    return create_user(db_session, role=UserRole.CAMPAIGNER)


def save(db_session: Session, campaign: Campaign, body: str, author: User) -> LetterTemplate:
    saved = versions.save_template(db_session, campaign, "Subject", body, "", author.id)
    assert saved is not None
    return saved


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
