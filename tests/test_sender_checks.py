"""Sender checks on stub DNS answers (never the network), and DKIM signatures on outgoing mail
that verify against the published key."""

from __future__ import annotations

import base64
from collections.abc import Callable
from pathlib import Path
from typing import Any

import dkim
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask
from sqlalchemy.orm import Session

from mp_mailer.clients.dns_records import DnsLookupError
from mp_mailer.services.sender_checks import DkimKey, check_sender
from tests.factories import create_letter
from tests.pages import ClientRequest
from tests.smtp_server import SmtpTestServer

DOMAIN = "freetibet.example"
SPF = "v=spf1 include:_spf.relay.example -all"
DMARC = "v=DMARC1; p=quarantine; rua=mailto:dmarc@freetibet.example"


class StubResolver:
    """TXT answers by name; a name mapped to an exception raises it."""

    def __init__(self, records: dict[str, list[str] | Exception]) -> None:
        self.records = records

    def txt(self, name: str) -> list[str]:
        answer = self.records.get(name, [])
        if isinstance(answer, Exception):
            raise answer
        return answer


def new_key() -> tuple[bytes, str]:
    """A private key (PEM) and its public half as a DKIM record's p= value."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=1024)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private, base64.b64encode(public).decode()


def test_check_sender_says_mail_is_likely_trusted_when_spf_dmarc_and_dkim_match() -> None:
    private, public = new_key()
    resolver = StubResolver(
        {
            DOMAIN: ["google-site-verification=abc", SPF],
            f"_dmarc.{DOMAIN}": [DMARC],
            f"mp2026._domainkey.{DOMAIN}": [f"v=DKIM1; k=rsa; p={public}"],
        }
    )

    report = check_sender(
        resolver, DOMAIN, "smtp.relay.example", DkimKey("mp2026", DOMAIN, private)
    )

    assert [(f.name, f.ok) for f in report.findings] == [
        ("SPF", True),
        ("DMARC", True),
        ("DKIM", True),
    ]
    assert report.findings[0].says == "SPF record found, and it names your relay's domain."
    assert report.likely_trusted


def test_check_sender_names_the_problem_when_spf_and_dmarc_are_missing() -> None:
    report = check_sender(StubResolver({}), DOMAIN, "smtp.relay.example", None)

    assert [(f.name, f.ok) for f in report.findings] == [("SPF", False), ("DMARC", False)]
    assert "publishes no SPF record" in report.findings[0].says
    assert not report.likely_trusted


def test_check_sender_says_the_dkim_key_does_not_match_when_another_key_is_published() -> None:
    private, _ = new_key()
    _, other_public = new_key()
    resolver = StubResolver(
        {
            DOMAIN: [SPF],
            f"_dmarc.{DOMAIN}": [DMARC],
            f"mp2026._domainkey.{DOMAIN}": [f"v=DKIM1; k=rsa; p={other_public}"],
        }
    )

    report = check_sender(
        resolver, DOMAIN, "smtp.relay.example", DkimKey("mp2026", DOMAIN, private)
    )

    assert report.findings[2].ok is False
    assert "does not match DKIM_KEY_FILE" in report.findings[2].says


def test_check_sender_says_the_lookup_failed_when_dns_does_not_answer() -> None:
    resolver = StubResolver({DOMAIN: DnsLookupError("Timeout: no answer")})

    report = check_sender(resolver, DOMAIN, "smtp.relay.example", None)

    assert report.findings[0].ok is False
    assert "DNS lookup of freetibet.example failed" in report.findings[0].says


def test_sender_checks_page_shows_each_finding_when_staff_open_it(
    app: Flask, client_request: ClientRequest, login_as: Any
) -> None:
    app.extensions["mp_mailer.dns_resolver"] = StubResolver({DOMAIN: [SPF]})
    login_as("staff")

    page = client_request.get("send_log.sender_checks")

    assert "may be treated as spam" in page.text(".sender-summary")
    rows = [row.get_text(" ", strip=True) for row in page.soup.select(".sender-finding")]
    assert rows[0].startswith("SPF OK SPF record found")
    assert rows[1].startswith("DMARC Problem")
    # The key file is configured (this module's settings) but nothing is published for it.
    assert rows[2].startswith("DKIM Problem No DKIM key is published at mp2026._domainkey")


@pytest.fixture
def dkim_key(tmp_path: Path) -> tuple[Path, str]:
    private, public = new_key()
    path = tmp_path / "dkim.pem"
    path.write_bytes(private)
    return path, public


@pytest.fixture
def app_settings(dkim_key: tuple[Path, str]) -> dict[str, Any]:
    return {"dkim_selector": "mp2026", "dkim_domain": DOMAIN, "dkim_key_file": str(dkim_key[0])}


def test_worker_signs_each_letter_with_dkim_that_verifies_when_a_key_is_configured(
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Callable[[], int],
    dkim_key: tuple[Path, str],
) -> None:
    create_letter(db_session)
    public = dkim_key[1]

    deliver()

    [raw] = smtp_server.raw_messages
    assert raw.startswith(b"DKIM-Signature: ")

    def published(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mp2026._domainkey.freetibet.example."
        return f"v=DKIM1; k=rsa; p={public}".encode()

    assert dkim.verify(raw, dnsfunc=published)
