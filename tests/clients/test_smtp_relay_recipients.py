"""SmtpRelay's envelope: recipients given by the caller, optional ones, an unavailable relay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mp_mailer.clients.smtp_relay import (
    SmtpPermanentError,
    SmtpRefusal,
    SmtpRelay,
    SmtpRelayUnavailable,
    SmtpTemporaryError,
)
from tests.clients.test_smtp_relay import make_letter, settings_for
from tests.smtp_server import SmtpTestServer, free_port

MP = "mp@parliament.example"
SUPPORTER = "jane@example.org"


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as smtp_server:
        yield smtp_server


@pytest.fixture
def relay(server: SmtpTestServer) -> Iterator[SmtpRelay]:
    with SmtpRelay(settings_for(server)) as smtp_relay:
        yield smtp_relay


def test_send_uses_the_given_envelope_recipients_instead_of_the_headers(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    relay.send(make_letter(Cc=SUPPORTER), [SUPPORTER])

    assert server.envelopes == [("campaign@example.org", [SUPPORTER])]
    assert server.messages[0]["To"] == f"MP <{MP}>"


def test_send_delivers_to_the_others_when_an_optional_recipient_is_refused(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    server.refuse_recipient(SUPPORTER, 550, "5.1.1 No such user")

    reply = relay.send(make_letter(), [MP, SUPPORTER], optional_recipients=[SUPPORTER])

    assert reply.code == 250
    assert reply.refused == {SUPPORTER: SmtpRefusal(550, "5.1.1 No such user")}
    assert server.envelopes == [("campaign@example.org", [MP])]


def test_send_delivers_to_nobody_when_a_required_recipient_is_refused(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    server.refuse_recipient(MP, 451, "4.2.1 Try later")

    with pytest.raises(SmtpTemporaryError) as refused:
        relay.send(make_letter(), [MP, SUPPORTER], optional_recipients=[SUPPORTER])

    assert refused.value.code == 451
    assert server.messages == []


def test_send_fails_when_every_recipient_is_optional_and_refused(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    server.refuse_recipient(SUPPORTER, 550, "5.1.1 No such user")

    with pytest.raises(SmtpPermanentError) as refused:
        relay.send(make_letter(), [SUPPORTER], optional_recipients=[SUPPORTER])

    assert (refused.value.code, refused.value.reply) == (550, "5.1.1 No such user")
    assert server.messages == []


def test_send_says_the_relay_is_unavailable_when_nothing_listens() -> None:
    relay = SmtpRelay(settings_for(SmtpTestServer(), port=free_port()))

    with pytest.raises(SmtpRelayUnavailable) as unavailable:
        relay.send(make_letter())

    assert unavailable.value.code is None
    assert "ConnectionRefusedError" in str(unavailable.value)
