"""The letter step's personal touch: the campaign's minimum of own sentences, the measure shown
as supporters write and stored with the letter, and the line at the letter's foot."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, Letter, User, UserRole
from mp_mailer.services.seed import BAN_CHEN_SLUG
from tests.factories import create_campaign, create_letter
from tests.journeys import (
    confirmation_link,
    letter_page_path,
    the_letter,
    write_and_confirm,
    write_letter,
)
from tests.pages import page_errors, path_for, soup, text_of
from tests.smtp_server import SmtpTestServer

OWN_SENTENCE = "My grandmother fled Lhasa in 1959 and never saw her brothers again."
ONE_SENTENCE_ASKED = (
    "Add at least one sentence in your own words: MPs' offices give more weight to letters "
    "that say why it matters to you."
)
MP_ADDRESS = "Ms Diane Abbott <diane.abbott.office@parliament.uk>"


def campaign_letter(client: FlaskClient) -> str:
    """The letter as we fill it in for the supporter's MP, from the letter page."""
    page = BeautifulSoup(client.get(letter_page_path("SW1A 1AA")).data, "html.parser")
    body = page.select_one("#body")
    assert body is not None
    return body.get_text().strip()


def set_campaign(db_session: Session, **values: Any) -> None:
    campaign = db_session.scalars(select(Campaign).where(Campaign.slug == BAN_CHEN_SLUG)).one()
    for name, value in values.items():
        setattr(campaign, name, value)
    db_session.commit()


def letters_stored(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Letter)) or 0


def with_own_sentence(letter: str) -> str:
    return letter.replace("Dear Ms Abbott,", f"Dear Ms Abbott,\n\n{OWN_SENTENCE}")


def mp_message(smtp_server: SmtpTestServer) -> Any:
    return next(m for m in smtp_server.messages if m["To"] == MP_ADDRESS)


def test_letter_step_refuses_our_letter_unchanged_when_the_campaign_asks_for_own_words(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    set_campaign(db_session, min_own_sentences=1)
    ours = campaign_letter(seeded_client)

    response = write_letter(post_form, body=ours)

    assert response.status_code == 200
    assert ONE_SENTENCE_ASKED in page_errors(response)
    assert ONE_SENTENCE_ASKED in text_of(response, "#body-error")
    assert letters_stored(db_session) == 0


def test_letter_step_keeps_the_letter_typed_when_it_asks_for_more_own_words(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    set_campaign(db_session, min_own_sentences=2)
    letter = with_own_sentence(campaign_letter(seeded_client))

    response = write_letter(post_form, body=letter)

    assert "Add at least 2 sentences in your own words (your letter has 1 so far)" in (
        page_errors(response)
    )
    body = BeautifulSoup(response.data, "html.parser").select_one("#body")
    assert body is not None and body.get_text().strip() == letter


def test_letter_step_accepts_the_letter_when_it_has_the_own_sentences_asked_for(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    set_campaign(db_session, min_own_sentences=1)

    response = write_letter(post_form, body=with_own_sentence(campaign_letter(seeded_client)))

    assert response.status_code == 302
    assert letters_stored(db_session) == 1


def test_letter_step_accepts_our_letter_unchanged_when_the_campaign_asks_for_no_minimum(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    response = write_letter(post_form, body=campaign_letter(seeded_client))

    assert response.status_code == 302
    assert letters_stored(db_session) == 1


def test_letter_step_stores_how_much_of_the_letter_is_the_supporters_own(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    write_letter(post_form, body=with_own_sentence(campaign_letter(seeded_client)))

    letter = the_letter(db_session)
    assert letter.own_sentences == 1
    assert letter.own_word_share is not None and 0.03 < letter.own_word_share < 0.2


def test_letter_page_says_how_much_is_their_own_beside_the_letter_after_a_submit(
    seeded_client: FlaskClient, post_form: Any
) -> None:
    response = write_letter(
        post_form, email="not-an-email", body=with_own_sentence(campaign_letter(seeded_client))
    )

    assert text_of(response, "#personal-touch").endswith(
        "of this letter is in your own words (1 sentence of your own)."
    )


def test_letter_page_gives_its_script_our_letter_to_measure_against(
    seeded_client: FlaskClient,
) -> None:
    page = BeautifulSoup(seeded_client.get(letter_page_path("SW1A 1AA")).data, "html.parser")

    hint = page.select_one("#personal-touch[aria-live=polite]")
    assert hint is not None
    assert hint["data-campaign-text"] == campaign_letter(seeded_client)


def test_letter_page_states_the_campaigns_minimum_in_the_letters_hint(
    seeded_client: FlaskClient, db_session: Session
) -> None:
    set_campaign(db_session, min_own_sentences=1)

    response = seeded_client.get(letter_page_path("SW1A 1AA"))

    assert "asks for at least one sentence in your own words" in text_of(response, "#body-hint")


def test_mp_email_ends_with_the_own_words_line_when_the_campaign_adds_it(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    set_campaign(db_session, footer_own_words_line=True)
    letter = with_own_sentence(campaign_letter(seeded_client))

    write_and_confirm(seeded_client, post_form, smtp_server, deliver, body=letter)
    deliver()

    percent = round(the_letter(db_session).own_word_share * 100)  # type: ignore[operator]
    assert (
        mp_message(smtp_server)
        .get_content()
        .rstrip()
        .endswith(
            "jane@example.org\n\nI wrote this letter with the help of Free Tibet's campaign "
            f"“Ban Chen Quanguo”; about {percent}% of it is in my own words."
        )
    )


def test_mp_email_has_no_own_words_line_when_the_campaign_adds_none(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)
    deliver()

    assert mp_message(smtp_server).get_content().rstrip().endswith("jane@example.org")
    assert the_letter(db_session).own_words_line is None


def test_confirm_page_shows_the_own_words_line_the_mp_will_receive(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    set_campaign(db_session, footer_own_words_line=True)
    write_letter(post_form, body=campaign_letter(seeded_client))
    deliver()

    page = seeded_client.get(confirmation_link(smtp_server))

    assert text_of(page, ".letter-preview").endswith(
        "I sent this letter in the words of Free Tibet's campaign “Ban Chen Quanguo”, "
        "which I support."
    )


SETTINGS = {
    "title": "Free Tenzin",
    "slug": "free-tenzin",
    "status": "draft",
    "target": "constituency_mp",
    "intro_markdown": "Tenzin has been detained for **ten years**.",
}


@pytest.fixture
def campaign(login_as: Callable[..., User], db_session: Session) -> Campaign:
    login_as(UserRole.CAMPAIGNER)
    return create_campaign(db_session, slug="free-tenzin", title="Free Tenzin")


def save_settings(post_form: Any, campaign: Campaign, **fields: str) -> Any:
    return post_form(
        path_for("campaigns.edit_campaign", campaign_id=campaign.id), {**SETTINGS, **fields}
    )


def test_campaign_settings_save_the_minimum_and_the_own_words_line_when_given(
    post_form: Any, campaign: Campaign, db_session: Session, client: FlaskClient
) -> None:
    save_settings(post_form, campaign, min_own_sentences="2", footer_own_words_line="y")

    db_session.expire_all()
    saved = db_session.get(Campaign, campaign.id)
    assert saved is not None
    assert (saved.min_own_sentences, saved.footer_own_words_line) == (2, True)
    shown = client.get(path_for("campaigns.show_campaign", campaign_id=campaign.id))
    assert "At least 2" in text_of(shown, ".summary-list")


def test_campaign_settings_ask_for_no_minimum_when_it_is_left_empty(
    post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    save_settings(post_form, campaign, min_own_sentences="")

    db_session.expire_all()
    saved = db_session.get(Campaign, campaign.id)
    assert saved is not None
    assert (saved.min_own_sentences, saved.footer_own_words_line) == (0, False)


@pytest.mark.parametrize("refused", ["-1", "11", "two"])
def test_campaign_settings_refuse_a_minimum_when_it_is_not_0_to_10(
    post_form: Any, campaign: Campaign, db_session: Session, refused: str
) -> None:
    response = save_settings(post_form, campaign, min_own_sentences=refused)

    assert response.status_code == 200
    assert "Enter a number" in text_of(response, "#min_own_sentences-error")
    assert page_errors(response)
    db_session.expire_all()
    assert db_session.get(Campaign, campaign.id).min_own_sentences == 0  # type: ignore[union-attr]


def test_campaign_settings_group_the_personal_touch_in_its_own_fieldset(
    campaign: Campaign, client: FlaskClient
) -> None:
    page = client.get(path_for("campaigns.edit_campaign", campaign_id=campaign.id))

    [fieldset] = [
        legend.parent
        for legend in soup(page).select("legend.fieldset__legend")
        if legend.get_text(strip=True) == "Personal touch"
    ]
    names = {field["name"] for field in fieldset.select("input")}
    assert {"min_own_sentences", "footer_own_words_line"} <= names


def test_staff_figures_show_letters_in_each_own_words_band(
    client: FlaskClient, db_session: Session, login_as: Callable[..., User]
) -> None:
    campaign = create_campaign(db_session)
    create_letter(db_session, campaign, own_sentences=0, own_word_share=0.0)
    create_letter(db_session, campaign, own_sentences=1, own_word_share=0.25)
    create_letter(db_session, campaign, own_sentences=1, own_word_share=0.35)
    login_as(UserRole.STAFF)

    page = client.get(path_for("send_log.figures", campaign=campaign.id))

    rows = [
        text_of_row.get_text(" ", strip=True)
        for text_of_row in soup(page).select(".own-words-bands tbody tr")
    ]
    assert rows == [
        "Sent as the campaign wrote it 1",
        "A few words changed 0",
        "At least one sentence of their own 2",
        "Mostly in their own words 0",
    ]
    assert "at least 25%" in text_of(page, ".own-words-median")


def test_send_log_letter_page_shows_how_much_is_the_supporters_own(
    client: FlaskClient, db_session: Session, login_as: Callable[..., User]
) -> None:
    letter = create_letter(db_session, own_sentences=2, own_word_share=0.305)
    login_as(UserRole.STAFF)

    page = client.get(path_for("send_log.letter_detail", letter_id=letter.id))

    assert text_of(page, ".own-words") == (
        "About 31% in the supporter’s own words; 2 sentences of their own"
    )
