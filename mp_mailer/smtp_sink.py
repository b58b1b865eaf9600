"""Development SMTP sink: accept every message and save it as a .eml file in a directory."""

from __future__ import annotations

import datetime
import logging
import os
import pathlib
import secrets
from typing import Any

from aiosmtpd.controller import Controller

logger = logging.getLogger(__name__)


class MaildirSink:
    """aiosmtpd handler writing each message to `<directory>/<UTC time>-<8 hex>.eml`.

    The envelope is prepended as X-Envelope-From and X-Envelope-To headers, so Bcc recipients
    and the bounce address are visible. Files appear atomically (written, then renamed).
    """

    def __init__(self, directory: pathlib.Path) -> None:
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        envelope_headers = (
            f"X-Envelope-From: <{envelope.mail_from}>\r\n"
            f"X-Envelope-To: {', '.join(f'<{address}>' for address in envelope.rcpt_tos)}\r\n"
        ).encode()
        path = self._write(envelope_headers + bytes(envelope.original_content))
        logger.info("SMTP sink saved %s", path.name)
        return "250 Message accepted for delivery"

    def _write(self, content: bytes) -> pathlib.Path:
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%dT%H%M%SZ")
        path = self.directory / f"{stamp}-{secrets.token_hex(4)}.eml"
        partial = path.with_suffix(".eml.tmp")
        partial.write_bytes(content)
        os.replace(partial, path)
        return path


def start_sink(host: str, port: int, directory: pathlib.Path) -> Controller:
    """Start the sink on host:port in a background thread; the caller calls `.stop()`.

    No AUTH is required. SMTPUTF8 and 8BITMIME are advertised, as a real relay would.
    """
    controller = Controller(
        MaildirSink(directory),
        hostname=host,
        port=port,
        server_hostname="localhost",
        ident="mp_mailer development sink",
        enable_SMTPUTF8=True,
    )
    controller.start()
    logger.info("SMTP sink listening on %s:%d, saving to %s", host, port, directory)
    return controller
