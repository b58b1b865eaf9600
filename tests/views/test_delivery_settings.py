"""Settings that change where and when a letter goes: MAIL_REDIRECT_TO and REQUIRE_CONFIRMATION."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.journeys import write_and_confirm, write_letter
from tests.pages import path_for
from tests.smtp_server import SmtpTestServer


@pytest.mark.parametrize("app_settings", [{"mail_redirect_to": "staging@freetibet.example"}])
def test_redirected_letter_goes_to_the_staging_address_and_says_so_first(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    write_and_confirm(seeded_client, post_form, smtp_server, deliver)

    deliver()

    message = smtp_server.messages[-1]
    assert message["To"] == "staging@freetibet.example"
    assert "diane.abbott.office@parliament.uk" not in smtp_server.envelopes[-1][1]
    assert message.get_content().splitlines()[0] == (
        "[Test copy: on a live site this letter goes to Ms Diane Abbott "
        "<diane.abbott.office@parliament.uk>, not to this address.]"
    )


@pytest.mark.parametrize("app_settings", [{"require_confirmation": False}])
def test_letter_is_queued_at_once_when_confirmation_is_off(
    seeded_client: FlaskClient, post_form: Any, smtp_server: SmtpTestServer, deliver: Any
) -> None:
    response = write_letter(post_form)

    deliver()

    assert response.headers["Location"] == path_for("supporter.thank_you", slug="ban-chen-quanguo")
    assert [m["To"] for m in smtp_server.messages] == [
        "Ms Diane Abbott <diane.abbott.office@parliament.uk>"
    ]
