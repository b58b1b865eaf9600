"""What a supporter does, step by step, for tests that need a letter written or confirmed first."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import Letter
from tests.pages import path_for, post_with_token
from tests.smtp_server import SmtpTestServer

CAMPAIGN_SLUG = "ban-chen-quanguo"
LETTER_URL = path_for("supporter.write_letter", slug=CAMPAIGN_SLUG)


def letter_page_path(postcode: str) -> str:
    """The letter page of the Ban Chen Quanguo campaign, for a postcode as typed."""
    return path_for("supporter.write_letter", slug=CAMPAIGN_SLUG, postcode=postcode)


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
    """Post the letter form of the Ban Chen Quanguo campaign, from the page for the postcode."""
    details = supporter_details(**overrides)
    return post_form(LETTER_URL, details, page_url=letter_page_path(details["postcode"]))


def confirmation_link(smtp_server: SmtpTestServer) -> str:
    message = smtp_server.messages[-1]
    match = re.search(r"http://localhost(/confirm/\S+)", message.get_content())
    assert match, "no confirmation link in the email"
    return match.group(1)


def confirm(client: FlaskClient, link: str) -> Any:
    return post_with_token(client, link, {})


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
