"""The development SMTP sink saves what it receives as .eml files."""

from __future__ import annotations

import email
import email.policy
import pathlib
import re
import smtplib
from collections.abc import Iterator
from email.message import EmailMessage

import pytest
from aiosmtpd.controller import Controller

from mp_mailer.smtp_sink import start_sink
from tests.smtp_server import free_port


@pytest.fixture
def sink(tmp_path: pathlib.Path) -> Iterator[tuple[Controller, pathlib.Path]]:
    directory = tmp_path / "outbox"
    controller = start_sink("127.0.0.1", free_port(), directory)
    yield controller, directory
    controller.stop()


def test_sink_saves_message_as_eml_with_envelope_recipients_when_message_arrives(
    sink: tuple[Controller, pathlib.Path],
) -> None:
    controller, directory = sink
    message = EmailMessage()
    message["From"] = "Zoë <campaign@example.org>"
    message["To"] = "mp@parliament.example"
    message["Subject"] = "Please act"
    message.set_content("Dear MP, café.\n")

    with smtplib.SMTP(controller.hostname, controller.port, local_hostname="localhost") as client:
        client.send_message(message, to_addrs=["mp@parliament.example", "archive@example.org"])

    [saved] = directory.iterdir()
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{8}\.eml", saved.name)
    parsed = email.message_from_bytes(saved.read_bytes(), policy=email.policy.default)
    assert parsed["X-Envelope-From"] == "<campaign@example.org>"
    assert parsed["X-Envelope-To"] == "<mp@parliament.example>, <archive@example.org>"
    assert parsed["Subject"] == "Please act"
    assert "café" in parsed.get_content()
