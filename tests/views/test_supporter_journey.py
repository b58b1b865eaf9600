"""The whole supporter journey through the web app, to a real SMTP server."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import Letter, LetterStatus
from tests.smtp_server import SmtpTestServer

LETTER_URL = "/c/ban-chen-quanguo/letter"


def supporter_details(**overrides: str) -> dict[str, Any]:
    details = {
        "postcode": "SW1A 1AA",
        "subject": "Please press for sanctions on Chen Quanguo",
        "body": "Dear Ms Abbott,\n\nI am your constituent and I ask you to press the Foreign "
        "Secretary to sanction Chen Quanguo and ban him from the UK.",
        "name": "Jane Doe",
        "email": "jane@example.org",
        "address": "1 Example Road\nLondon",
        "send_copy": "y",
        # The "Send my letter" button: a form submitted by Enter in a text field lacks it.
        "send": "1",
    }
    details.update(overrides)
    return details


def write_letter(post_form: Any, **overrides: str) -> Any:
    details = supporter_details(**overrides)
    return post_form(LETTER_URL, details, page_url=f"{LETTER_URL}?postcode={details['postcode']}")


def confirmation_link(smtp_server: SmtpTestServer) -> str:
    message = smtp_server.messages[-1]
    match = re.search(r"http://localhost(/confirm/\S+)", message.get_content())
    assert match, "no confirmation link in the email"
    return match.group(1)


def confirm(client: FlaskClient, link: str) -> Any:
    from tests.conftest import csrf_token_from

    page = client.get(link)
    return client.post(link, data={"csrf_token": csrf_token_from(page.data)})


def write_and_confirm(
    client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    **overrides: str,
) -> Any:
    """Write a letter, let the worker send the confirmation email, and press its button."""
    write_letter(post_form, **overrides)
    deliver()
    return confirm(client, confirmation_link(smtp_server))


def the_letter(db_session: Session) -> Letter:
    db_session.expire_all()
    return db_session.scalars(select(Letter)).one()


def test_campaign_page_shows_the_campaign_and_asks_for_a_postcode(
    seeded_client: FlaskClient,
) -> None:
    page = seeded_client.get("/")

    html = page.data.decode()
    assert page.status_code == 200
    assert '<h1 class="hero__title">Ban Chen Quanguo</h1>' in html
    assert '<label class="label" for="postcode">Your postcode</label>' in html


def test_postcode_step_redirects_to_the_letter_for_a_normalised_postcode(
    seeded_client: FlaskClient, post_form: Any
) -> None:
    response = post_form("/", {"postcode": " sw1a1aa "})

    assert response.status_code == 302
    assert response.headers["Location"] == "/c/ban-chen-quanguo/letter?postcode=SW1A+1AA"


def test_letter_step_shows_the_mp_and_a_letter_addressed_to_them(
    seeded_client: FlaskClient,
) -> None:
    page = seeded_client.get(f"{LETTER_URL}?postcode=SW1A 1AA")

    html = page.data.decode()
    assert 'class="mp-card__name">Ms Diane Abbott<' in html
    assert "MP for Hackney North and Stoke Newington" in html
    assert "Dear Ms Abbott," in html
    assert "constituent in Hackney North and Stoke Newington" in html


def test_sending_a_letter_stores_it_awaiting_confirmation_before_answering(
    seeded_client: FlaskClient, post_form: Any, db_session: Session
) -> None:
    response = write_letter(post_form)

    assert response.status_code == 302
    assert response.headers["Location"] == "/c/ban-chen-quanguo/check-inbox"
    letter = the_letter(db_session)
    assert letter.status == LetterStatus.AWAITING_CONFIRMATION
    assert (letter.supporter_name, letter.mp_id, letter.mp_email) == (
        "Jane Doe",
        172,
        "diane.abbott.office@parliament.uk",
    )


def test_worker_emails_the_supporter_a_confirmation_link(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    write_letter(post_form)

    deliver()

    assert len(smtp_server.messages) == 1
    message = smtp_server.messages[0]
    assert message["To"] == "jane@example.org"
    assert message["Subject"] == "Confirm your letter to Ms Diane Abbott"
    assert "/confirm/" in message.get_content()


def test_nothing_reaches_the_mp_before_the_supporter_confirms(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    write_letter(post_form)

    deliver()
    deliver()

    assert [m["To"] for m in smtp_server.messages] == ["jane@example.org"]


def test_confirming_queues_the_letter_and_thanks_the_supporter(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_letter(post_form)
    deliver()

    response = confirm(seeded_client, confirmation_link(smtp_server))

    assert response.status_code == 302
    assert response.headers["Location"] == "/c/ban-chen-quanguo/thanks"
    assert the_letter(db_session).status == LetterStatus.QUEUED
    thanks = seeded_client.get(response.headers["Location"]).data.decode()
    assert "Thank you: your letter is on its way" in thanks
    assert "1 letter has been sent to MPs" in thanks


def test_confirmed_letter_reaches_the_mp_with_the_supporter_as_sender(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)

    deliver()

    message = smtp_server.messages[-1]
    assert message["To"] == "Ms Diane Abbott <diane.abbott.office@parliament.uk>"
    assert message["From"] == "Jane Doe via Free Tibet <campaigns@freetibet.example>"
    assert message["Reply-To"] == "Jane Doe <jane@example.org>"
    assert message["Cc"] == "Jane Doe <jane@example.org>"
    assert message["Subject"] == "Please press for sanctions on Chen Quanguo"


def test_delivered_letter_carries_the_stored_message_id(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    db_session: Session,
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)

    deliver()

    letter = the_letter(db_session)
    assert smtp_server.messages[-1]["Message-ID"] == letter.message_id
    assert letter.message_id.endswith("@freetibet.example>")
    assert letter.status == LetterStatus.SENT


def test_delivered_letter_body_is_the_supporters_text_signed_with_their_address(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    write_letter(
        post_form, body="Dear Ms Abbott,\n\nMy own words about Chen Quanguo, naïve café – ✓."
    )
    deliver()
    confirm(seeded_client, confirmation_link(smtp_server))

    deliver()

    body = smtp_server.messages[-1].get_content()
    assert body == (
        "Dear Ms Abbott,\n\nMy own words about Chen Quanguo, naïve café – ✓.\n\n"
        "Yours sincerely,\n\nJane Doe\n1 Example Road\nLondon\nSW1A 1AA\njane@example.org\n"
    )


def test_supporter_without_a_copy_is_not_copied_in(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    details = supporter_details()
    del details["send_copy"]
    post_form(LETTER_URL, details, page_url=f"{LETTER_URL}?postcode=SW1A 1AA")
    deliver()
    confirm(seeded_client, confirmation_link(smtp_server))

    deliver()

    assert smtp_server.messages[-1]["Cc"] is None
    assert smtp_server.envelopes[-1][1] == ["diane.abbott.office@parliament.uk"]


def test_letter_page_of_a_closed_campaign_sends_supporters_to_the_campaign_page(
    seeded_client: FlaskClient, db_session: Session
) -> None:
    from mp_mailer.models import Campaign, CampaignStatus

    campaign = db_session.scalars(select(Campaign)).one()
    campaign.status = CampaignStatus.CLOSED
    db_session.commit()

    page = seeded_client.get(f"{LETTER_URL}?postcode=SW1A 1AA", follow_redirects=True)

    assert "This campaign has closed" in page.data.decode()
    assert b'class="letter-form"' not in page.data
