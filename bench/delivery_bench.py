"""Count what the outbox promises: letters accepted, delivered, duplicated and lost, through a relay
outage, several racing workers, a poison letter and a refused supporter's copy.

    .venv/bin/python bench/delivery_bench.py                  # a temporary SQLite file each run
    .venv/bin/python bench/delivery_bench.py \\
        --database-url postgresql+psycopg://postgres@127.0.0.1:5432/test_bench   # wiped first!

The same scenarios as tests/test_worker*.py, against a real SMTP server on loopback (aiosmtpd),
printed as a Markdown table for docs/reliability.md. Deliveries to the MP are counted at the
server by Message-ID; "lost" means accepted but neither delivered nor failed with its reason.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select, text

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from mp_mailer import create_app  # noqa: E402
from mp_mailer.cli import smtp_settings, worker_settings  # noqa: E402
from mp_mailer.clients.smtp_relay import SmtpRelay  # noqa: E402
from mp_mailer.db import Base, make_engine, utcnow  # noqa: E402
from mp_mailer.models import Letter, LetterEvent, LetterStatus  # noqa: E402
from mp_mailer.schema import upgrade_database  # noqa: E402
from mp_mailer.worker import RelayUnavailable, run_worker  # noqa: E402
from tests.factories import create_campaign, create_letter, create_queued_letters  # noqa: E402
from tests.smtp_server import SmtpTestServer  # noqa: E402


class Clock:
    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset


@dataclasses.dataclass
class Figures:
    scenario: str
    accepted: int
    delivered: int
    duplicated: int
    lost: int
    failed: int
    events: int
    seconds: float


def make_app(database_url: str, server: SmtpTestServer) -> Any:
    return create_app(
        {
            "secret_key": "bench-secret-key-0123456789abcdef",
            "database_url": database_url,
            "public_url": "http://localhost",
            "smtp_host": server.host,
            "smtp_port": server.port,
            "smtp_timeout": 5.0,
            "mail_from": "Free Tibet <campaigns@freetibet.example>",
            "testing": True,
            "log_level": "ERROR",
        }
    )


def wipe(app: Any) -> None:
    engine = app.extensions["mp_mailer.engine"]
    tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        for table in tables:
            connection.execute(text(f"DELETE FROM {table}"))


def figures(app: Any, scenario: str, server: SmtpTestServer, started: float) -> Figures:
    with app.extensions["mp_mailer.session_factory"]() as session:
        accepted = set(session.scalars(select(Letter.message_id)))
        failed = set(
            session.scalars(select(Letter.message_id).where(Letter.status == LetterStatus.FAILED))
        )
        events = session.scalar(select(func.count()).select_from(LetterEvent))
    # A supporter's copy carries the letter's Message-ID too: count the MP's deliveries only.
    to_mp = Counter(
        str(message["Message-ID"])
        for message, (_, recipients) in zip(server.messages, server.envelopes, strict=True)
        if "diane.abbott.office@parliament.uk" in recipients
    )
    return Figures(
        scenario=scenario,
        accepted=len(accepted),
        delivered=len(set(to_mp) & accepted),
        duplicated=sum(count - 1 for count in to_mp.values()),
        # Lost: neither delivered nor failed with its reason recorded.
        lost=len(accepted - set(to_mp) - failed),
        failed=len(failed),
        events=events or 0,
        seconds=time.monotonic() - started,
    )


def outage(app: Any, server: SmtpTestServer, letters: int, hours: int) -> Figures:
    with app.extensions["mp_mailer.session_factory"]() as session:
        create_queued_letters(session, create_campaign(session), letters)
    server.stop()
    clock, stop = Clock(), threading.Event()
    started = time.monotonic()
    waits: list[float] = []

    def wait(seconds: float) -> bool:
        waits.append(seconds)
        clock.offset += timedelta(seconds=seconds)
        if clock.offset >= timedelta(hours=hours) and not server.running:
            server.start()
        with app.extensions["mp_mailer.session_factory"]() as session:
            sent = session.scalar(
                select(func.count()).select_from(Letter).where(Letter.status == LetterStatus.SENT)
            )
        if sent == letters:
            stop.set()
        return stop.is_set()

    run(app, stop=stop, clock=clock, wait=wait)
    label = f"{letters} letters, relay down {hours} simulated hours ({len(waits)} worker waits)"
    return figures(app, label, server, started)


def racing_workers(app: Any, server: SmtpTestServer, workers: int, letters: int) -> Figures:
    with app.extensions["mp_mailer.session_factory"]() as session:
        campaign = create_campaign(session)
        for _ in range(letters):
            create_letter(session, campaign)
    server.delay_seconds = 0.3
    config = app.extensions["mp_mailer.config"]
    settings = dataclasses.replace(
        worker_settings(config), lease=timedelta(seconds=3), poll_seconds=0.05
    )
    stop = threading.Event()
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=run_worker,
            args=(
                app.extensions["mp_mailer.session_factory"],
                lambda: SmtpRelay(smtp_settings(config)),
                settings,
            ),
            kwargs={"stop": stop},
        )
        for _ in range(workers)
    ]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 120
    while len(server.messages) < letters and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3.5)  # past a lease, so a late duplicate would show
    stop.set()
    for thread in threads:
        thread.join()
    server.delay_seconds = 0.0
    label = f"{workers} workers, {letters} letters, 0.3 s relay, 3 s lease"
    return figures(app, label, server, started)


def poison_letter(app: Any, server: SmtpTestServer) -> Figures:
    with app.extensions["mp_mailer.session_factory"]() as session:
        campaign = create_campaign(session)
        for position in range(7):
            email = "a@b@c" if position == 3 else None
            create_letter(session, campaign, **({"supporter_email": email} if email else {}))
    started = time.monotonic()
    run(app, once=True)
    return figures(app, "7 letters, the 4th cannot be built", server, started)


def refused_copy(app: Any, server: SmtpTestServer) -> Figures:
    with app.extensions["mp_mailer.session_factory"]() as session:
        letter = create_letter(session, send_copy=True)
        server.refuse_recipient(letter.supporter_email, 550, "5.1.1 No such user")
    started = time.monotonic()
    run(app, once=True)
    return figures(app, "1 letter, the supporter's copy refused with 550", server, started)


def run(app: Any, **kwargs: Any) -> None:
    config = app.extensions["mp_mailer.config"]
    # With once=True a relay that is down ends the run; the figures say what that left undone.
    with contextlib.suppress(RelayUnavailable):
        run_worker(
            app.extensions["mp_mailer.session_factory"],
            lambda: SmtpRelay(smtp_settings(config)),
            worker_settings(config),
            **kwargs,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="default: a temporary SQLite file per scenario")
    parser.add_argument("--letters", type=int, default=1000)
    args = parser.parse_args()
    scenarios: list[Callable[[Any, SmtpTestServer], Figures]] = [
        lambda app, server: outage(app, server, args.letters, 6),
        lambda app, server: racing_workers(app, server, 2, 40),
        lambda app, server: racing_workers(app, server, 4, 40),
        poison_letter,
        refused_copy,
    ]
    results = []
    with tempfile.TemporaryDirectory() as directory:
        for number, scenario in enumerate(scenarios):
            url = args.database_url or f"sqlite:///{directory}/bench-{number}.sqlite3"
            engine = make_engine(url)
            upgrade_database(engine)
            engine.dispose()
            with SmtpTestServer() as server:
                app = make_app(url, server)
                if args.database_url:
                    wipe(app)
                results.append(scenario(app, server))
                app.extensions["mp_mailer.engine"].dispose()
    backend = "PostgreSQL" if args.database_url else "SQLite"
    print(
        f"| Scenario ({backend}) | Accepted | Delivered | Duplicated | Lost | Failed | Events | s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for row in results:
        print(
            f"| {row.scenario} | {row.accepted} | {row.delivered} | {row.duplicated} | "
            f"{row.lost} | {row.failed} | {row.events} | {row.seconds:.1f} |"
        )


if __name__ == "__main__":
    main()
