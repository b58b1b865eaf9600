"""A live site on loopback for the browser tests: the app, a worker, the mail sink, the stand-in
Members API, each on a free port and a temporary SQLite database; and the axe-core audit."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Page
from sqlalchemy.orm import Session
from werkzeug.serving import make_server

from mp_mailer import create_app
from mp_mailer.cli import worker_settings
from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.config import smtp_settings
from mp_mailer.schema import upgrade_database
from mp_mailer.smtp_sink import start_sink
from mp_mailer.worker.loop import run_worker
from tools import fake_members_api

CHROMIUM = "/usr/bin/chromium"
# Debian's Chromium, headless, talking to nothing but the site under test.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
AXE_SCRIPT = Path(__file__).resolve().parent / "node_modules" / "axe-core" / "axe.min.js"
FAILING_IMPACTS = ("serious", "critical")
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
PASSWORD = "browser test password"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class LiveSite:
    base_url: str
    app: Flask
    mail_directory: Path

    def url(self, path: str) -> str:
        return self.base_url + path

    def session(self) -> Session:
        factory: Any = self.app.extensions["mp_mailer.session_factory"]
        session: Session = factory()
        return session

    def mails(self) -> list[EmailMessage]:
        return [
            message_from_bytes(path.read_bytes(), policy=policy.default)  # type: ignore[misc]
            for path in sorted(self.mail_directory.glob("*.eml"))
        ]

    def wait_for_mail(
        self, matches: Callable[[EmailMessage], bool], seconds: float = 15
    ) -> EmailMessage:
        """The first email in the sink that `matches`, waiting for the worker to send it."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for message in self.mails():
                if matches(message):
                    return message
            time.sleep(0.1)
        raise AssertionError(f"no matching email in {self.mail_directory} after {seconds} s")


@contextmanager
def live_site(directory: Path, seed: Callable[[Session], None]) -> Iterator[LiveSite]:
    """The whole site as `make demo` runs it, seeded by `seed`, stopped on exit."""
    web_port, smtp_port = free_port(), free_port()
    api_server, api_url = fake_members_api.start()
    mail_directory = directory / "sent-mail"
    app = create_app(
        {
            "secret_key": "browser-test-secret-key-0123456789",
            "database_url": f"sqlite:///{directory / 'browser.sqlite3'}",
            "public_url": f"http://127.0.0.1:{web_port}",
            "parliament_api_url": api_url,
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "mail_from": "Free Tibet <campaigns@freetibet.example>",
            "worker_poll_seconds": 0.1,
            "ratelimit_enabled": False,
            "log_level": "WARNING",
            "testing": True,
        }
    )
    upgrade_database(app.extensions["mp_mailer.engine"])
    with app.extensions["mp_mailer.session_factory"]() as session:
        seed(session)
    sink = start_sink("127.0.0.1", smtp_port, mail_directory)
    stop = threading.Event()
    config = app.extensions["mp_mailer.config"]
    worker = threading.Thread(
        target=run_worker,
        args=(
            app.extensions["mp_mailer.session_factory"],
            lambda: SmtpRelay(smtp_settings(config)),
            worker_settings(config),
        ),
        kwargs={"stop": stop},
        daemon=True,
    )
    worker.start()
    server = make_server("127.0.0.1", web_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield LiveSite(f"http://127.0.0.1:{web_port}", app, mail_directory)
    finally:
        server.shutdown()
        server.server_close()
        stop.set()
        worker.join(timeout=10)
        sink.stop()
        api_server.shutdown()
        api_server.server_close()
        app.extensions["mp_mailer.engine"].dispose()


@dataclass
class AuditLog:
    """Every page state audited in this run, so the report can say how many."""

    states: list[str] = field(default_factory=list)
    minor: dict[str, int] = field(default_factory=dict)


AUDITS = AuditLog()


def audit(page: Page, state: str) -> None:
    """Run axe-core on the page as it is now; fail on any serious or critical violation."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(AXE_SCRIPT))
    results = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']})"
        ".then(r => r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,"
        " nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)})))"
    )
    failing = [v for v in results if v["impact"] in FAILING_IMPACTS]
    AUDITS.states.append(state)
    for violation in results:
        if violation["impact"] not in FAILING_IMPACTS:
            AUDITS.minor[violation["id"]] = AUDITS.minor.get(violation["id"], 0) + 1
    assert not failing, f"axe-core on {state} ({page.url}):\n" + json.dumps(failing, indent=2)


def has_no_sideways_scroll(page: Page) -> bool:
    """True when nothing sticks out past the viewport's width (a phone must not scroll sideways)."""
    return bool(
        page.evaluate("() => document.documentElement.scrollWidth <= window.innerWidth + 1")
    )


def cells_cut_off(page: Page, table: str) -> int:
    """How many of the table's cells end past the right edge of the screen (hidden or clipped)."""
    return int(
        page.evaluate(
            "(table) => [...document.querySelectorAll(`${table} tbody td, ${table} tbody th`)]"
            ".filter(cell => cell.getBoundingClientRect().right > window.innerWidth + 1).length",
            table,
        )
    )


def focused_class(page: Page) -> str:
    return str(page.evaluate("() => document.activeElement.className"))


class Shots:
    """Full-page screenshots named `<prefix>-<step>.jpg` (JPEG keeps docs/screenshots small)."""

    def __init__(self, page: Page, directory: Path, prefix: str) -> None:
        self.page = page
        self.directory = directory
        self.prefix = prefix

    def __call__(self, name: str) -> None:
        self.page.screenshot(
            path=str(self.directory / f"{self.prefix}-{name}.jpg"),
            full_page=True,
            type="jpeg",
            quality=80,
        )
