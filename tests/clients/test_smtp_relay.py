"""SmtpRelay against a real aiosmtpd server on loopback."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from email.headerregistry import Address
from email.message import EmailMessage

import pytest

from mp_mailer.clients.message_check import check_serialised
from mp_mailer.clients.smtp_relay import SmtpRelay, SmtpSettings
from mp_mailer.clients.smtp_replies import (
    SmtpAuthenticationError,
    SmtpMessageRefused,
    SmtpPermanentError,
    SmtpReply,
    SmtpTemporaryError,
)
from tests.clients.relay_support import make_letter, settings_for
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


# The last line of defence: the serialised message is checked before anything is sent.

INJECTED_SUBJECT = "=?utf-8?q?Please_act=0D=0AContent-Type:_text/html=0D=0A=0D=0A<h1>Hi</h1>?="


def test_send_refuses_a_message_whose_subject_decodes_into_new_header_lines(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    letter = make_letter(Subject=INJECTED_SUBJECT)

    with pytest.raises(SmtpMessageRefused) as refused:
        relay.send(letter)

    assert "header" in refused.value.reason
    assert server.messages == []
    assert server.envelopes == []


def test_send_refuses_a_message_whose_display_name_decodes_into_a_bcc_line(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    letter = make_letter()
    del letter["From"]
    letter["From"] = Address(
        "=?utf-8?b?SmFuZQ0KQmNjOiB2aWN0aW1AZXhhbXBsZS5uZXQ=?= via Org", addr_spec="a@example.org"
    )

    with pytest.raises(SmtpMessageRefused):
        relay.send(letter)

    assert server.messages == []


def test_send_refuses_a_message_when_a_header_value_decodes_to_a_unicode_line_break(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    letter = make_letter(Subject="=?utf-8?q?Please=E2=80=A8act?=")

    with pytest.raises(SmtpMessageRefused) as refused:
        relay.send(letter)

    assert refused.value.reason == "the Subject header's value has a line break in it"
    assert server.messages == []


def test_send_refuses_a_message_when_a_long_display_name_would_read_back_as_two_addresses(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    letter = make_letter()
    del letter["From"]
    # Quoted when set; folded past 998 characters, CPython writes it out without its quotes.
    letter["From"] = Address("Doe, Jane" + " Elizabeth" * 110, addr_spec="a@example.org")

    with pytest.raises(SmtpMessageRefused) as refused:
        relay.send(letter)

    assert refused.value.reason == "the From header reads back differently from what was set"
    assert server.messages == []


def test_send_keeps_the_quotes_of_a_display_name_with_a_comma_when_it_is_long(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    name = "Doe, Jane Elizabeth Margaret Alexandra via The Free Tibet Campaign Organisation"
    letter = make_letter()
    del letter["From"]
    letter["From"] = Address(name, addr_spec="a@example.org")

    relay.send(letter)

    [received] = server.wait_for_messages(1)
    assert [(a.display_name, a.addr_spec) for a in received["From"].addresses] == [
        (name, "a@example.org")
    ]


def test_refused_message_is_a_permanent_error_and_the_connection_carries_the_next(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    with pytest.raises(SmtpPermanentError):
        relay.send(make_letter(Subject=INJECTED_SUBJECT))

    relay.send(make_letter())

    assert [m["Subject"] for m in server.wait_for_messages(1)] == ["Please act"]


HEAD = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: Hi\r\n"


def plain_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "a@example.org"
    message["To"] = "b@example.org"
    message["Subject"] = "Hi"
    return message


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (HEAD + b"Hello\r\n", "no blank line separates the headers from the body"),
        (HEAD + b"Subject: Hi\r\n\r\nHello\r\n", "header set more than once: subject"),
        (
            HEAD + b"Bcc: c@example.org\r\n\r\nHello\r\n",
            "headers are not the ones set: unexpected bcc; missing none",
        ),
        (HEAD.replace(b"Subject: Hi\r\n", b"") + b"\r\nHello\r\n", "missing subject"),
        (HEAD + b"X-Note: a\nb\r\n\r\nHello\r\n", "header line 4 has a control character"),
        (HEAD + b"X-Note: a\rb\r\n\r\nHello\r\n", "header line 4 has a control character"),
        (HEAD + b"X-Note: a\x00b\r\n\r\nHello\r\n", "header line 4 has a control character"),
        (HEAD + b" \r\n\r\nHello\r\n", "header line 4 continues nothing"),
        (b" folded\r\n" + HEAD + b"\r\nHello\r\n", "header line 1 continues nothing"),
        (HEAD + b"not a header\r\n\r\nHello\r\n", "header line 4 is not a header"),
        (HEAD + b"Subject: " + b"x" * 990 + b"\r\n\r\n", "header line 4 is longer than 998"),
        (HEAD + b"\r\nHello\nBcc: c@example.org\r\n", "the body has a bare CR, LF or NUL"),
        (HEAD + b"\r\nHello\rthere\r\n", "the body has a bare CR, LF or NUL"),
        (HEAD + b"\r\nHello\x00\r\n", "the body has a bare CR, LF or NUL"),
        (HEAD.replace(b"Hi", b"Bye") + b"\r\nHello\r\n", "Subject header reads back differently"),
    ],
    ids=[
        "no blank line",
        "a header twice",
        "a header not set",
        "a header missing",
        "bare LF in a header",
        "bare CR in a header",
        "NUL in a header",
        "a whitespace-only line",
        "a continuation first",
        "a line that is not a header",
        "a line over 998 octets",
        "bare LF in the body",
        "bare CR in the body",
        "NUL in the body",
        "a value changed",
    ],
)
def test_check_serialised_refuses_bytes_that_are_not_the_message_built(
    content: bytes, reason: str
) -> None:
    with pytest.raises(SmtpMessageRefused) as refused:
        check_serialised(content, plain_message())

    assert reason in refused.value.reason


def test_check_serialised_accepts_the_message_it_was_built_from() -> None:
    check_serialised(HEAD + b"\r\nHello\r\n", plain_message())


def test_send_raises_permanent_error_when_relay_lacks_smtputf8_for_a_non_ascii_reply_to() -> None:
    letter = make_letter()
    letter["Reply-To"] = Address("José", "josé", "example.com")

    with (
        SmtpTestServer(smtputf8=False) as server,
        SmtpRelay(settings_for(server)) as relay,
        pytest.raises(SmtpPermanentError) as refused,
    ):
        relay.send(letter)

    assert "does not offer SMTPUTF8" in str(refused.value)
    assert server.messages == []


def test_send_uses_smtputf8_when_only_the_reply_to_address_is_not_ascii(
    server: SmtpTestServer, relay: SmtpRelay
) -> None:
    letter = make_letter()
    letter["Reply-To"] = Address("Zoë", "zoë", "example.org")

    relay.send(letter)

    [received] = server.wait_for_messages(1)
    assert received["Reply-To"].addresses[0].addr_spec == "zoë@example.org"
    assert "SMTPUTF8" in server.mail_options[-1]
