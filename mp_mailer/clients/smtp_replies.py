"""What the relay answered: accepted replies and refusals, and the errors (temporary, permanent,
unavailable) that smtplib and socket failures are translated into."""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field


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

    `refused` holds the optional recipients the relay refused (the message went to the others);
    `content` the message exactly as the relay took it (serialised, signed when DKIM is on).
    """

    code: int
    text: str
    refused: Mapping[str, SmtpRefusal] = field(default_factory=dict)
    content: bytes = field(default=b"", compare=False, repr=False)


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


def check_reply(code: int, text: bytes, stage: str) -> None:
    if not 200 <= code < 300:
        raise error_for(code, reply_text(text), stage)


def check_recipients(
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
        raise error_for(code, reply_text(text), "rcpt")
    return {
        address: SmtpRefusal(code, reply_text(text)) for address, (code, text) in refused.items()
    }


def error_for(code: int, reply: str, stage: str) -> SmtpRelayError:
    if 500 <= code < 600:
        if stage == "auth":
            return SmtpAuthenticationError(reply, code)
        if stage in ("mail", "rcpt", "data"):
            return SmtpPermanentError(reply, code)
    return temporary_error_class(stage)(reply, code)


def temporary_error_class(stage: str) -> type[SmtpTemporaryError]:
    # Before MAIL, a failure says nothing about the message: the relay is unavailable to us.
    return SmtpRelayUnavailable if stage in ("connect", "auth") else SmtpTemporaryError


def reply_text(reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        return reply.decode("utf-8", errors="replace")
    return reply


@contextmanager
def translated_errors(stage: str) -> Iterator[None]:
    """Turn smtplib and socket errors raised during `stage` into SmtpRelayError subclasses."""
    try:
        yield
    except smtplib.SMTPResponseException as error:
        raise error_for(error.smtp_code, reply_text(error.smtp_error), stage) from error
    except smtplib.SMTPServerDisconnected as error:
        raise temporary_error_class(stage)(f"relay disconnected: {error}") from error
    except smtplib.SMTPException as error:
        # No reply code: STARTTLS or AUTH not offered, or no AUTH mechanism in common.
        if stage == "auth":
            raise SmtpAuthenticationError(str(error)) from error
        raise temporary_error_class(stage)(str(error)) from error
    except ssl.SSLError as error:
        raise temporary_error_class(stage)(f"TLS failure: {error}") from error
    except OSError as error:
        # ConnectionRefusedError, TimeoutError, socket.gaierror, resets...
        raise temporary_error_class(stage)(f"{type(error).__name__}: {error}") from error
