"""Receiving returned mail: a small SMTP receiver (aiosmtpd) the relay forwards bounces to, and
an IMAP mailbox poller (imaplib). Both hand each message's recipients and bytes to a callback."""

from __future__ import annotations

import imaplib
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email import message_from_bytes
from email.utils import getaddresses
from typing import Any
from urllib.parse import unquote, urlsplit

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)

# (recipients, raw message) -> whether it was taken; raising means "try again later".
MessageHandler = Callable[[list[str], bytes], bool]
MAX_MESSAGE_BYTES = 10 * 1024 * 1024


class _ReturnedMailHandler:
    def __init__(self, accepts: Callable[[str], bool], handle: MessageHandler) -> None:
        self._accepts = accepts
        self._handle = handle

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        # A forged or mistyped bounce address is refused while the sender is still listening.
        if not self._accepts(address):
            return "550 5.1.1 No such bounce address here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        try:
            self._handle(list(envelope.rcpt_tos), bytes(envelope.original_content))
        except Exception:
            logger.exception("Could not record returned mail; the sender will try again")
            return "451 4.3.0 Could not record the message now, try again later"
        return "250 OK: recorded"


def start_receiver(
    host: str, port: int, accepts: Callable[[str], bool], handle: MessageHandler
) -> Controller:
    """Listen on host:port in a background thread; the caller calls `.stop()`."""
    controller = Controller(
        _ReturnedMailHandler(accepts, handle),
        hostname=host,
        port=port,
        server_hostname="localhost",
        ident="returned mail receiver",
        data_size_limit=MAX_MESSAGE_BYTES,
        enable_SMTPUTF8=True,
    )
    controller.start()
    return controller


class ImapError(Exception):
    """The IMAP mailbox could not be reached, logged into or read."""


@dataclass(frozen=True)
class ImapSettings:
    host: str
    port: int
    use_ssl: bool
    username: str
    password: str
    mailbox: str
    timeout: float = 30.0

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> ImapSettings:
        """imaps://user:password@host:993/INBOX (imap:// for no TLS, e.g. on loopback)."""
        parts = urlsplit(url)
        use_ssl = parts.scheme == "imaps"
        return cls(
            host=parts.hostname or "",
            port=parts.port or (993 if use_ssl else 143),
            use_ssl=use_ssl,
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
            mailbox=unquote(parts.path.lstrip("/")) or "INBOX",
            timeout=timeout,
        )


def header_recipients(raw: bytes) -> list[str]:
    """Where a message in a mailbox was addressed: the envelope is gone, its traces are not."""
    message = message_from_bytes(raw)
    names = ("Delivered-To", "X-Original-To", "Envelope-To", "To", "Cc")
    values = [str(value) for name in names for value in message.get_all(name, [])]
    return [address for _, address in getaddresses(values) if address]


def poll_mailbox(settings: ImapSettings, handle: MessageHandler) -> int:
    """Hand every unseen message to `handle`, marking it seen once handled; returns how many.

    A message whose handling raises stays unseen, for the next poll. Raises ImapError.
    """
    handled = 0
    try:
        with _connect(settings) as imap:
            for uid, raw in _unseen(imap):
                try:
                    handle(header_recipients(raw), raw)
                except Exception:
                    logger.exception("Could not record one returned message; left unseen")
                    continue
                imap.uid("STORE", uid, "+FLAGS", r"(\Seen)")
                handled += 1
    except (imaplib.IMAP4.error, OSError) as e:
        raise ImapError(f"{type(e).__name__}: {e}") from e
    return handled


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    imap: imaplib.IMAP4
    if settings.use_ssl:
        imap = imaplib.IMAP4_SSL(settings.host, settings.port, timeout=settings.timeout)
    else:
        imap = imaplib.IMAP4(settings.host, settings.port, timeout=settings.timeout)
    try:
        imap.login(settings.username, settings.password)
        status, _ = imap.select(settings.mailbox)
        if status != "OK":
            raise ImapError(f"the mailbox {settings.mailbox!r} cannot be opened")
    except BaseException:
        # A refused login must not leave the socket open.
        imap.shutdown()
        raise
    return imap


def _unseen(imap: imaplib.IMAP4) -> Iterator[tuple[str, bytes]]:
    status, data = imap.uid("SEARCH", "UNSEEN")
    if status != "OK" or not data or not data[0]:
        return
    raw_uids = data[0]
    for uid in (raw_uids if isinstance(raw_uids, bytes) else b"").split():
        status, parts = imap.uid("FETCH", uid.decode(), "(BODY.PEEK[])")
        for part in parts if status == "OK" else []:
            if isinstance(part, tuple) and len(part) == 2:
                yield uid.decode(), bytes(part[1])
