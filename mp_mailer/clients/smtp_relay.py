"""SmtpRelay: deliver EmailMessages through one reused SMTP connection; temporary vs permanent."""

from __future__ import annotations

import copy
import email.parser
import email.policy
import email.utils
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from types import TracebackType

logger = logging.getLogger(__name__)

SECURITY_MODES = ("none", "starttls", "ssl")

# 421 means the relay is closing the connection, typically an idle one we are reusing.
_SERVICE_CLOSING = 421
MAX_LINE_OCTETS = 998


@dataclass(frozen=True)
class SmtpSettings:
    """How to reach the relay. `security`: "none", "starttls" or "ssl" (implicit TLS).

    `local_hostname` is the name sent with EHLO; None means the machine's FQDN.
    """

    host: str
    port: int
    security: str
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = 15.0
    local_hostname: str | None = None

    def __post_init__(self) -> None:
        if self.security not in SECURITY_MODES:
            raise ValueError(f"security must be one of {SECURITY_MODES}, not {self.security!r}")
        if not self.host:
            raise ValueError("host must not be empty")
        if not 0 < self.port < 65536:
            raise ValueError(f"port must be between 1 and 65535, not {self.port}")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
        if (self.username is None) != (self.password is None):
            raise ValueError("username and password must be set together")
        for credential in (self.username, self.password):
            # smtplib encodes AUTH data as ASCII; failing here beats failing on every send.
            if credential is not None and not credential.isascii():
                raise ValueError("SMTP username and password must be ASCII")


@dataclass(frozen=True)
class SmtpRefusal:
    """The relay's refusal of one recipient, e.g. 550 "5.1.1 No such user"."""

    code: int
    text: str

    @property
    def is_permanent(self) -> bool:
        return 500 <= self.code < 600


@dataclass(frozen=True)
class SmtpReply:
    """The relay's reply to the end of DATA, e.g. 250 "2.0.0 OK queued as 4F2x".

    `refused` holds the optional recipients the relay refused (the message went to the others).
    """

    code: int
    text: str
    refused: Mapping[str, SmtpRefusal] = field(default_factory=dict)


class SmtpRelayError(Exception):
    """The relay did not accept the message. `code` is the SMTP reply code, if there was one."""

    def __init__(self, reply: str, code: int | None = None) -> None:
        super().__init__(reply, code)
        self.code = code
        self.reply = reply

    def __str__(self) -> str:
        return self.reply if self.code is None else f"{self.code} {self.reply}"


class SmtpTemporaryError(SmtpRelayError):
    """Worth retrying later: the relay was unreachable, timed out, dropped us or replied 4xx."""


class SmtpRelayUnavailable(SmtpTemporaryError):
    """The relay could not be reached or would not start a session with us (refused, DNS,
    timeout, TLS, a 4xx/5xx greeting or EHLO): its fault, not the message's."""


class SmtpPermanentError(SmtpRelayError):
    """Retrying this message will not help: the relay replied 5xx to MAIL, RCPT or DATA."""


class SmtpMessageRefused(SmtpPermanentError):
    """We refused to send this message: its serialised form is not exactly what was built.

    Raised before MAIL, so nothing reached the relay. `reason` says what was wrong, naming
    headers and line numbers only, never their values. Retrying would build the same bytes.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"message not sent: {reason}")
        self.reason = reason


class SmtpAuthenticationError(SmtpPermanentError):
    """The relay refused our credentials (e.g. 535): a configuration fault, not the letter's.

    A subclass of SmtpPermanentError; callers can catch it first to stop sending altogether
    instead of failing every queued letter.
    """


@dataclass(frozen=True)
class _Envelope:
    mail_from: str
    recipients: tuple[str, ...]
    # Reply-To and the rest: a non-ASCII address there needs SMTPUTF8 as much as one in RCPT.
    header_addresses: tuple[str, ...] = ()
    optional: frozenset[str] = frozenset()

    @property
    def needs_smtputf8(self) -> bool:
        addresses = (self.mail_from, *self.recipients, *self.header_addresses)
        return not all(address.isascii() for address in addresses)


class _StaleConnection(Exception):
    """A reused connection turned out to be closed before the transaction began."""


class SmtpRelay:
    """One connection to the relay, opened lazily and reused for many messages.

    Not thread-safe: give each worker thread its own SmtpRelay. Entering the context manager does
    not connect; the first send() does, so a relay outage surfaces as a classified send error.

    Error rules (every error chains the original with `raise ... from`):
    - SmtpRelayUnavailable (a SmtpTemporaryError): any failure before MAIL (connecting, TLS,
      greeting, EHLO, a 4xx to AUTH); the relay is unavailable, the message is not at fault.
    - SmtpTemporaryError: connection refused, DNS failure, timeout, disconnection, TLS handshake
      or certificate failure, STARTTLS not offered, any 4xx reply at any stage, a 5xx reply before
      MAIL (greeting, EHLO, STARTTLS: the relay's fault, not the letter's), unexpected reply codes.
    - SmtpAuthenticationError (permanent): a 5xx reply to AUTH, or no usable AUTH mechanism.
    - SmtpPermanentError: a 5xx reply to MAIL, RCPT or DATA; a non-ASCII address when the relay
      lacks SMTPUTF8.
    - SmtpMessageRefused (permanent): the serialised message failed our own check (exactly the
      headers set on the message, each once, no line break inside a value, a blank line before
      the body); it is never sent. Every message is checked, whoever built it.
    - Recipients: a message is sent only if every required recipient (To, Cc, Bcc, or those
      given, less the optional ones) is accepted. If any is refused with 5xx the error is
      permanent, since a retry would be refused again; otherwise (only 4xx refusals) it is
      temporary. The error carries the first such refusal's code and text. The transaction is
      then reset, so nobody receives a partial send. Optional recipients that are refused are
      reported in the reply instead, and the message goes to the others.
    """

    def __init__(
        self, settings: SmtpSettings, *, ssl_context: ssl.SSLContext | None = None
    ) -> None:
        self._settings = settings
        self._ssl_context = ssl_context
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> SmtpRelay:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def open(self) -> None:
        """Connect, secure and authenticate now if not connected yet. Raises SmtpRelayError."""
        if self._smtp is None:
            self._smtp = self._connect()

    def close(self) -> None:
        """Say QUIT and close the connection; errors are ignored, the socket is always closed."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            pass
        finally:
            smtp.close()

    def send(
        self,
        message: EmailMessage,
        envelope_recipients: Sequence[str] | None = None,
        *,
        optional_recipients: Collection[str] = (),
    ) -> SmtpReply:
        """Send `message` to its To, Cc and Bcc addresses, from its Sender (else From) address.

        `envelope_recipients`, when given, replaces those addresses in the SMTP envelope (the
        headers are unchanged), e.g. to send a copy to one recipient later. A recipient in
        `optional_recipients` may be refused without stopping the others: the message goes to
        the rest and the refusal is in the reply's `refused`. Bcc is not transmitted. Raises
        SmtpTemporaryError or SmtpPermanentError (see the class docstring), and ValueError if
        the message has no single sender or no recipient.
        """
        envelope = _envelope_of(message, envelope_recipients, optional_recipients)
        message_id = str(message.get("Message-ID", ""))
        started = time.monotonic()
        try:
            reply = self._deliver(message, envelope)
        except SmtpRelayError as error:
            elapsed_ms = (time.monotonic() - started) * 1000
            logger.log(
                logging.WARNING if isinstance(error, SmtpTemporaryError) else logging.ERROR,
                # The reply text is not logged: relays often quote the refused address in it.
                "SMTP relay did not accept message %s after %.0f ms: %s (code %s, cause %s)",
                message_id,
                elapsed_ms,
                type(error).__name__,
                error.code,
                type(error.__cause__).__name__,
                extra={
                    "message_id": message_id,
                    "smtp_code": error.code,
                    "duration_ms": elapsed_ms,
                },
            )
            raise
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.info(
            "SMTP relay accepted message %s in %.0f ms: %s",
            message_id,
            elapsed_ms,
            reply.code,
            extra={"message_id": message_id, "smtp_code": reply.code, "duration_ms": elapsed_ms},
        )
        return reply

    def _deliver(self, message: EmailMessage, envelope: _Envelope) -> SmtpReply:
        if self._smtp is not None:
            try:
                return self._transaction(self._smtp, message, envelope, reused=True)
            except _StaleConnection:
                logger.info("SMTP relay had closed the idle connection; reconnecting")
                self._discard()
        self.open()
        assert self._smtp is not None
        return self._transaction(self._smtp, message, envelope, reused=False)

    def _connect(self) -> smtplib.SMTP:
        settings = self._settings
        context = self._ssl_context or ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            with _translated_errors("connect"):
                # Passing the host to the constructor matters: smtplib only records it there,
                # and uses it as the TLS server_hostname for certificate checks.
                if settings.security == "ssl":
                    smtp = smtplib.SMTP_SSL(
                        settings.host,
                        settings.port,
                        local_hostname=settings.local_hostname,
                        timeout=settings.timeout,
                        context=context,
                    )
                else:
                    smtp = smtplib.SMTP(
                        settings.host,
                        settings.port,
                        local_hostname=settings.local_hostname,
                        timeout=settings.timeout,
                    )
                # Unlike ehlo(), this raises on a refusal (after trying HELO).
                smtp.ehlo_or_helo_if_needed()
                if settings.security == "starttls":
                    smtp.starttls(context=context)
                    smtp.ehlo_or_helo_if_needed()
            if settings.username is not None and settings.password is not None:
                with _translated_errors("auth"):
                    smtp.login(settings.username, settings.password)
        except BaseException:
            if smtp is not None:
                smtp.close()
            raise
        return smtp

    def _transaction(
        self, smtp: smtplib.SMTP, message: EmailMessage, envelope: _Envelope, *, reused: bool
    ) -> SmtpReply:
        try:
            content, options = _serialise(message, envelope, smtp)
            with _translated_errors("mail"):
                try:
                    code, text = smtp.mail(envelope.mail_from, options)
                except smtplib.SMTPServerDisconnected as error:
                    if reused:
                        raise _StaleConnection from error
                    raise
                if reused and code == _SERVICE_CLOSING:
                    raise _StaleConnection
                _check(code, text, "mail")
            with _translated_errors("rcpt"):
                replies = {address: smtp.rcpt(address) for address in envelope.recipients}
                refused = _check_recipients(replies, envelope.optional)
            with _translated_errors("data"):
                code, text = smtp.data(content)
                _check(code, text, "data")
        except _StaleConnection:
            raise
        except BaseException:
            # Whatever failed, the next message must not land in this half-done transaction.
            self._reset_after_failure()
            raise
        return SmtpReply(code, _text(text), refused)

    def _reset_after_failure(self) -> None:
        """RSET so the connection can carry the next message; drop it if that fails."""
        if self._smtp is None:
            return
        try:
            code, _ = self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            code = 0
        if code != 250:
            self._discard()

    def _discard(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()


def _envelope_of(
    message: EmailMessage,
    recipients_given: Sequence[str] | None,
    optional: Collection[str] = (),
) -> _Envelope:
    senders = _addresses(message, "Sender") or _addresses(message, "From")
    if len(senders) != 1:
        raise ValueError("message needs exactly one Sender or From address")
    if recipients_given is None:
        recipients_given = _addresses(message, "To", "Cc", "Bcc")
    recipients = tuple(dict.fromkeys(address for address in recipients_given if address))
    if not recipients:
        raise ValueError("message has no To, Cc or Bcc address")
    header_addresses = tuple(_addresses(message, "From", "Sender", "Reply-To"))
    return _Envelope(senders[0], recipients, header_addresses, frozenset(optional))


def _addresses(message: EmailMessage, *header_names: str) -> list[str]:
    found: list[str] = []
    for name in header_names:
        for value in message.get_all(name, []):
            parsed = getattr(value, "addresses", None)
            if parsed is not None:
                # Parsed headers (email.policy.default) keep display names with commas intact.
                found.extend(address.addr_spec for address in parsed)
            else:
                found.extend(address for _, address in email.utils.getaddresses([str(value)]))
    return [address for address in found if address and address != "<>"]


_SMTP = email.policy.SMTP.clone(max_line_length=MAX_LINE_OCTETS)
_SMTPUTF8 = email.policy.SMTPUTF8.clone(max_line_length=MAX_LINE_OCTETS)


def _serialise(
    message: EmailMessage, envelope: _Envelope, smtp: smtplib.SMTP
) -> tuple[bytes, list[str]]:
    """Return the bytes to send (CRLF, without Bcc) and the MAIL options they need."""
    outgoing = copy.copy(message)
    # 998 is SMTP's limit. Folding at 78 makes CPython drop the quotes around a long display
    # name ("Doe, Jane ... via ..." turns into two addresses); below 998 nothing we build folds.
    # Deleting rebinds the copy's header list, leaving the caller's message untouched.
    del outgoing["Bcc"]
    if envelope.needs_smtputf8:
        if not smtp.has_extn("smtputf8"):
            raise SmtpPermanentError(
                "the relay does not offer SMTPUTF8, which an email address in this message needs "
                "(it has letters outside ASCII before the @)"
            )
        content, options = (
            outgoing.as_bytes(policy=_SMTPUTF8),
            ["SMTPUTF8", "BODY=8BITMIME"],
        )
    else:
        content, options = outgoing.as_bytes(policy=_SMTP), []
        if not content.isascii():
            if smtp.has_extn("8bitmime"):
                options = ["BODY=8BITMIME"]
            else:
                # Re-encode 8bit parts as quoted-printable or base64 for a 7-bit-only relay.
                content = outgoing.as_bytes(policy=_SMTP.clone(cte_type="7bit"))
    check_serialised(content, outgoing)
    return content, options


# Any character that str.splitlines() or some mail reader treats as ending a line, and NUL.
_LINE_BREAKS = frozenset("\r\n\v\f\x1c\x1d\x1e\x85\u2028\u2029\x00")
_FIELD_NAME = re.compile(rb"[!-9;-~]+")
_HEADER_CONTROLS = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
_BARE_CR_OR_LF = re.compile(rb"\r(?!\n)|(?<!\r)\n")


def check_serialised(content: bytes, message: EmailMessage) -> None:
    """Refuse bytes whose headers are not exactly `message`'s own, each once, each one line.

    This is the last line of defence against header injection, whatever let it through (the
    email package decoding an encoded word into a raw CRLF, CVE-2024-6923, is one way): the
    check is on the bytes about to be sent. Raises SmtpMessageRefused.
    """
    head, separator, body = content.partition(b"\r\n\r\n")
    if not separator:
        raise SmtpMessageRefused("no blank line separates the headers from the body")
    found = _field_names(head)
    expected = [name.lower() for name in message if name.lower() != "bcc"]
    duplicated = sorted({name for name in found if found.count(name) > 1})
    if duplicated:
        raise SmtpMessageRefused(f"header set more than once: {', '.join(duplicated)}")
    if sorted(found) != sorted(expected):
        unexpected = sorted(set(found) - set(expected)) or ["none"]
        missing = sorted(set(expected) - set(found)) or ["none"]
        raise SmtpMessageRefused(
            f"headers are not the ones set: unexpected {', '.join(unexpected)}; "
            f"missing {', '.join(missing)}"
        )
    for name, value in message.items():
        if _LINE_BREAKS.intersection(str(value)):
            raise SmtpMessageRefused(f"the {name} header's value has a line break in it")
    # Read back as a mail program would: CPython's folding can drop the quotes around a long
    # display name, and "Doe, Jane" then becomes two addresses.
    parsed = email.parser.Parser(policy=email.policy.default).parsestr(
        head.decode("utf-8", errors="replace") + "\r\n\r\n", headersonly=True
    )
    for name, value in message.items():
        if _meaning(parsed[name]) != _meaning(value):
            raise SmtpMessageRefused(f"the {name} header reads back differently from what was set")
    if _BARE_CR_OR_LF.search(body) or b"\x00" in body:
        raise SmtpMessageRefused("the body has a bare CR, LF or NUL")


def _meaning(value: object) -> object:
    addresses = getattr(value, "addresses", None)
    if addresses is not None:
        return [(address.display_name, address.addr_spec) for address in addresses]
    return " ".join(str(value).split())


def _field_names(head: bytes) -> list[str]:
    names: list[str] = []
    for number, line in enumerate(head.split(b"\r\n"), start=1):
        if len(line) > MAX_LINE_OCTETS:
            raise SmtpMessageRefused(f"header line {number} is longer than {MAX_LINE_OCTETS}")
        if _HEADER_CONTROLS.search(line):
            raise SmtpMessageRefused(f"header line {number} has a control character or bare CR/LF")
        if line[:1] in (b" ", b"\t"):
            # A folded line; one of only whitespace reads as the end of the headers to some.
            if not names or not line.strip(b" \t"):
                raise SmtpMessageRefused(f"header line {number} continues nothing")
            continue
        name, colon, _ = line.partition(b":")
        if not colon or not _FIELD_NAME.fullmatch(name):
            raise SmtpMessageRefused(f"header line {number} is not a header")
        names.append(name.decode("ascii").lower())
    return names


def _check(code: int, text: bytes, stage: str) -> None:
    if not 200 <= code < 300:
        raise _error_for(code, _text(text), stage)


def _check_recipients(
    replies: Mapping[str, tuple[int, bytes]], optional: frozenset[str]
) -> dict[str, SmtpRefusal]:
    """Raise unless every required recipient (and at least one in all) was accepted; return the
    optional recipients that were refused."""
    refused = {
        address: (code, text) for address, (code, text) in replies.items() if not 200 <= code < 300
    }
    required = [reply for address, reply in refused.items() if address not in optional]
    if required or (refused and len(refused) == len(replies)):
        refusals = required or list(refused.values())
        permanent = [(code, text) for code, text in refusals if 500 <= code < 600]
        code, text = (permanent or refusals)[0]
        raise _error_for(code, _text(text), "rcpt")
    return {address: SmtpRefusal(code, _text(text)) for address, (code, text) in refused.items()}


def _error_for(code: int, reply: str, stage: str) -> SmtpRelayError:
    if 500 <= code < 600:
        if stage == "auth":
            return SmtpAuthenticationError(reply, code)
        if stage in ("mail", "rcpt", "data"):
            return SmtpPermanentError(reply, code)
    return _temporary_error_class(stage)(reply, code)


def _temporary_error_class(stage: str) -> type[SmtpTemporaryError]:
    # Before MAIL, a failure says nothing about the message: the relay is unavailable to us.
    return SmtpRelayUnavailable if stage in ("connect", "auth") else SmtpTemporaryError


def _text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", errors="replace")
    return reply


@contextmanager
def _translated_errors(stage: str) -> Iterator[None]:
    """Turn smtplib and socket errors raised during `stage` into SmtpRelayError subclasses."""
    try:
        yield
    except smtplib.SMTPResponseException as error:
        raise _error_for(error.smtp_code, _text(error.smtp_error), stage) from error
    except smtplib.SMTPServerDisconnected as error:
        raise _temporary_error_class(stage)(f"relay disconnected: {error}") from error
    except smtplib.SMTPException as error:
        # No reply code: STARTTLS or AUTH not offered, or no AUTH mechanism in common.
        if stage == "auth":
            raise SmtpAuthenticationError(str(error)) from error
        raise _temporary_error_class(stage)(str(error)) from error
    except ssl.SSLError as error:
        raise _temporary_error_class(stage)(f"TLS failure: {error}") from error
    except OSError as error:
        # ConnectionRefusedError, TimeoutError, socket.gaierror, resets...
        raise _temporary_error_class(stage)(f"{type(error).__name__}: {error}") from error
