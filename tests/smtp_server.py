"""A real SMTP server on loopback (aiosmtpd) that records what it receives, for tests."""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import pathlib
import socket
import ssl
import threading
from collections.abc import Awaitable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

STAGES = ("mail", "rcpt", "data")


@dataclass
class _Failure:
    code: int
    text: str
    remaining: int


class _Handler:
    """aiosmtpd hooks: scripted failures, required AUTH, and recording of accepted messages."""

    def __init__(self, server: SmtpTestServer) -> None:
        self._server = server

    async def handle_MAIL(
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # Enforced here rather than with aiosmtpd's auth_required, which cannot be combined with
        # implicit TLS without a "Requiring AUTH while not requiring TLS" warning.
        if self._server.auth_credentials is not None and not session.authenticated:
            return "530 5.7.0 Authentication required"
        if self._server.delay_seconds:
            # A slow relay: the wait is before anything is accepted, so a client that gives up
            # or a server that goes down meanwhile leaves nothing half-delivered.
            await asyncio.sleep(self._server.delay_seconds)
        failure = self._server._take_failure("mail")
        if failure is not None:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        smtp: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        failure = self._server._take_failure("rcpt", address)
        if failure is not None:
            return failure
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, smtp: SMTP, session: Session, envelope: Envelope) -> str:
        failure = self._server._take_failure("data")
        if failure is not None:
            return failure
        self._server._record(envelope)
        return f"250 2.0.0 OK queued as test-{len(self._server.messages)}"


class _Controller(Controller):
    """A Controller serving on a socket bound by the caller (port 0 works); counts sessions."""

    def __init__(self, handler: _Handler, listener: socket.socket, **kwargs: Any) -> None:
        host, port = listener.getsockname()[:2]
        super().__init__(handler, hostname=host, port=port, **kwargs)
        self._listener = listener
        self.sessions: list[SMTP] = []

    def _create_server(self) -> Awaitable[Any]:
        return self.loop.create_server(
            self._factory_invoker, sock=self._listener, ssl=self.ssl_context
        )

    def factory(self) -> SMTP:
        smtp: SMTP = super().factory()  # type: ignore[no-untyped-call]
        self.sessions.append(smtp)
        return smtp

    def close_sessions(self) -> None:
        """Drop every client connection, as a relay going down would."""
        done = threading.Event()

        def close_all() -> None:
            for smtp in self.sessions:
                if smtp.transport is not None:
                    smtp.transport.close()
            done.set()

        self.loop.call_soon_threadsafe(close_all)
        done.wait(5)


class SmtpTestServer:
    """An SMTP server on 127.0.0.1 recording every accepted message, with scripted failures.

    Use as a context manager or call start()/stop(). The port is chosen at the first start() and
    kept by restart(), so a client configured once sees the relay go down and come back.
    """

    host = "127.0.0.1"

    def __init__(
        self,
        *,
        tls_context_for_starttls: ssl.SSLContext | None = None,
        ssl_context_for_implicit_tls: ssl.SSLContext | None = None,
        auth_credentials: tuple[str, str] | None = None,
        smtputf8: bool = True,
    ) -> None:
        if tls_context_for_starttls is not None and ssl_context_for_implicit_tls is not None:
            raise ValueError("choose STARTTLS or implicit TLS, not both")
        self.tls_context_for_starttls = tls_context_for_starttls
        self.ssl_context_for_implicit_tls = ssl_context_for_implicit_tls
        self.auth_credentials = auth_credentials
        self.smtputf8 = smtputf8
        self.port = 0
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.raw_messages: list[bytes] = []
        self.mail_options: list[list[str]] = []
        self._connections_before_current_run = 0
        self._failures: dict[str, list[_Failure]] = {stage: [] for stage in STAGES}
        self._recipient_failures: dict[str, _Failure] = {}
        self.delay_seconds = 0.0
        self._lock = threading.Condition()
        self._controller: _Controller | None = None

    def __enter__(self) -> SmtpTestServer:
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def connection_count(self) -> int:
        """Client connections accepted since the first start, not counting aiosmtpd's probe."""
        current = len(self._controller.sessions) - 1 if self._controller is not None else 0
        return self._connections_before_current_run + current

    @property
    def running(self) -> bool:
        return self._controller is not None

    def start(self) -> None:
        if self._controller is not None:
            raise RuntimeError("SMTP test server already running")
        # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on sockets whose proto says TCP,
        # and without it every multi-line reply stalls ~40 ms on Nagle + delayed ACK.
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            listener.bind((self.host, self.port))
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        auth_kwargs: dict[str, Any] = {}
        if self.auth_credentials is not None:
            auth_kwargs = {
                "authenticator": self._authenticate,
                # aiosmtpd only counts STARTTLS as TLS, so AUTH over implicit TLS needs this off.
                "auth_require_tls": self.ssl_context_for_implicit_tls is None,
            }
        controller = _Controller(
            _Handler(self),
            listener,
            ssl_context=self.ssl_context_for_implicit_tls,
            tls_context=self.tls_context_for_starttls,
            server_hostname="localhost",
            enable_SMTPUTF8=self.smtputf8,
            **auth_kwargs,
        )
        try:
            controller.start()
        except BaseException:
            listener.close()
            raise
        self._controller = controller

    def stop(self) -> None:
        """Take the relay down: open connections are dropped and the port refuses connections."""
        controller, self._controller = self._controller, None
        if controller is None:
            return
        self._connections_before_current_run += len(controller.sessions) - 1
        controller.close_sessions()
        controller.stop()

    def restart(self) -> None:
        """Bring the relay back on the same port."""
        self.stop()
        self.start()

    def fail_next(self, code: int, text: str, times: int = 1, stage: str = "data") -> None:
        """Reply `code text` to the next `times` commands at `stage` ("mail", "rcpt" or "data").

        At "rcpt" each RCPT command counts once; at "data" the reply comes after the content.
        """
        if stage not in STAGES:
            raise ValueError(f"stage must be one of {STAGES}, not {stage!r}")
        with self._lock:
            self._failures[stage].append(_Failure(code, text, times))

    def refuse_recipient(self, address: str, code: int, text: str, times: int = 1) -> None:
        """Reply `code text` to the next `times` RCPT commands for `address` (others go through)."""
        with self._lock:
            self._recipient_failures[address.lower()] = _Failure(code, text, times)

    def wait_for_messages(self, count: int, timeout: float = 5.0) -> list[EmailMessage]:
        """Return the received messages once there are at least `count`, or fail the test."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(
                    f"expected {count} message(s) within {timeout}s, got {len(self.messages)}"
                )
            return list(self.messages)

    def _take_failure(self, stage: str, recipient: str | None = None) -> str | None:
        with self._lock:
            if recipient is not None:
                failure = self._recipient_failures.get(recipient.strip("<>").lower())
                if failure is not None and failure.remaining > 0:
                    failure.remaining -= 1
                    return f"{failure.code} {failure.text}"
            queue = self._failures[stage]
            if not queue:
                return None
            failure = queue[0]
            failure.remaining -= 1
            if failure.remaining <= 0:
                queue.pop(0)
            return f"{failure.code} {failure.text}"

    def _record(self, envelope: Envelope) -> None:
        assert envelope.mail_from is not None and envelope.original_content is not None
        raw = bytes(envelope.original_content)
        message = _parse(raw)
        with self._lock:
            self.raw_messages.append(raw)
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.mail_options.append(list(envelope.mail_options))
            self._lock.notify_all()

    def _authenticate(
        self, smtp: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert self.auth_credentials is not None
        username, password = self.auth_credentials
        expected = LoginPassword(username.encode(), password.encode())
        # handled=False makes aiosmtpd send the standard 535 reply itself.
        return AuthResult(success=auth_data == expected, handled=False)


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago, for servers that cannot bind port 0 themselves."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def _parse(raw: bytes) -> EmailMessage:
    """Parse wire bytes as a mailbox would store them, with LF line endings.

    So get_content() equals the text a test passed to set_content(). Headers holding raw UTF-8
    (SMTPUTF8, RFC 6532) are re-decoded: the bytes parser would leave surrogates in addresses.
    """
    message = email.message_from_bytes(raw.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    headers = list(message.raw_items())
    if any(_has_surrogates(value) for _, value in headers):
        for name in {name for name, _ in headers}:
            del message[name]
        for name, value in headers:
            if _has_surrogates(value):
                value = value.encode("ascii", "surrogateescape").decode("utf-8", "replace")
            message[name] = "".join(value.splitlines())
    return message


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= char <= "\udcff" for char in value)


def make_self_signed_tls(directory: pathlib.Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """Write a self-signed certificate for localhost/127.0.0.1 into `directory`.

    Returns (server context, client context trusting only that certificate).
    """
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path = directory / "smtp-test-cert.pem"
    key_path = directory / "smtp-test-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_context.load_cert_chain(cert_path, key_path)
    client_context = ssl.create_default_context(cafile=str(cert_path))
    return server_context, client_context
