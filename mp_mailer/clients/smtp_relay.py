"""SmtpRelay: one connection to the campaign's SMTP relay (connect, STARTTLS, login), reused
across sends; sends one EmailMessage with the envelope and MAIL options it needs."""

from __future__ import annotations

import copy
import email.parser
import email.policy
import email.utils
import logging
import smtplib
import ssl
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from email.message import EmailMessage
from types import TracebackType

from mp_mailer.clients.dkim_signing import DkimSigner
from mp_mailer.clients.message_check import MAX_LINE_OCTETS, check_serialised
from mp_mailer.clients.smtp_replies import (
    SmtpPermanentError,
    SmtpRelayError,
    SmtpReply,
    SmtpTemporaryError,
    check_recipients,
    check_reply,
    reply_text,
    translated_errors,
)

logger = logging.getLogger(__name__)


SECURITY_MODES = ("none", "starttls", "ssl")


# 421 means the relay is closing the connection, typically an idle one we are reusing.
_SERVICE_CLOSING = 421


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
        self,
        settings: SmtpSettings,
        *,
        ssl_context: ssl.SSLContext | None = None,
        dkim_signer: DkimSigner | None = None,
    ) -> None:
        self._settings = settings
        self._ssl_context = ssl_context
        # Signs the exact bytes sent, after they passed check_serialised.
        self._dkim_signer = dkim_signer
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
        envelope_sender: str | None = None,
    ) -> SmtpReply:
        """Send `message` to its To, Cc and Bcc addresses, from its Sender (else From) address.

        `envelope_recipients`, when given, replaces those addresses in the SMTP envelope (the
        headers are unchanged), e.g. to send a copy to one recipient later. A recipient in
        `optional_recipients` may be refused without stopping the others: the message goes to
        the rest and the refusal is in the reply's `refused`. `envelope_sender`, when given, is
        the MAIL FROM address (where bounces go; the From header is unchanged). Bcc is not
        transmitted. Raises
        SmtpTemporaryError or SmtpPermanentError (see the class docstring), and ValueError if
        the message has no single sender or no recipient.
        """
        envelope = _envelope_of(message, envelope_recipients, optional_recipients)
        if envelope_sender is not None:
            envelope = replace(envelope, mail_from=envelope_sender)
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
            with translated_errors("connect"):
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
                with translated_errors("auth"):
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
            if self._dkim_signer is not None:
                content = self._dkim_signer.sign(content)
            with translated_errors("mail"):
                try:
                    code, text = smtp.mail(envelope.mail_from, options)
                except smtplib.SMTPServerDisconnected as error:
                    if reused:
                        raise _StaleConnection from error
                    raise
                if reused and code == _SERVICE_CLOSING:
                    raise _StaleConnection
                check_reply(code, text, "mail")
            with translated_errors("rcpt"):
                replies = {address: smtp.rcpt(address) for address in envelope.recipients}
                refused = check_recipients(replies, envelope.optional)
            with translated_errors("data"):
                code, text = smtp.data(content)
                check_reply(code, text, "data")
        except _StaleConnection:
            raise
        except BaseException:
            # Whatever failed, the next message must not land in this half-done transaction.
            self._reset_after_failure()
            raise
        return SmtpReply(code, reply_text(text), refused, content)

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
