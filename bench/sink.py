"""A counting SMTP sink for the delivery benchmarks: its own process, one line per message received.

    python bench/sink.py --port 2525 --received /tmp/received.txt [--delay-ms 20]

Each accepted message appends a line to the file (its Message-ID, its number of recipients and
the time it was taken), so the bench counts every delivery and every duplicate, and times the
drain, without the sink holding messages in memory.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import threading
import time
from typing import Any

from aiosmtpd.controller import Controller

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(\S+)", re.IGNORECASE | re.MULTILINE)


class CountingSink:
    def __init__(self, received: Any, delay_seconds: float) -> None:
        self._received = received
        self._delay = delay_seconds

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self._delay:
            # A relay that takes this long per message, without blocking its other connections.
            await asyncio.sleep(self._delay)
        content = bytes(envelope.original_content)
        header_end = content.find(b"\r\n\r\n")
        match = MESSAGE_ID.search(content[: header_end if header_end > 0 else None])
        message_id = match.group(1).decode() if match else "-"
        self._received.write(f"{message_id} {len(envelope.rcpt_tos)} {time.time():.6f}\n")
        self._received.flush()
        return "250 OK"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--received", required=True)
    parser.add_argument("--delay-ms", type=float, default=0.0)
    arguments = parser.parse_args()
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with open(arguments.received, "a") as received:
        controller = Controller(
            CountingSink(received, arguments.delay_ms / 1000),
            hostname="127.0.0.1",
            port=arguments.port,
            enable_SMTPUTF8=True,
        )
        controller.start()
        stop.wait()
        controller.stop()


if __name__ == "__main__":
    main()
