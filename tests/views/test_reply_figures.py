"""Which MPs answer: staff see reply figures per campaign, party and MP, with a drill-down and a
CSV; the public sees the same table only when the campaign shows it, naming no supporter. Every
rate shows the numbers behind it, and none is given from fewer than five letters."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, LetterStatus, ReplyAnswer, User, UserRole
from tests.factories import create_campaign, create_reply_check, create_sent_letter
from tests.pages import path_for, soup, text_of

ABBOTT = {"mp_id": 172, "mp_name": "Ms Diane Abbott", "mp_party": "Independent"}
SMITH = {
    "mp_id": 4001,
    "mp_name": "Alex Smith",
    "mp_party": "Labour",
    "constituency_name": "Somewhere North",
}
SETTINGS = {
    "title": "Free Tenzin",
    "slug": "free-tenzin",
    "status": "live",
    "target": "constituency_mp",
    "intro_markdown": "Tenzin has been detained.",
}


@pytest.fixture
def campaign(db_session: Session) -> Campaign:
    return create_campaign(db_session, slug="free-tenzin", title="Free Tenzin")


@pytest.fixture
def public_campaign(db_session: Session, campaign: Campaign) -> Campaign:
    campaign.public_reply_figures = True
    db_session.commit()
    return campaign


@pytest.fixture
def staff(login_as: Callable[..., User]) -> User:
    return login_as(UserRole.STAFF)


def _letters(
    session: Session, campaign: Campaign, mp: dict[str, Any], answers: list[ReplyAnswer | None]
) -> None:
    """One sent letter per answer; None: its supporter was asked and did not answer."""
    for answer in answers:
        letter = create_sent_letter(session, campaign, **mp)
        create_reply_check(session, letter, answer=answer)


def _row(response: Any, name: str) -> str:
    rows = soup(response).select("tbody tr, tfoot tr")
    return next(" ".join(row.get_text(" ").split()) for row in rows if name in row.get_text())


def test_staff_reply_figures_count_answers_with_the_numbers_behind_the_rate(
    client: FlaskClient, db_session: Session, campaign: Campaign, staff: User
) -> None:
    _letters(db_session, campaign, ABBOTT, [ReplyAnswer.YES] * 3 + [ReplyAnswer.NO] * 2 + [None])

    response = client.get(path_for("send_log.replies", campaign=campaign.id))

    assert response.status_code == 200
    assert "60% (3 of 5 who answered)" in _row(response, "Ms Diane Abbott")


def test_reply_figures_give_no_rate_from_fewer_than_five_answers(
    client: FlaskClient, db_session: Session, campaign: Campaign, staff: User
) -> None:
    _letters(db_session, campaign, ABBOTT, [ReplyAnswer.YES] * 4)

    response = client.get(path_for("send_log.replies", campaign=campaign.id))

    row = _row(response, "Ms Diane Abbott")
    assert "Too few letters to say (4 of 4 who answered)" in row
    assert "100%" not in row


def test_reply_figures_count_acknowledged_letters_and_never_bounced_ones(
    client: FlaskClient, db_session: Session, campaign: Campaign, staff: User
) -> None:
    for _ in range(4):
        create_sent_letter(db_session, campaign, status=LetterStatus.ACKNOWLEDGED, **ABBOTT)
    create_sent_letter(db_session, campaign, **ABBOTT)
    create_sent_letter(db_session, campaign, status=LetterStatus.BOUNCED, **ABBOTT)

    response = client.get(path_for("send_log.replies", campaign=campaign.id))

    assert "80% (4 of 5 received)" in _row(response, "Ms Diane Abbott")


def test_reply_figures_list_mps_by_party_then_name_not_by_rate(
    client: FlaskClient, db_session: Session, campaign: Campaign, staff: User
) -> None:
    _letters(db_session, campaign, ABBOTT, [ReplyAnswer.YES])
    _letters(db_session, campaign, SMITH, [ReplyAnswer.NO] * 6)

    response = client.get(path_for("send_log.replies", campaign=campaign.id))

    names = [row.th.get_text(" ", strip=True) for row in soup(response).select("tbody tr")]
    assert names.index("Independent") < names.index("Labour")
    mp_rows = [name for name in names if "Abbott" in name or "Smith" in name]
    assert "Abbott" in mp_rows[0]


def test_reply_figures_give_the_median_days_to_a_reply(
    client: FlaskClient, db_session: Session, campaign: Campaign, staff: User
) -> None:
    _letters(db_session, campaign, ABBOTT, [ReplyAnswer.YES])

    response = client.get(path_for("send_log.replies", campaign=campaign.id))

    # The factory's supporter said "yes" 15 days after the letter was sent.
    assert _row(response, "Ms Diane Abbott").endswith("15")


def test_staff_drill_down_shows_an_mps_letters_and_their_answers(
    client: FlaskClient, db_session: Session, campaign: Campaign, staff: User
) -> None:
    letter = create_sent_letter(db_session, campaign, **ABBOTT)
    create_reply_check(
        db_session, letter, answer=ReplyAnswer.YES, reply_text="Dear Jane", reply_text_consent=True
    )

    response = client.get(path_for("send_log.replies_for_mp", mp_id=172, campaign=campaign.id))

    assert response.status_code == 200
    row = text_of(response, "tbody tr")
    assert f"#{letter.id}" in row
    assert "Replied" in row
    assert "Dear Jane" in row


def test_staff_drill_down_is_not_found_for_an_mp_without_letters(
    client: FlaskClient, campaign: Campaign, staff: User
) -> None:
    response = client.get(path_for("send_log.replies_for_mp", mp_id=999, campaign=campaign.id))

    assert response.status_code == 404


def test_reply_figures_csv_has_a_row_per_mp_with_its_counts(
    client: FlaskClient, db_session: Session, campaign: Campaign, staff: User
) -> None:
    _letters(db_session, campaign, ABBOTT, [ReplyAnswer.YES, ReplyAnswer.NO, None])

    response = client.get(path_for("send_log.replies_csv", campaign=campaign.id))

    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    [row] = rows
    assert (row["mp"], row["letters_received"], row["supporters_asked"]) == (
        "Ms Diane Abbott",
        "3",
        "3",
    )
    assert (row["supporters_who_answered"], row["said_the_mp_replied"]) == ("2", "1")


def test_reply_figures_csv_neutralises_a_formula_in_a_name(
    client: FlaskClient, db_session: Session, campaign: Campaign, staff: User
) -> None:
    create_sent_letter(db_session, campaign, mp_name='=HYPERLINK("https://evil.example")')

    response = client.get(path_for("send_log.replies_csv", campaign=campaign.id))

    [row] = list(csv.DictReader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert row["mp"].startswith("'=")


def test_reply_figures_are_refused_when_the_user_is_not_signed_in(
    client: FlaskClient, campaign: Campaign
) -> None:
    response = client.get(path_for("send_log.replies", campaign=campaign.id))

    assert response.status_code == 302


def test_public_reply_figures_are_not_found_when_the_campaign_does_not_show_them(
    client: FlaskClient, db_session: Session, campaign: Campaign
) -> None:
    _letters(db_session, campaign, ABBOTT, [ReplyAnswer.YES])

    response = client.get(path_for("replies.public_figures", slug=campaign.slug))

    assert response.status_code == 404


def test_public_reply_figures_show_answers_when_the_campaign_shows_them(
    client: FlaskClient, db_session: Session, public_campaign: Campaign
) -> None:
    _letters(db_session, public_campaign, ABBOTT, [ReplyAnswer.YES] * 5 + [ReplyAnswer.NO])

    response = client.get(path_for("replies.public_figures", slug=public_campaign.slug))

    assert response.status_code == 200
    assert "83% (5 of 6 who answered)" in _row(response, "Ms Diane Abbott")
    assert "How these figures are counted" in text_of(response, "main")


def test_public_reply_figures_are_counted_once_for_a_burst_of_visitors(
    app: Flask, client: FlaskClient, db_session: Session, public_campaign: Campaign
) -> None:
    _letters(db_session, public_campaign, ABBOTT, [ReplyAnswer.YES])
    page = path_for("replies.public_figures", slug=public_campaign.slug)
    client.get(page)
    counts: list[str] = []

    def record(*args: Any) -> None:
        if "reply_checks" in args[2]:
            counts.append(args[2])

    engine = app.extensions["mp_mailer.engine"]
    event.listen(engine, "before_cursor_execute", record)
    try:
        response = client.get(page)
    finally:
        event.remove(engine, "before_cursor_execute", record)

    assert "1 of 1 who answered" in _row(response, "Ms Diane Abbott")
    assert counts == []


def test_public_reply_figures_show_no_personal_data(
    client: FlaskClient, db_session: Session, public_campaign: Campaign
) -> None:
    letter = create_sent_letter(
        db_session,
        public_campaign,
        supporter_name="Jane Q Supporter",
        supporter_email="jane.q@example.org",
        supporter_postcode="N16 0AA",
        supporter_address="7 Private Road",
        **ABBOTT,
    )
    create_reply_check(
        db_session, letter, answer=ReplyAnswer.YES, reply_text="Dear Jane", reply_text_consent=True
    )

    page = client.get(path_for("replies.public_figures", slug=public_campaign.slug))

    source = page.get_data(as_text=True)
    for personal in ("Jane Q Supporter", "jane.q@example.org", "N16 0AA", "7 Private Road"):
        assert personal not in source
    assert "Dear Jane" not in source
    assert f"/admin/letters/{letter.id}" not in source


def test_campaign_settings_save_the_reply_switches_in_their_own_fieldset(
    post_form: Any,
    client: FlaskClient,
    db_session: Session,
    campaign: Campaign,
    login_as: Callable[..., User],
) -> None:
    login_as(UserRole.CAMPAIGNER)
    edit = path_for("campaigns.edit_campaign", campaign_id=campaign.id)
    legends = [legend.get_text() for legend in soup(client.get(edit)).select("legend")]
    assert legends[-1] == "Replies and public figures"

    post_form(edit, {**SETTINGS, "public_reply_figures": "y"})

    db_session.expire_all()
    saved = db_session.get_one(Campaign, campaign.id)
    assert (saved.track_replies, saved.public_reply_figures) == (False, True)
