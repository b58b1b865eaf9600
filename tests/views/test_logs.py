"""No supporter's details in the logs at INFO: ids only, whatever happens to the letter."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from flask.testing import FlaskClient

from tests.journeys import write_and_confirm, write_letter
from tests.smtp_server import SmtpTestServer


def test_logs_name_no_supporter_details_when_a_letter_is_written_confirmed_and_sent(
    seeded_client: FlaskClient,
    post_form: Any,
    smtp_server: SmtpTestServer,
    deliver: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)

    write_and_confirm(
        seeded_client, post_form, smtp_server, deliver, name="Zebedee Quux", email="zq@example.org"
    )
    deliver()
    write_letter(post_form, name="Zebedee Quux", email="zq@example.org")

    # The test's own SMTP server (aiosmtpd's mail.log, quietened in every entry point) aside.
    ours = [record for record in caplog.records if not record.name.startswith("mail.")]
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in ours)
    assert any(record.name.startswith("mp_mailer") for record in ours)
    for detail in ("Zebedee", "zq@example.org", "1 Example Road", "SW1A 1AA", "press the Foreign"):
        assert detail not in logged
