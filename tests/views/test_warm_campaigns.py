"""The supporter's pages keep their campaign and its letter in the process for seconds: what that
may and may not delay (a surge's pages need no query; letters are never accepted against a kept
copy)."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import Campaign, CampaignStatus, Letter, LetterTemplate, UserRole
from tests.journeys import CAMPAIGN_SLUG, LETTER_URL, letter_page_path, supporter_details
from tests.pages import path_for, text_of


def change_elsewhere(db_session: Session, **values: Any) -> None:
    """A change another web process made: this one's kept copy knows nothing of it."""
    db_session.execute(update(Campaign).values(**values))
    db_session.commit()


def test_campaign_page_shows_a_campaigners_change_at_once_in_the_same_process(
    app: Flask,
    seeded_client: FlaskClient,
    db_session: Session,
    login_as: Any,
    post_form: Any,
) -> None:
    public = app.test_client()
    public.get("/")
    campaign = db_session.scalars(select(Campaign)).one()
    login_as(UserRole.CAMPAIGNER)

    post_form(
        path_for("campaigns.change_status", campaign_id=campaign.id),
        {"status": "closed"},
        page_url=path_for("campaigns.show_campaign", campaign_id=campaign.id),
    )

    assert "This campaign has closed" in public.get("/").data.decode()


def test_campaign_page_shows_a_change_from_another_process_within_five_seconds(
    seeded_client: FlaskClient, db_session: Session
) -> None:
    with freeze_time(utcnow()) as frozen:
        seeded_client.get("/")
        change_elsewhere(db_session, title="Sanction Chen Quanguo now")
        frozen.tick(6)

        page = seeded_client.get("/")

    assert text_of(page, "h1") == "Sanction Chen Quanguo now"


def test_letter_is_refused_when_the_campaign_closed_after_its_page_was_kept(
    seeded_client: FlaskClient, db_session: Session, post_form: Any
) -> None:
    campaign_page = path_for("supporter.campaign_page", slug=CAMPAIGN_SLUG)
    seeded_client.get(campaign_page)
    change_elsewhere(db_session, status=CampaignStatus.CLOSED)

    # The kept campaign page still shows the form; its token is the session's.
    page = post_form(LETTER_URL, supporter_details(), page_url=campaign_page, follow_redirects=True)

    assert "This campaign has closed" in page.data.decode()
    assert db_session.scalar(select(func.count()).select_from(Letter)) == 0


NEW_LETTER = "Dear {{ mp.address_as }},\n\nThe sanctions list still lacks Chen Quanguo."
LETTER_PAGE = letter_page_path("SW1A 1AA")


def letter_saved_elsewhere(db_session: Session) -> LetterTemplate:
    """A new version of the letter, saved by another web process."""
    campaign = db_session.scalars(select(Campaign)).one()
    template = LetterTemplate(
        campaign_id=campaign.id,
        version=99,
        subject_template="Sanction Chen Quanguo",
        body_template=NEW_LETTER,
    )
    db_session.add(template)
    db_session.commit()
    return template


def test_letter_page_shows_a_campaigners_new_letter_at_once_in_the_same_process(
    app: Flask, seeded_client: FlaskClient, db_session: Session, login_as: Any, post_form: Any
) -> None:
    public = app.test_client()
    public.get(LETTER_PAGE)
    campaign = db_session.scalars(select(Campaign)).one()
    login_as(UserRole.CAMPAIGNER)

    post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id),
        {
            "subject_template": "Sanction Chen Quanguo",
            "body_template": NEW_LETTER,
            "note": "shorter",
            "save": "1",
        },
    )

    assert "still lacks Chen Quanguo" in text_of(public.get(LETTER_PAGE), "#body")


def test_letter_page_shows_a_letter_saved_in_another_process_within_five_seconds(
    seeded_client: FlaskClient, db_session: Session
) -> None:
    with freeze_time(utcnow()) as frozen:
        seeded_client.get(LETTER_PAGE)
        letter_saved_elsewhere(db_session)
        frozen.tick(6)

        page = seeded_client.get(LETTER_PAGE)

    assert "still lacks Chen Quanguo" in text_of(page, "#body")


def test_letter_records_the_version_saved_after_its_page_was_kept(
    seeded_client: FlaskClient, db_session: Session, post_form: Any
) -> None:
    seeded_client.get(LETTER_PAGE)
    template = letter_saved_elsewhere(db_session)

    post_form(LETTER_URL, supporter_details(), page_url=LETTER_PAGE)

    assert db_session.scalars(select(Letter.template_id)).one() == template.id
