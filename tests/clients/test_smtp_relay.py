"""SmtpRelay against a real aiosmtpd server on loopback."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from email.headerregistry import Address
from email.message import EmailMessage

import pytest

from mp_mailer.clients.smtp_relay import (
    SmtpAuthenticationError,
    SmtpPermanentError,
    SmtpRelay,
    SmtpReply,
    SmtpSettings,
    SmtpTemporaryError,
)
from tests.smtp_server import SmtpTestServer, free_port, make_self_signed_tls

CREDENTIALS = ("mailer", "s3cret")


@pytest.fixture(scope="module")
def tls_contexts(tmp_path_factory: pytest.TempPathFactory) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    return make_self_signed_tls(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as smtp_server:
        yield smtp_server


@pytest.fixture
def relay(server: SmtpTestServer) -> Iterator[SmtpRelay]:
    with SmtpRelay(settings_for(server)) as smtp_relay:
        yield smtp_relay


@pytest.fixture
def relay_that_never_answers() -> Iterator[int]:
    """A listening port that accepts connections but never sends a greeting."""
    with socket.create_server(("127.0.0.1", 0)) as listener:
        yield int(listener.getsockname()[1])


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


def test_send_returns_data_reply_when_relay_accepts(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    reply = relay.send(make_letter())

    assert reply == SmtpReply(250, "2.0.0 OK queued as test-1")
    [received] = server.wait_for_messages(1)
    assert received["Subject"] == "Please act"
    assert server.envelopes == [("campaign@example.org", ["mp@parliament.example"])]


def test_send_reuses_one_connection_when_sending_several_messages(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    for _ in range(3):
        relay.send(make_letter())

    assert len(server.wait_for_messages(3)) == 3
    assert server.connection_count == 1


def test_send_uses_sender_header_for_envelope_when_present(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    relay.send(make_letter(Sender="bounces@mp-mailer.example"))

    assert server.envelopes[0][0] == "bounces@mp-mailer.example"


def test_send_raises_temporary_error_when_connection_refused() -> None:
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), security="none", timeout=2.0)

    with SmtpRelay(settings) as relay, pytest.raises(SmtpTemporaryError) as caught:
        relay.send(make_letter())

    assert caught.value.code is None
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_send_raises_temporary_error_with_reply_when_data_gets_451(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    server.fail_next(451, "4.3.0 Try again later", stage="data")

    with pytest.raises(SmtpTemporaryError) as caught:
        relay.send(make_letter())

    assert (caught.value.code, caught.value.reply) == (451, "4.3.0 Try again later")
    assert server.messages == []


def test_send_raises_permanent_error_with_reply_when_rcpt_gets_550(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    server.fail_next(550, "5.1.1 No such mailbox", stage="rcpt")

    with pytest.raises(SmtpPermanentError) as caught:
        relay.send(make_letter())

    assert (caught.value.code, caught.value.reply) == (550, "5.1.1 No such mailbox")


def test_send_delivers_nothing_when_one_of_several_recipients_is_refused(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    server.fail_next(550, "5.1.1 No such mailbox", stage="rcpt")

    with pytest.raises(SmtpPermanentError):
        relay.send(make_letter(Cc="supporter@example.com"))

    assert server.messages == []


def test_send_keeps_connection_usable_when_previous_message_was_refused(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    server.fail_next(550, "5.1.1 No such mailbox", stage="rcpt")
    with pytest.raises(SmtpPermanentError):
        relay.send(make_letter())

    relay.send(make_letter())

    assert len(server.wait_for_messages(1)) == 1
    assert server.connection_count == 1


def test_send_reconnects_when_relay_restarted_between_messages(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    relay.send(make_letter())
    server.restart()

    reply = relay.send(make_letter())

    assert reply.code == 250
    assert len(server.wait_for_messages(2)) == 2
    assert server.connection_count == 2


def test_send_raises_temporary_error_when_relay_is_down_after_a_send(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    relay.send(make_letter())
    server.stop()

    with pytest.raises(SmtpTemporaryError):
        relay.send(make_letter())


def test_send_authenticates_over_starttls_when_configured(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = tls_contexts
    with SmtpTestServer(
        tls_context_for_starttls=server_context, auth_credentials=CREDENTIALS
    ) as server:
        settings = settings_for(
            server, security="starttls", username=CREDENTIALS[0], password=CREDENTIALS[1]
        )
        with SmtpRelay(settings, ssl_context=client_context) as relay:
            reply = relay.send(make_letter())

        assert reply.code == 250
        assert len(server.wait_for_messages(1)) == 1


def test_send_delivers_over_implicit_tls_when_security_is_ssl(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = tls_contexts
    with SmtpTestServer(
        ssl_context_for_implicit_tls=server_context, auth_credentials=CREDENTIALS
    ) as server:
        settings = settings_for(
            server, security="ssl", username=CREDENTIALS[0], password=CREDENTIALS[1]
        )
        with SmtpRelay(settings, ssl_context=client_context) as relay:
            reply = relay.send(make_letter())

        assert reply.code == 250
        assert len(server.wait_for_messages(1)) == 1


def test_send_raises_temporary_error_when_relay_certificate_is_untrusted(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, _ = tls_contexts
    with SmtpTestServer(tls_context_for_starttls=server_context) as server:
        with (
            SmtpRelay(settings_for(server, security="starttls")) as relay,
            pytest.raises(SmtpTemporaryError) as caught,
        ):
            relay.send(make_letter())

        assert isinstance(caught.value.__cause__, ssl.SSLCertVerificationError)
        assert server.messages == []


def test_send_raises_authentication_error_when_password_is_wrong(
    tls_contexts: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_context, client_context = tls_contexts
    with SmtpTestServer(
        tls_context_for_starttls=server_context, auth_credentials=CREDENTIALS
    ) as server:
        settings = settings_for(
            server, security="starttls", username=CREDENTIALS[0], password="wrong"
        )
        with (
            SmtpRelay(settings, ssl_context=client_context) as relay,
            pytest.raises(SmtpPermanentError) as caught,
        ):
            relay.send(make_letter())

    assert isinstance(caught.value, SmtpAuthenticationError)
    assert caught.value.code == 535


def test_send_delivers_to_bcc_without_transmitting_bcc_header_when_message_has_bcc(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    letter = make_letter(Bcc="archive@mp-mailer.example")

    relay.send(letter)

    assert server.envelopes[0][1] == ["mp@parliament.example", "archive@mp-mailer.example"]
    assert b"archive@mp-mailer.example" not in server.raw_messages[0]
    assert letter["Bcc"] == "archive@mp-mailer.example"


def test_send_keeps_utf8_body_and_display_name_intact_when_text_is_not_ascii(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    letter = make_letter()
    del letter["From"]
    letter["From"] = Address("Zoë Ñúñez-Łukasz", addr_spec="zoe@example.com")
    letter.set_content("Dear Siân,\n\nThe café’s closure affects 10 000 people — please act.\n")

    relay.send(letter)

    [received] = server.wait_for_messages(1)
    assert received["From"].addresses[0].display_name == "Zoë Ñúñez-Łukasz"
    assert received.get_content() == (
        "Dear Siân,\n\nThe café’s closure affects 10 000 people — please act.\n"
    )


def test_send_raises_value_error_when_message_has_no_recipient(relay: SmtpRelay) -> None:
    letter = make_letter()
    del letter["To"]

    with pytest.raises(ValueError, match="no To, Cc or Bcc"):
        relay.send(letter)


def test_settings_rejects_security_mode_when_unknown() -> None:
    with pytest.raises(ValueError, match="security"):
        SmtpSettings(host="relay.example", port=25, security="tls")


def test_settings_repr_hides_password_when_password_is_set() -> None:
    settings = SmtpSettings(
        host="relay.example", port=587, security="starttls", username="u", password="hunter2"
    )

    assert "hunter2" not in repr(settings)


def test_send_reconnects_when_relay_replies_421_to_mail_on_reused_connection(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    relay.send(make_letter())
    server.fail_next(421, "4.4.2 Idle timeout, closing connection", stage="mail")

    reply = relay.send(make_letter())

    assert reply.code == 250
    assert server.connection_count == 2


def test_send_uses_smtputf8_when_recipient_address_is_not_ascii(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    relay.send(make_letter(To="Siân <siân@senedd.example>"))

    [received] = server.wait_for_messages(1)
    assert server.envelopes[0][1] == ["siân@senedd.example"]
    assert received["To"].addresses[0].addr_spec == "siân@senedd.example"


def test_send_raises_temporary_error_when_relay_times_out(relay_that_never_answers: int) -> None:
    settings = SmtpSettings(
        host="127.0.0.1", port=relay_that_never_answers, security="none", timeout=0.2
    )

    with SmtpRelay(settings) as relay, pytest.raises(SmtpTemporaryError) as caught:
        relay.send(make_letter())

    assert caught.value.code is None
