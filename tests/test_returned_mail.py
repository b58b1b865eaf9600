"""Returned mail end to end: each letter's bounce address, `mp-mailer inbound`'s SMTP receiver
recording bounces and automatic replies on the right letter, and the supporter told once."""

from __future__ import annotations

import smtplib
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer.cli import returned_mail_recorder
from mp_mailer.clients.inbound_mail import ImapError, ImapSettings, poll_mailbox, start_receiver
from mp_mailer.models import (
    DeliveryAttempt,
    EmailKind,
    Letter,
    LetterStatus,
    ReturnedMail,
    ReturnedMailKind,
)
from mp_mailer.services.bounce_addresses import BounceAddresses
from tests.conftest import TEST_SECRET_KEY, Clock
from tests.factories import cache_mp, create_letter
from tests.imap_server import ImapTestServer
from tests.pages import ClientRequest
from tests.returned_mail import returned_mail
from tests.smtp_server import SmtpTestServer, free_port

BOUNCE_ADDRESS = "bounces@campaign.freetibet.example"
ADDRESSES = BounceAddresses(TEST_SECRET_KEY, BOUNCE_ADDRESS)


@pytest.fixture
def app_settings() -> dict[str, Any]:
    return {"bounce_address": BOUNCE_ADDRESS}


@pytest.fixture
def inbound(app: Flask) -> Iterator[tuple[str, int]]:
    """`mp-mailer inbound`'s SMTP receiver, wired as the command wires it, on loopback."""
    port = free_port()
    with app.app_context():
        addresses, record = returned_mail_recorder(app.extensions["mp_mailer.config"])
    controller: Controller = start_receiver(
        "127.0.0.1", port, lambda address: addresses.letter_id_of(address) is not None, record
    )
    yield "127.0.0.1", port
    controller.stop()


def send_back(inbound: tuple[str, int], raw: bytes, to: str) -> None:
    """What a remote mail system does: return the message to the letter's envelope sender."""
    with smtplib.SMTP(*inbound) as smtp:
        smtp.sendmail("", [to], raw)


def sent_letter(db_session: Session, deliver: Callable[[], int], **overrides: Any) -> Letter:
    letter = create_letter(db_session, **overrides)
    deliver()
    db_session.refresh(letter)
    assert letter.status == LetterStatus.SENT
    return letter


def notices(smtp_server: SmtpTestServer) -> list[Any]:
    return [m for m in smtp_server.messages if "did not arrive" in str(m["Subject"])]


def test_worker_sends_a_letter_from_its_own_signed_bounce_address_when_one_is_configured(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Callable[[], int]
) -> None:
    letter = sent_letter(db_session, deliver)

    envelope_sender, _ = smtp_server.envelopes[0]
    assert envelope_sender == ADDRESSES.for_letter(letter.id)
    assert envelope_sender.startswith(f"bounces+{letter.id}-")
    assert envelope_sender.endswith("@campaign.freetibet.example")
    assert smtp_server.messages[0]["From"].addresses[0].addr_spec == "campaigns@freetibet.example"


def test_bounce_addresses_refuse_an_address_when_its_signature_is_forged() -> None:
    genuine = ADDRESSES.for_letter(41)
    forged = genuine.replace("+41-", "+42-")

    assert ADDRESSES.letter_id_of(genuine) == 41
    assert ADDRESSES.letter_id_of(forged) is None
    assert ADDRESSES.letter_id_of(genuine.replace("campaign.", "other.")) is None


@pytest.mark.parametrize("fixture", ["postfix_dsn", "exchange_dsn_nested", "qmail_bounce"])
def test_inbound_marks_the_right_letter_bounced_with_its_reason_when_a_hard_bounce_arrives(
    db_session: Session,
    deliver: Callable[[], int],
    inbound: tuple[str, int],
    fixture: str,
) -> None:
    other = sent_letter(db_session, deliver)
    letter = sent_letter(db_session, deliver)
    address = ADDRESSES.for_letter(letter.id)

    send_back(inbound, returned_mail(fixture, letter, address), address)

    db_session.refresh(letter)
    db_session.refresh(other)
    assert letter.status == LetterStatus.BOUNCED
    assert letter.bounce_reason
    assert letter.events[-1].note.startswith("returned by the MP's mail system: ")
    assert other.status == LetterStatus.SENT


def test_inbound_refuses_returned_mail_when_the_bounce_address_is_forged(
    db_session: Session, deliver: Callable[[], int], inbound: tuple[str, int]
) -> None:
    letter = sent_letter(db_session, deliver)
    forged = ADDRESSES.for_letter(letter.id).replace(f"+{letter.id}-", f"+{letter.id + 1}-")

    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send_back(inbound, returned_mail("postfix_dsn", letter, forged), forged)

    assert refused.value.recipients[forged][0] == 550
    db_session.refresh(letter)
    assert letter.status == LetterStatus.SENT
    assert db_session.scalar(select(func.count()).select_from(ReturnedMail)) == 0


def test_inbound_records_the_letter_acknowledged_when_the_office_sends_an_automatic_receipt(
    db_session: Session, deliver: Callable[[], int], inbound: tuple[str, int]
) -> None:
    letter = sent_letter(db_session, deliver)
    address = ADDRESSES.for_letter(letter.id)

    send_back(inbound, returned_mail("acknowledgement", letter, address), address)

    db_session.refresh(letter)
    assert letter.status == LetterStatus.ACKNOWLEDGED


@pytest.mark.parametrize(
    ("fixture", "kind"),
    [
        ("out_of_office", ReturnedMailKind.OUT_OF_OFFICE),
        ("mailbox_full_dsn", ReturnedMailKind.SOFT_BOUNCE),
    ],
)
def test_inbound_leaves_the_letter_sent_but_noted_when_a_reply_or_soft_bounce_arrives(
    db_session: Session,
    deliver: Callable[[], int],
    inbound: tuple[str, int],
    fixture: str,
    kind: ReturnedMailKind,
) -> None:
    letter = sent_letter(db_session, deliver)
    address = ADDRESSES.for_letter(letter.id)

    send_back(inbound, returned_mail(fixture, letter, address), address)

    db_session.refresh(letter)
    assert letter.status == LetterStatus.SENT
    assert db_session.scalars(select(ReturnedMail.kind)).all() == [kind]
    assert letter.events[-1].from_status == letter.events[-1].to_status == LetterStatus.SENT


def test_inbound_records_a_returned_message_once_when_it_arrives_twice(
    db_session: Session, deliver: Callable[[], int], inbound: tuple[str, int]
) -> None:
    letter = sent_letter(db_session, deliver)
    address = ADDRESSES.for_letter(letter.id)
    raw = returned_mail("mailbox_full_dsn", letter, address)

    send_back(inbound, raw, address)
    send_back(inbound, raw, address)

    assert db_session.scalar(select(func.count()).select_from(ReturnedMail)) == 1


def test_worker_tells_the_supporter_once_with_the_mps_other_contacts_when_a_letter_bounces(
    db_session: Session,
    smtp_server: SmtpTestServer,
    deliver: Callable[[], int],
    inbound: tuple[str, int],
    clock: Clock,
) -> None:
    cache_mp(db_session, postal_address="House of Commons, London SW1A 0AA", phone="020 7219 4426")
    letter = sent_letter(db_session, deliver)
    address = ADDRESSES.for_letter(letter.id)
    send_back(inbound, returned_mail("postfix_dsn", letter, address), address)

    deliver()
    send_back(inbound, returned_mail("qmail_bounce", letter, address), address)
    clock.advance(hours=1)
    deliver()

    [notice] = notices(smtp_server)
    assert notice["To"].addresses[0].addr_spec == letter.supporter_email
    body = notice.get_content()
    assert letter.body.splitlines()[0] in body
    assert "On the web: https://members.parliament.uk/member/172/contact" in body
    assert "By phone: 020 7219 4426" in body
    assert "By post: House of Commons, London SW1A 0AA" in body
    db_session.refresh(letter)
    assert letter.notice_sent_at is not None


def test_worker_tells_the_supporter_once_when_the_relay_refuses_their_letter_for_good(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Callable[[], int], clock: Clock
) -> None:
    letter = create_letter(db_session)
    smtp_server.fail_next(550, "5.1.1 Mailbox unavailable", stage="rcpt")

    deliver()
    clock.advance(hours=2)
    deliver()

    [notice] = notices(smtp_server)
    assert "We tried to send it but could not" in notice.get_content()
    notice_attempts = db_session.scalars(
        select(DeliveryAttempt.kind).where(DeliveryAttempt.letter_id == letter.id)
    ).all()
    assert notice_attempts.count(EmailKind.NOTICE) == 1


def test_worker_retries_the_supporters_notice_when_the_relay_refuses_it_for_now(
    db_session: Session, smtp_server: SmtpTestServer, deliver: Callable[[], int], clock: Clock
) -> None:
    letter = create_letter(db_session)
    smtp_server.fail_next(550, "5.1.1 Mailbox unavailable", stage="rcpt")
    # The letter never reaches DATA; the notice that follows it does, and is refused for now.
    smtp_server.fail_next(451, "4.3.0 Try later", stage="data")
    deliver()
    assert notices(smtp_server) == []

    clock.advance(minutes=5)
    deliver()

    assert len(notices(smtp_server)) == 1
    outcomes = db_session.scalars(
        select(DeliveryAttempt.outcome)
        .where(DeliveryAttempt.letter_id == letter.id, DeliveryAttempt.kind == EmailKind.NOTICE)
        .order_by(DeliveryAttempt.id)
    ).all()
    assert outcomes == ["retry", "sent"]


def test_letter_page_shows_the_bounce_reason_when_a_letter_bounced(
    db_session: Session,
    deliver: Callable[[], int],
    inbound: tuple[str, int],
    client_request: ClientRequest,
    login_as: Any,
) -> None:
    letter = sent_letter(db_session, deliver)
    address = ADDRESSES.for_letter(letter.id)
    send_back(inbound, returned_mail("postfix_dsn", letter, address), address)
    login_as("staff")

    page = client_request.get("send_log.letter_detail", letter_id=letter.id)

    assert "Bounced" in page.text(".tag")
    assert "User unknown in virtual mailbox table" in page.text(".bounce-reason")


def test_figures_page_counts_returned_mail_per_campaign_and_per_mp_when_some_came_back(
    db_session: Session,
    deliver: Callable[[], int],
    inbound: tuple[str, int],
    client_request: ClientRequest,
    login_as: Any,
) -> None:
    bounced = sent_letter(db_session, deliver)
    acknowledged = sent_letter(db_session, deliver, campaign=bounced.campaign)
    for letter, fixture in [(bounced, "postfix_dsn"), (acknowledged, "acknowledgement")]:
        address = ADDRESSES.for_letter(letter.id)
        send_back(inbound, returned_mail(fixture, letter, address), address)
    login_as("staff")

    page = client_request.get("send_log.figures", campaign=bounced.campaign_id)

    totals = page.text(".returned-mail-totals")
    assert "Bounced 1" in totals
    assert "Automatic acknowledgements 1" in totals
    assert "Out-of-office replies 0" in totals
    assert "Ms Diane Abbott 1 0 0 1 0" in page.text(".returned-mail-by-mp")


def test_inbound_imap_poll_marks_the_letter_bounced_and_the_message_seen_when_a_dsn_waits(
    app: Flask, db_session: Session, deliver: Callable[[], int]
) -> None:
    letter = sent_letter(db_session, deliver)
    address = ADDRESSES.for_letter(letter.id)
    with ImapTestServer("bounces", "s3cret") as imap:
        dsn = imap.add(returned_mail("postfix_dsn", letter, address))
        forged = imap.add(returned_mail("postfix_dsn", letter, address.replace("-", "-0")))
        settings = ImapSettings.from_url(f"imap://bounces:s3cret@127.0.0.1:{imap.port}/INBOX")
        with app.app_context():
            _, record = returned_mail_recorder(app.extensions["mp_mailer.config"])

        handled = poll_mailbox(settings, record)

        assert handled == 2
        assert imap.seen == {dsn, forged}
    db_session.refresh(letter)
    assert letter.status == LetterStatus.BOUNCED
    assert db_session.scalar(select(func.count()).select_from(ReturnedMail)) == 1


def test_inbound_imap_poll_raises_imap_error_when_the_login_is_refused() -> None:
    with ImapTestServer("bounces", "s3cret") as imap:
        settings = ImapSettings.from_url(f"imap://bounces:wrong@127.0.0.1:{imap.port}/INBOX")

        with pytest.raises(ImapError):
            poll_mailbox(settings, lambda recipients, raw: True)
