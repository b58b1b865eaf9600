"""Returned mail from several mail systems, classified as hard, soft, or automatic replies."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from mp_mailer.models import ReturnedMailKind
from mp_mailer.services.bounce_parsing import parse_returned_mail
from tests.factories import create_letter
from tests.returned_mail import returned_mail

BOUNCE_ADDRESS = "bounces+1-0123456789abcdef@freetibet.example"


@pytest.mark.parametrize(
    ("fixture", "kind", "reason_part"),
    [
        ("postfix_dsn", ReturnedMailKind.HARD_BOUNCE, "5.1.1 550 5.1.1"),
        ("exchange_dsn_nested", ReturnedMailKind.HARD_BOUNCE, "RecipientNotFound"),
        ("qmail_bounce", ReturnedMailKind.HARD_BOUNCE, "no mailbox here by that name"),
        ("mailbox_full_dsn", ReturnedMailKind.SOFT_BOUNCE, "4.2.2 452 4.2.2 Mailbox full"),
        ("out_of_office", ReturnedMailKind.OUT_OF_OFFICE, "Automatic reply"),
        ("acknowledgement", ReturnedMailKind.ACKNOWLEDGEMENT, "RE: Please sanction"),
    ],
)
def test_parse_returned_mail_tells_its_kind_and_reason_when_given_a_real_format(
    db_session: Session, fixture: str, kind: ReturnedMailKind, reason_part: str
) -> None:
    letter = create_letter(db_session)

    parsed = parse_returned_mail(returned_mail(fixture, letter, BOUNCE_ADDRESS))

    assert parsed.kind == kind
    assert reason_part in parsed.reason


def test_parse_returned_mail_names_the_failed_recipient_when_a_dsn_reports_one(
    db_session: Session,
) -> None:
    letter = create_letter(db_session)

    parsed = parse_returned_mail(returned_mail("postfix_dsn", letter, BOUNCE_ADDRESS))

    assert parsed.failed_recipients == (letter.mp_email,)
    assert parsed.message_id == "<20261202101502.4Q1x2y3z4w@relay.freetibet.example>"


def test_parse_returned_mail_reads_the_report_not_the_nested_original_when_it_is_attached(
    db_session: Session,
) -> None:
    # The nested letter says "Thank you for your email" and "Auto-Submitted: no".
    letter = create_letter(db_session)

    parsed = parse_returned_mail(returned_mail("exchange_dsn_nested", letter, BOUNCE_ADDRESS))

    assert parsed.kind == ReturnedMailKind.HARD_BOUNCE
    assert parsed.failed_recipients == (letter.mp_email,)


def test_parse_returned_mail_is_unrecognised_when_it_is_an_ordinary_reply() -> None:
    raw = (
        b"From: Someone <someone@example.org>\r\nTo: bounces@freetibet.example\r\n"
        b"Subject: Your letter\r\nMessage-ID: <x@example.org>\r\n\r\nI disagree.\r\n"
    )

    assert parse_returned_mail(raw).kind == ReturnedMailKind.UNRECOGNISED
