"""Relay settings for a test server and a plain letter to send, for the SMTP client tests."""

from __future__ import annotations

from email.message import EmailMessage

from mp_mailer.clients.smtp_relay import SmtpSettings
from tests.smtp_server import SmtpTestServer


def settings_for(server: SmtpTestServer, **overrides: object) -> SmtpSettings:
    values: dict[str, object] = {
        "host": server.host,
        "port": server.port,
        "security": "none",
        "timeout": 2.0,
        "local_hostname": "localhost",
    }
    values.update(overrides)
    return SmtpSettings(**values)  # type: ignore[arg-type]


def make_letter(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Campaign <campaign@example.org>"
    message["To"] = "MP <mp@parliament.example>"
    message["Subject"] = "Please act"
    message["Message-ID"] = "<letter-1@mp-mailer.example>"
    for name, value in headers.items():
        del message[name.replace("_", "-")]
        message[name.replace("_", "-")] = value
    message.set_content("Dear MP,\n\nPlease act.\n")
    return message
