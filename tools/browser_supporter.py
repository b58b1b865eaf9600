"""Walk the supporter journey in headless Chromium against `mp-mailer run`, saving screenshots.

    .venv/bin/python tools/browser_supporter.py [--out screenshots]   (after make install-test)

Starts the fake Members API and `mp-mailer run` (web app, worker, local mail sink) on a
temporary database, then types a letter as a supporter would, confirms it from the emailed
link, and checks the letter lands in the sink addressed to the MP.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import os
import re
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools import fake_members_api  # noqa: E402

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        return int(listener.getsockname()[1])


def wait_for(url: str, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=1)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not answer")


def mails(sink: Path) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(sink.glob("*.eml")):
        found.append(email.message_from_bytes(path.read_bytes(), policy=email.policy.default))
    return found


def wait_for_mail(sink: Path, count: int, seconds: float = 20) -> list[email.message.EmailMessage]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = mails(sink)
        if len(found) >= count:
            return found
        time.sleep(0.3)
    raise SystemExit(f"expected {count} emails in {sink}, found {len(mails(sink))}")


def shot(page: Page, out: Path, name: str) -> None:
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    print(f"  screenshot {out / name}.png")


def journey(page: Page, base: str, sink: Path, out: Path) -> None:
    page.goto(base + "/")
    shot(page, out, "supporter-01-campaign")

    page.fill("#postcode", "JE2 3AB")
    page.click("text=Find my MP")
    shot(page, out, "supporter-02-jersey")
    page.fill("#postcode", "not a postcode")
    page.click("text=Find my MP")
    shot(page, out, "supporter-03-bad-postcode")

    # Keyboard only: type the postcode and press Enter.
    page.fill("#postcode", "")
    page.focus("#postcode")
    page.keyboard.type("sw1a1aa")
    page.keyboard.press("Enter")
    page.wait_for_selector(".mp-card")
    page.set_viewport_size({"width": 1280, "height": 900})
    shot(page, out, "supporter-04-letter")

    page.click("text=Send my letter")
    shot(page, out, "supporter-05-letter-errors")
    assert page.input_value("#body").startswith("Dear Ms Abbott"), "letter text lost"

    page.fill("#name", "Jane Doe")
    page.fill("#email", "jane@example.org")
    page.fill("#address", "1 Example Road\nLondon")
    page.click("text=Send my letter")
    page.wait_for_selector("text=Check your inbox")
    shot(page, out, "supporter-06-check-inbox")

    confirmation = wait_for_mail(sink, 1)[0]
    link = re.search(r"http://\S+/confirm/\S+", confirmation.get_content())
    assert link, "no confirmation link"
    page.goto(link.group(0))
    shot(page, out, "supporter-07-confirm")
    page.click("text=Send my letter")
    page.wait_for_selector(".panel--success")
    shot(page, out, "supporter-08-thanks")

    letter = wait_for_mail(sink, 2)[1]
    print("Delivered to the sink:")
    for header in ("From", "To", "Reply-To", "Cc", "Subject", "Message-ID", "X-Envelope-To"):
        print(f"  {header}: {letter[header]}")
    assert "diane.abbott.office@parliament.uk" in letter["To"]

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/")
    shot(page, out, "supporter-09-mobile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    _, api_url = fake_members_api.start()
    with tempfile.TemporaryDirectory() as temporary:
        sink = Path(temporary) / "sent-mail"
        port = free_port()
        environment = {
            **os.environ,
            "SECRET_KEY": secrets.token_hex(16),
            "DATABASE_URL": f"sqlite:///{temporary}/mp_mailer.sqlite3",
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "PARLIAMENT_API_URL": api_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(free_port()),
            "MAIL_FROM": "Free Tibet <campaigns@freetibet.example>",
            "SINK_DIRECTORY": str(sink),
            "WORKER_POLL_SECONDS": "0.5",
        }
        server = subprocess.Popen(
            [str(ROOT / ".venv/bin/mp-mailer"), "run", "--port", str(port)],
            env=environment,
            cwd=temporary,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1280, "height": 900})
                journey(page, base, sink, arguments.out)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
    print("Supporter journey passed in the browser.")


if __name__ == "__main__":
    main()
