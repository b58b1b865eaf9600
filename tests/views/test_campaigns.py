"""Campaigners' pages: campaigns, their letter templates and versions, previews and test sends."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign, CampaignStatus, Letter, LetterTemplate, User, UserRole
from mp_mailer.services.campaign_settings import STARTER_BODY
from tests.factories import cache_mp, create_campaign
from tests.hostile_input import STORABLE_HOSTILE_CASES, ascii_domain, cut
from tests.journeys import supporter_details
from tests.pages import (
    ClientRequest,
    csrf_token_from,
    flash_text,
    page_errors,
    path_for,
    soup,
    text_of,
)
from tests.smtp_server import SmtpTestServer

MP_EMAIL = "diane.abbott.office@parliament.uk"


@pytest.fixture
def campaigner(login_as: Callable[..., User]) -> User:
    return login_as(UserRole.CAMPAIGNER)


@pytest.fixture
def campaign(db_session: Session) -> Campaign:
    return create_campaign(db_session, slug="free-tenzin", title="Free Tenzin")


def campaign_form(**overrides: str) -> dict[str, str]:
    values = {
        "title": "Release Tenzin",
        "slug": "release-tenzin",
        "status": "draft",
        "target": "constituency_mp",
        "intro_markdown": "Tenzin has been detained for **ten years**.",
        "thank_you_text": "Thank you for writing.",
        "share_text": "I wrote to my MP about Tenzin.",
        "petition_url": "https://example.org/petition",
    }
    values.update(overrides)
    return values


def template_form(**overrides: str) -> dict[str, str]:
    values = {
        "subject_template": "Please help Tenzin, {{ mp.address_as }}",
        "body_template": "Dear {{ mp.address_as }},\n\nAs your constituent in {{ constituency }}, "
        "I ask you to press for Tenzin's release.",
        "note": "first real letter",
        "save": "1",
    }
    values.update(overrides)
    return values


def versions_of(db_session: Session, campaign: Campaign) -> list[LetterTemplate]:
    db_session.expire_all()
    return list(
        db_session.scalars(
            select(LetterTemplate)
            .where(LetterTemplate.campaign_id == campaign.id)
            .order_by(LetterTemplate.version)
        )
    )


def reload(db_session: Session, campaign: Campaign) -> Campaign:
    db_session.expire_all()
    found = db_session.get(Campaign, campaign.id)
    assert found is not None
    return found


# Listing and creating


def test_campaign_list_shows_each_campaign_with_its_status_when_logged_in_as_campaigner(
    client_request: ClientRequest, client: FlaskClient, campaigner: User, db_session: Session
) -> None:
    create_campaign(db_session, title="Ban Chen Quanguo", status=CampaignStatus.LIVE)
    create_campaign(db_session, title="Free Tenzin", status=CampaignStatus.DRAFT)

    response = client_request.get("campaigns.list_campaigns").response

    rows = [" ".join(row.get_text(" ").split()) for row in soup(response).select("tbody tr")]
    assert response.status_code == 200
    assert rows[0].startswith("Ban Chen Quanguo") and "Live" in rows[0]
    assert rows[1].startswith("Free Tenzin") and "Draft" in rows[1]


def test_new_campaign_is_saved_as_a_draft_with_a_starter_letter_by_its_author(
    campaigner: User, post_form: Any, db_session: Session
) -> None:
    post_form(path_for("campaigns.new_campaign"), campaign_form(status="live"))

    campaign = db_session.scalars(select(Campaign)).one()
    assert (campaign.slug, campaign.status) == ("release-tenzin", CampaignStatus.DRAFT)
    [template] = versions_of(db_session, campaign)
    assert (template.version, template.body_template) == (1, STARTER_BODY)
    assert template.created_by_id == campaigner.id


def test_new_campaign_redirects_to_its_letter_editor(campaigner: User, post_form: Any) -> None:
    response = post_form(path_for("campaigns.new_campaign"), campaign_form())

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/letter")


def test_new_campaign_is_refused_when_its_web_address_is_taken(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    response = post_form(path_for("campaigns.new_campaign"), campaign_form(slug="free-tenzin"))

    assert response.status_code == 200
    assert "Another campaign already uses the web address /c/free-tenzin" in page_errors(response)
    assert len(db_session.scalars(select(Campaign)).all()) == 1


@pytest.mark.parametrize(
    "slug", ["free tenzin", "free_tenzin", "-free", "free-", "free--tenzin", "frée", "a/b"]
)
def test_new_campaign_is_refused_when_its_web_address_has_other_characters(
    campaigner: User, post_form: Any, db_session: Session, slug: str
) -> None:
    response = post_form(path_for("campaigns.new_campaign"), campaign_form(slug=slug))

    assert "can only use lowercase letters, numbers and single hyphens" in page_errors(response)
    assert db_session.scalars(select(Campaign)).all() == []


def test_new_campaign_lowercases_its_web_address(
    campaigner: User, post_form: Any, db_session: Session
) -> None:
    post_form(path_for("campaigns.new_campaign"), campaign_form(slug=" Free-Tenzin "))

    assert db_session.scalars(select(Campaign.slug)).one() == "free-tenzin"


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://example.org/x", "example.org/petition", "https://"]
)
def test_new_campaign_is_refused_when_the_petition_link_is_not_a_web_address(
    campaigner: User, post_form: Any, db_session: Session, url: str
) -> None:
    response = post_form(path_for("campaigns.new_campaign"), campaign_form(petition_url=url))

    assert "Enter a full web address starting with https://" in page_errors(response)
    assert db_session.scalars(select(Campaign)).all() == []


def test_new_campaign_is_refused_as_home_page_while_it_is_a_draft(
    campaigner: User, post_form: Any, db_session: Session
) -> None:
    response = post_form(path_for("campaigns.new_campaign"), campaign_form(is_default="y"))

    assert "A draft can't be the home page campaign" in page_errors(response)
    assert db_session.scalars(select(Campaign)).all() == []


# Editing settings and status


def test_editing_a_campaign_saves_its_settings(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    url = path_for("campaigns.edit_campaign", campaign_id=campaign.id)
    response = post_form(url, campaign_form(title="Free Tenzin now", slug="free-tenzin"))

    assert response.headers["Location"] == path_for(
        "campaigns.show_campaign", campaign_id=campaign.id
    )
    assert reload(db_session, campaign).title == "Free Tenzin now"


def test_making_a_campaign_the_home_page_takes_it_off_the_previous_one(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    previous = create_campaign(db_session, is_default=True)

    post_form(
        path_for("campaigns.edit_campaign", campaign_id=campaign.id),
        campaign_form(slug="free-tenzin", status="live", is_default="y"),
    )

    assert reload(db_session, campaign).is_default is True
    assert reload(db_session, previous).is_default is False


def test_home_page_shows_the_campaign_made_default(
    client: FlaskClient, campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    create_campaign(db_session, is_default=True)
    post_form(
        path_for("campaigns.edit_campaign", campaign_id=campaign.id),
        campaign_form(title="Free Tenzin", slug="free-tenzin", status="live", is_default="y"),
    )

    assert text_of(client.get("/"), "h1") == "Free Tenzin"


def test_campaign_cannot_go_live_while_it_has_the_starter_letter(
    client: FlaskClient, campaigner: User, post_form: Any, db_session: Session
) -> None:
    post_form(path_for("campaigns.new_campaign"), campaign_form())
    campaign = db_session.scalars(select(Campaign)).one()

    response = post_form(
        path_for("campaigns.change_status", campaign_id=campaign.id),
        {"status": "live"},
        page_url=path_for("campaigns.show_campaign", campaign_id=campaign.id),
        follow_redirects=True,
    )

    assert "Write this campaign's letter before putting it live" in flash_text(response)
    assert reload(db_session, campaign).status == CampaignStatus.DRAFT


def test_putting_a_draft_live_shows_it_to_the_public(
    app: Flask, campaigner: User, post_form: Any, db_session: Session
) -> None:
    draft = create_campaign(db_session, slug="free-tenzin", status=CampaignStatus.DRAFT)

    response = post_form(
        path_for("campaigns.change_status", campaign_id=draft.id),
        {"status": "live"},
        page_url=path_for("campaigns.show_campaign", campaign_id=draft.id),
        follow_redirects=True,
    )

    assert "The campaign is live" in flash_text(response)
    anonymous = app.test_client()
    assert anonymous.get(path_for("supporter.campaign_page", slug="free-tenzin")).status_code == 200


def test_draft_campaign_is_hidden_from_anonymous_visitors(
    client: FlaskClient, db_session: Session
) -> None:
    create_campaign(db_session, slug="free-tenzin", status=CampaignStatus.DRAFT)

    assert client.get(path_for("supporter.campaign_page", slug="free-tenzin")).status_code == 404


def test_draft_campaign_is_visible_to_logged_in_staff(
    client: FlaskClient, login_as: Callable[..., User], db_session: Session
) -> None:
    create_campaign(db_session, slug="free-tenzin", status=CampaignStatus.DRAFT)
    login_as(UserRole.STAFF)

    response = client.get(path_for("supporter.campaign_page", slug="free-tenzin"))

    assert response.status_code == 200
    assert "Draft: only staff can see this" in response.data.decode()


def test_closing_a_campaign_tells_supporters_it_has_closed(
    client: FlaskClient, campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    post_form(
        path_for("campaigns.change_status", campaign_id=campaign.id),
        {"status": "closed"},
        page_url=path_for("campaigns.show_campaign", campaign_id=campaign.id),
    )

    assert reload(db_session, campaign).status == CampaignStatus.CLOSED
    assert (
        text_of(
            client.get(path_for("supporter.campaign_page", slug="free-tenzin")), "#find-mp-title"
        )
        == "This campaign has closed"
    )


def test_closed_campaign_refuses_a_letter_with_a_clear_message(
    client: FlaskClient, db_session: Session
) -> None:
    campaign = create_campaign(db_session, slug="free-tenzin", status=CampaignStatus.LIVE)
    url = path_for("supporter.write_letter", slug="free-tenzin")
    token = csrf_token_from(client.get(f"{url}?postcode=SW1A 1AA").data)
    campaign.status = CampaignStatus.CLOSED
    db_session.commit()

    response = client.post(url, data={"csrf_token": token, **supporter_details()})

    assert response.status_code == 200
    assert "This campaign has closed and is no longer sending letters" in page_errors(response)
    assert db_session.scalars(select(Letter)).all() == []


def test_campaign_overview_shows_the_intro_without_raw_html(
    client_request: ClientRequest, client: FlaskClient, campaigner: User, db_session: Session
) -> None:
    campaign = create_campaign(
        db_session, intro_markdown="**Act now** <script>alert(1)</script> [x](javascript:alert(1))"
    )

    response = client_request.get("campaigns.show_campaign", campaign_id=campaign.id).response

    intro = soup(response).select_one(".intro")
    assert intro is not None
    assert intro.select_one("strong").get_text() == "Act now"  # type: ignore[union-attr]
    assert intro.select("script") == []
    assert "javascript:" not in str(intro.select("a"))


# Letter templates


def test_saving_a_template_creates_a_new_version_with_its_author_and_note(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    response = post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id), template_form()
    )

    assert response.headers["Location"] == path_for(
        "campaigns.show_campaign", campaign_id=campaign.id
    )
    latest = versions_of(db_session, campaign)[-1]
    assert (latest.version, latest.created_by_id, latest.note) == (
        2,
        campaigner.id,
        "first real letter",
    )
    assert latest.subject_template == "Please help Tenzin, {{ mp.address_as }}"


def test_saving_a_template_is_refused_with_the_line_when_it_uses_an_unknown_variable(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    body = "Dear {{ mp.address_as }},\n\nPlease act.\n\n{{ supporter.name }}"

    response = post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id),
        template_form(body_template=body),
    )

    assert response.status_code == 200
    assert "Letter: Line 5: there is no variable called 'supporter'" in page_errors(response)
    assert len(versions_of(db_session, campaign)) == 1


def test_saving_a_template_is_refused_when_a_field_is_misspelt_in_a_branch_never_taken(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    body = "Dear MP,\n{% if mp.party == 'Nobody' %}\n{{ mp.nmae }}\n{% endif %}\nPlease act now."

    response = post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id),
        template_form(body_template=body),
    )

    assert "Letter: Line 3: there is no field 'nmae' on 'mp'" in page_errors(response)
    assert len(versions_of(db_session, campaign)) == 1


def test_saving_a_template_is_refused_with_the_line_when_it_has_a_syntax_error(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    body = "Dear {{ mp.address_as }},\n\n{% if mp.party %}\nPlease act."

    response = post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id),
        template_form(body_template=body),
    )

    assert "Letter: Line 4: the template has a syntax error" in page_errors(response)
    assert len(versions_of(db_session, campaign)) == 1


def test_saving_a_template_is_refused_when_the_subject_reaches_for_python_internals(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    subject = "{{ mp.name.__class__.__mro__ }}"

    response = post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id),
        template_form(subject_template=subject),
    )

    assert "Subject: Line 1: '__mro__' is not a field you can use" in page_errors(response)
    assert len(versions_of(db_session, campaign)) == 1


def test_saving_a_template_is_refused_when_the_subject_holds_an_encoded_word(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    subject = "=?utf-8?q?Act=0D=0ABcc:_victim@example.net?= {{ mp.address_as }}"

    response = post_form(
        f"/admin/campaigns/{campaign.id}/letter", template_form(subject_template=subject)
    )

    assert "Subject can't contain text like “=?utf-8?q?”" in page_errors(response)
    assert len(versions_of(db_session, campaign)) == 1


def test_refused_template_leaves_the_previous_version_in_use_for_supporters(
    client: FlaskClient, campaigner: User, post_form: Any, campaign: Campaign
) -> None:
    post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id),
        template_form(body_template="{{ mp.oops }}"),
    )

    letter_page = client.get(
        path_for("supporter.write_letter", slug="free-tenzin", postcode="SW1A 1AA")
    )
    assert "As a constituent in Hackney North and Stoke Newington" in text_of(letter_page, "#body")


def test_refused_template_keeps_the_campaigners_text_in_the_form(
    campaigner: User, post_form: Any, campaign: Campaign
) -> None:
    body = "My long draft, with a typo at the end: {{ mp.oops }}"

    response = post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id),
        template_form(body_template=body),
    )

    assert text_of(response, "#body_template") == body


def test_saving_an_unchanged_template_creates_no_version(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    current = versions_of(db_session, campaign)[-1]

    response = post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id),
        template_form(
            subject_template=current.subject_template, body_template=current.body_template
        ),
        follow_redirects=True,
    )

    assert "Nothing had changed" in flash_text(response)
    assert len(versions_of(db_session, campaign)) == 1


def test_checking_a_template_previews_it_without_saving(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    data = template_form()
    del data["save"]

    response = post_form(
        path_for("campaigns.edit_template", campaign_id=campaign.id), {**data, "preview": "1"}
    )

    preview = text_of(response, ".email-preview")
    assert "Subject: Please help Tenzin, Ms Abbott" in preview
    assert "Yours sincerely, Sam Sample 1 Sample Street London" in preview
    assert len(versions_of(db_session, campaign)) == 1


def test_template_editor_documents_every_variable_and_the_automatic_sign_off(
    client_request: ClientRequest, client: FlaskClient, campaigner: User, campaign: Campaign
) -> None:
    response = client_request.get("campaigns.edit_template", campaign_id=campaign.id).response

    help_text = text_of(response, ".help-panel")
    for variable in ("mp.name", "mp.address_as", "mp.party", "constituency", "campaign.title"):
        assert f"{{{{ {variable} }}}}" in help_text
    assert "Yours sincerely, Sam Sample 1 Sample Street London SW1A 1AA" in help_text


def test_letter_keeps_its_template_version_after_the_template_changes(
    client: FlaskClient, post_form: Any, campaign: Campaign, db_session: Session, login_as: Any
) -> None:
    url = path_for("supporter.write_letter", slug="free-tenzin")
    post_form(url, supporter_details(), page_url=f"{url}?postcode=SW1A 1AA")
    login_as(UserRole.CAMPAIGNER)

    post_form(path_for("campaigns.edit_template", campaign_id=campaign.id), template_form())

    db_session.expire_all()
    letter = db_session.scalars(select(Letter)).one()
    assert letter.template.version == 1
    assert letter.body.startswith("Dear Ms Abbott,\n\nI am your constituent")
    assert "press for Tenzin's release" in text_of(client.get(f"{url}?postcode=SW1A 1AA"), "#body")


# Versions


def save_versions(post_form: Any, campaign: Campaign, *bodies: str) -> None:
    for number, body in enumerate(bodies):
        post_form(
            path_for("campaigns.edit_template", campaign_id=campaign.id),
            template_form(body_template=body, note=f"edit {number}"),
        )


def test_version_history_lists_every_version_with_its_author_newest_first(
    client_request: ClientRequest,
    client: FlaskClient,
    campaigner: User,
    post_form: Any,
    campaign: Campaign,
) -> None:
    save_versions(post_form, campaign, "Dear {{ mp.address_as }}, please act on this now.")

    response = client_request.get("campaigns.list_versions", campaign_id=campaign.id).response

    rows = [" ".join(row.get_text(" ").split()) for row in soup(response).select("tbody tr")]
    assert rows[0].startswith("Version 2 In use")
    assert "campaigner@example.org edit 0" in rows[0]
    assert rows[1].startswith("Version 1")


def test_comparing_versions_shows_removed_and_added_lines_escaped(
    client: FlaskClient, campaigner: User, post_form: Any, campaign: Campaign
) -> None:
    save_versions(post_form, campaign, "Dear MP,\n\nFirst <b>point</b>.", "Dear MP,\n\nSecond.")

    response = client.get(
        path_for("campaigns.compare_versions", campaign_id=campaign.id, old=2, new=3)
    )

    removed = [line.get_text() for line in soup(response).select(".diff__line--removed")]
    added = [line.get_text() for line in soup(response).select(".diff__line--added")]
    assert removed == ["Removed: - First <b>point</b>."]
    assert added == ["Added: + Second."]
    assert "First &lt;b&gt;point&lt;/b&gt;." in response.data.decode()


def test_rolling_back_saves_a_new_version_with_the_old_text(
    campaigner: User, post_form: Any, campaign: Campaign, db_session: Session
) -> None:
    original = versions_of(db_session, campaign)[0]
    save_versions(post_form, campaign, "Dear {{ mp.address_as }}, a worse letter.")

    response = post_form(
        path_for("campaigns.roll_back", campaign_id=campaign.id, version=1),
        {},
        page_url=path_for("campaigns.list_versions", campaign_id=campaign.id),
        follow_redirects=True,
    )

    latest = versions_of(db_session, campaign)[-1]
    assert (latest.version, latest.note) == (3, "rolled back to version 1")
    assert latest.body_template == original.body_template
    assert latest.created_by_id == campaigner.id
    assert "Rolled back: version 3 has the text of version 1" in flash_text(response)


def test_rolling_back_to_a_missing_version_is_not_found(
    campaigner: User, post_form: Any, campaign: Campaign
) -> None:
    response = post_form(
        path_for("campaigns.roll_back", campaign_id=campaign.id, version=9),
        {},
        page_url=path_for("campaigns.list_versions", campaign_id=campaign.id),
    )

    assert response.status_code == 404


# Preview


def test_preview_shows_the_email_with_headers_as_the_mp_would_receive_it(
    client_request: ClientRequest,
    client: FlaskClient,
    campaigner: User,
    campaign: Campaign,
    db_session: Session,
) -> None:
    cache_mp(db_session)

    response = client_request.get("campaigns.preview", campaign_id=campaign.id, mp=172).response

    preview = soup(response).select_one("pre.email-preview")
    assert preview is not None
    text = preview.get_text()
    assert "To: Ms Diane Abbott <diane.abbott.office@parliament.uk>\n" in text
    assert "From: Sam Sample via Free Tibet <campaigns@freetibet.example>\n" in text
    assert "Reply-To: Sam Sample <sam.sample@example.org>\n" in text
    assert "Subject: Please act, Ms Abbott\n" in text
    assert "Dear Ms Abbott,\n\nAs a constituent in Hackney North and Stoke Newington" in text
    assert text.endswith(
        "Yours sincerely,\n\nSam Sample\n1 Sample Street\nLondon\nSW1A 1AA\n"
        "sam.sample@example.org\n"
    )


def test_preview_search_lists_cached_mps_matching_a_name(
    client_request: ClientRequest,
    client: FlaskClient,
    campaigner: User,
    campaign: Campaign,
    db_session: Session,
) -> None:
    cache_mp(db_session)
    cache_mp(
        db_session,
        id=4000,
        display_name="Mr Dan Abbott-Example",
        constituency_id=9,
        constituency_name="Testford",
        postcode=None,
    )

    response = client_request.get("campaigns.preview", campaign_id=campaign.id, q="abbott").response

    names = [link.get_text() for link in soup(response).select(".choice-list a")]
    assert names == ["Mr Dan Abbott-Example", "Ms Diane Abbott"]


def test_preview_search_goes_straight_to_the_letter_when_one_mp_matches(
    client_request: ClientRequest,
    client: FlaskClient,
    campaigner: User,
    campaign: Campaign,
    db_session: Session,
) -> None:
    cache_mp(db_session)

    response = client_request.get(
        "campaigns.preview", campaign_id=campaign.id, q="Hackney", _expected_status=302
    ).response

    assert response.status_code == 302
    assert "mp=172" in response.headers["Location"]


def test_preview_by_postcode_finds_the_mp_through_the_members_api(
    client: FlaskClient, campaigner: User, campaign: Campaign
) -> None:
    response = client.get(
        path_for("campaigns.preview", campaign_id=campaign.id, lookup=1, postcode="sw1a1aa"),
        follow_redirects=True,
    )

    preview = text_of(response, "pre.email-preview")
    assert "To: Ms Diane Abbott <diane.abbott.office@parliament.uk>" in preview
    assert preview.endswith("London SW1A 1AA sam.sample@example.org")


def test_preview_by_postcode_shows_the_error_when_the_postcode_is_not_valid(
    client: FlaskClient, campaigner: User, campaign: Campaign
) -> None:
    response = client.get(
        path_for("campaigns.preview", campaign_id=campaign.id, lookup=1, postcode="nonsense")
    )

    assert "Enter a full UK postcode, like SW1A 1AA." in page_errors(response)


def test_preview_suggests_syncing_mps_when_none_are_cached(
    client_request: ClientRequest, client: FlaskClient, campaigner: User, campaign: Campaign
) -> None:
    response = client_request.get("campaigns.preview", campaign_id=campaign.id).response

    assert "mp-mailer sync-mps" in text_of(response, ".notice--warning")


@pytest.mark.parametrize("app_settings", [{"mail_redirect_to": "inbox@freetibet.example"}])
def test_preview_shows_the_redirect_address_when_mail_is_redirected(
    client_request: ClientRequest,
    client: FlaskClient,
    campaigner: User,
    campaign: Campaign,
    db_session: Session,
) -> None:
    cache_mp(db_session)

    response = client_request.get("campaigns.preview", campaign_id=campaign.id, mp=172).response

    assert "To: inbox@freetibet.example" in text_of(response, "pre.email-preview")


def test_preview_of_an_old_version_uses_that_versions_text(
    client_request: ClientRequest,
    client: FlaskClient,
    campaigner: User,
    post_form: Any,
    campaign: Campaign,
    db_session: Session,
) -> None:
    cache_mp(db_session)
    save_versions(post_form, campaign, "Dear {{ mp.address_as }}, the newer letter.")

    response = client_request.get(
        "campaigns.preview", campaign_id=campaign.id, mp=172, version=1
    ).response

    assert "As a constituent in" in text_of(response, "pre.email-preview")


# Test send


def send_test(post_form: Any, campaign: Campaign, **fields: Any) -> Any:
    return post_form(
        path_for("campaigns.send_test", campaign_id=campaign.id),
        {"mp_id": 172, "version": 1, **fields},
        page_url=path_for("campaigns.preview", campaign_id=campaign.id, mp=172),
        follow_redirects=True,
    )


def test_test_send_reaches_the_campaigner_and_never_the_mp(
    campaigner: User,
    post_form: Any,
    campaign: Campaign,
    db_session: Session,
    smtp_server: SmtpTestServer,
) -> None:
    cache_mp(db_session)

    response = send_test(post_form, campaign)

    assert "sent to campaigner@example.org" in flash_text(response)
    [(_, recipients)] = smtp_server.envelopes
    assert recipients == ["campaigner@example.org"]
    message = smtp_server.messages[0]
    assert message["To"] == "campaigner@example.org"
    assert message["Cc"] is None
    assert MP_EMAIL not in smtp_server.raw_messages[0].decode().split("\r\n\r\n")[0]


def test_test_send_is_marked_as_a_test_and_names_the_mp_it_would_have_gone_to(
    campaigner: User,
    post_form: Any,
    campaign: Campaign,
    db_session: Session,
    smtp_server: SmtpTestServer,
) -> None:
    cache_mp(db_session)

    send_test(post_form, campaign)

    message = smtp_server.messages[0]
    assert message["Subject"] == "[Test] Please act, Ms Abbott"
    first_line = message.get_content().splitlines()[0]
    assert first_line.startswith("[Test copy: on a live site this letter goes to Ms Diane Abbott")


@pytest.mark.parametrize("app_settings", [{"mail_redirect_to": "inbox@freetibet.example"}])
def test_test_send_goes_to_the_campaigner_even_when_mail_is_redirected(
    campaigner: User,
    post_form: Any,
    campaign: Campaign,
    db_session: Session,
    smtp_server: SmtpTestServer,
) -> None:
    cache_mp(db_session)

    send_test(post_form, campaign)

    assert smtp_server.envelopes[0][1] == ["campaigner@example.org"]


@STORABLE_HOSTILE_CASES
def test_test_send_of_a_hostile_subject_template_arrives_with_only_our_headers(
    campaigner: User,
    post_form: Any,
    db_session: Session,
    smtp_server: SmtpTestServer,
    supplied: str,
    expected: str,
) -> None:
    # Built in the template from pieces, as the editor's check for "=?" cannot see them.
    source = "{{ '=' }}" + supplied[1:] if supplied.startswith("=?") else supplied
    campaign = create_campaign(db_session, subject_template=source)
    cache_mp(db_session)

    send_test(post_form, campaign)

    [message] = smtp_server.messages
    assert sorted(message.keys()) == [
        "Content-Transfer-Encoding",
        "Content-Type",
        "Date",
        "From",
        "MIME-Version",
        "Message-ID",
        "Reply-To",
        "Subject",
        "To",
    ]
    assert message["Subject"] == cut(f"[Test] {expected}", 300)
    assert smtp_server.envelopes[0][1] == ["campaigner@example.org"]


@pytest.mark.parametrize("email", ["josé@example.com", "zoë@example.org", "jo@bücher.example"])
def test_test_send_reaches_a_campaigner_with_an_international_address(
    login_as: Callable[..., User],
    post_form: Any,
    campaign: Campaign,
    db_session: Session,
    smtp_server: SmtpTestServer,
    email: str,
) -> None:
    login_as(UserRole.CAMPAIGNER, email=email)
    cache_mp(db_session)

    response = send_test(post_form, campaign)

    assert f"sent to {email}" in flash_text(response)
    [message] = smtp_server.messages
    assert message["To"].addresses[0].addr_spec == ascii_domain(email)
    assert smtp_server.envelopes[0][1] == [ascii_domain(email)]


def test_test_send_explains_when_the_relay_refuses_it(
    campaigner: User,
    post_form: Any,
    campaign: Campaign,
    db_session: Session,
    smtp_server: SmtpTestServer,
) -> None:
    cache_mp(db_session)
    smtp_server.fail_next(550, "5.7.1 Relaying denied", stage="rcpt")

    response = send_test(post_form, campaign)

    assert response.status_code == 200
    assert "The test email could not be sent" in flash_text(response)
    assert "550 5.7.1 Relaying denied" in flash_text(response)
    assert smtp_server.messages == []


def test_test_send_explains_when_the_relay_is_down(
    campaigner: User,
    post_form: Any,
    campaign: Campaign,
    db_session: Session,
    smtp_server: SmtpTestServer,
) -> None:
    cache_mp(db_session)
    smtp_server.stop()

    response = send_test(post_form, campaign)

    assert response.status_code == 200
    assert "The test email could not be sent" in flash_text(response)


def test_test_send_of_an_unknown_mp_is_not_found(
    campaigner: User, post_form: Any, campaign: Campaign, smtp_server: SmtpTestServer
) -> None:
    response = send_test(post_form, campaign, mp_id=999)

    assert response.status_code == 404
    assert smtp_server.messages == []


def test_campaign_settings_show_a_hint_under_each_status_when_editing(
    client_request: ClientRequest, campaigner: User, campaign: Campaign
) -> None:
    page = client_request.get(
        "campaigns.edit_campaign",
        campaign_id=campaign.id,
        _expected_title="Settings: Free Tenzin",
    )

    assert page.text("#status-0-hint") == (
        "Only logged-in staff can see it. Use this while you prepare."
    )
    assert page.text("#status-1-hint") == "Anyone can see it and write to their MP."
    assert page.text("#target-0-hint") == (
        "Each supporter writes to the MP for the constituency their postcode is in."
    )
