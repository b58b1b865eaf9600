"""Drive the campaigner's journey in a real browser and save screenshots (not a unit test).

Starts the app on a temporary SQLite database with a local SMTP sink, seeds one cached MP (the
Members API is not needed), then in Chromium: log in, create a campaign, write its letter (first
with a mistake), preview it for the MP, send a test to yourself, put it live, close it, look at
the history, and, as an admin, the users page.

    .venv/bin/python tools/browser_campaigner.py [--chromium /usr/bin/chromium] [--out screenshots]
"""

from __future__ import annotations

import argparse
import logging
import socket
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes, policy
from pathlib import Path

from playwright.sync_api import Page, expect, sync_playwright
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.serving import make_server

from mp_mailer import create_app
from mp_mailer.db import utcnow
from mp_mailer.models import CachedConstituency, CachedMember, UserRole
from mp_mailer.schema import upgrade_database
from mp_mailer.services.seed import seed_first_campaign
from mp_mailer.services.users import create_user
from mp_mailer.smtp_sink import start_sink

PASSWORD = "browser check password"
CAMPAIGNER = "campaigner@freetibet.example"
ADMIN = "admin@freetibet.example"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
LETTER = """\
Dear {{ mp.address_as }},

I am writing as a constituent in {{ constituency }}. Tenzin Delek has been held without a fair \
trial for ten years, and his family have not been allowed to visit him.

Please write to the Foreign Secretary asking that the UK raise his case with the Chinese \
authorities, and tell me what reply you receive.
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def seed(engine: Engine, factory: sessionmaker[Session]) -> None:
    upgrade_database(engine)
    with factory() as session:
        seed_first_campaign(session)
        create_user(session, CAMPAIGNER, PASSWORD, UserRole.CAMPAIGNER)
        create_user(session, ADMIN, PASSWORD, UserRole.ADMIN)
        now = utcnow()
        session.add(
            CachedMember(
                id=172,
                display_name="Ms Diane Abbott",
                address_as="Ms Abbott",
                full_title="Rt Hon Diane Abbott MP",
                party_name="Independent",
                party_colour="#909090",
                constituency_id=4074,
                constituency_name="Hackney North and Stoke Newington",
                is_current=True,
                email="diane.abbott.office@parliament.uk",
                contact_refreshed_at=now,
                refreshed_at=now,
            )
        )
        session.flush()
        session.add(
            CachedConstituency(
                id=4074, name="Hackney North and Stoke Newington", member_id=172, refreshed_at=now
            )
        )
        session.commit()


@contextmanager
def running_site(directory: Path) -> Iterator[tuple[str, Path]]:
    web_port, smtp_port = free_port(), free_port()
    mail_directory = directory / "mail"
    app = create_app(
        {
            "secret_key": "browser-check-secret-key-0123456789",
            "database_url": f"sqlite:///{directory / 'browser.sqlite3'}",
            "public_url": f"http://127.0.0.1:{web_port}",
            "smtp_host": "127.0.0.1",
            "smtp_port": smtp_port,
            "mail_from": "Free Tibet <campaigns@freetibet.example>",
            "ratelimit_enabled": False,
            "log_level": "WARNING",
        }
    )
    seed(app.extensions["mp_mailer.engine"], app.extensions["mp_mailer.session_factory"])
    sink = start_sink("127.0.0.1", smtp_port, mail_directory)
    server = make_server("127.0.0.1", web_port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{web_port}", mail_directory
    finally:
        server.shutdown()
        sink.stop()
        app.extensions["mp_mailer.engine"].dispose()


class Journey:
    def __init__(self, page: Page, base_url: str, out: Path) -> None:
        self.page = page
        self.base_url = base_url
        self.out = out
        self.step = 0

    def shot(self, name: str) -> None:
        self.step += 1
        path = self.out / f"{self.step:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        print(f"saved {path}")

    def go(self, path: str) -> None:
        self.page.goto(self.base_url + path)

    def log_in(self, email: str) -> None:
        self.go("/login")
        self.page.get_by_label("Email address").fill(email)
        self.page.get_by_label("Password").fill(PASSWORD)
        self.page.get_by_role("button", name="Log in").click()

    def log_out(self) -> None:
        self.page.get_by_role("button", name="Log out").click()


def campaigner_journey(journey: Journey, mail_directory: Path) -> None:
    page = journey.page
    journey.go("/login")
    journey.shot("login")
    journey.log_in(CAMPAIGNER)
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    journey.shot("campaign-list")

    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Title").fill("Free Tenzin Delek")
    page.get_by_label("Web address").fill("Free Tenzin!")
    page.get_by_label("Introduction").fill(
        "**Tenzin Delek** has been detained for ten years.\n\nAsk your MP to raise his case."
    )
    page.get_by_label("Petition link for supporters outside the UK").fill("javascript:alert(1)")
    page.get_by_role("button", name="Save and write the letter").click()
    expect(page.locator(".error-summary")).to_be_visible()
    journey.shot("new-campaign-errors")

    page.get_by_label("Web address").fill("free-tenzin")
    page.get_by_label("Petition link for supporters outside the UK").fill(
        "https://freetibet.org/petition/tenzin"
    )
    page.get_by_role("button", name="Save and write the letter").click()
    expect(page.locator(".notice--success")).to_contain_text("saved as a draft")
    journey.shot("letter-editor-starter")

    page.get_by_label("Subject").fill("Please raise Tenzin Delek's case, {{ mp.address_as }}")
    page.locator("#body_template").fill(LETTER + "\n{{ supporter.name }}")
    page.get_by_role("button", name="Save as version 2").click()
    expect(page.locator(".error-summary")).to_contain_text("no variable called 'supporter'")
    journey.shot("letter-editor-refused")

    page.locator("#body_template").fill(LETTER)
    page.get_by_label("What changed (optional)").fill("first real letter")
    page.get_by_role("button", name="Check and preview, without saving").click()
    expect(page.locator(".email-preview")).to_be_visible()
    journey.shot("letter-editor-unsaved-preview")
    page.get_by_role("button", name="Save as version 2").click()
    expect(page.locator(".notice--success")).to_contain_text("Saved version 2")
    journey.shot("campaign-overview-draft")

    page.get_by_role("link", name="Preview and send a test").click()
    page.get_by_label("MP's name or constituency").fill("abbott")
    page.get_by_role("button", name="Search MPs").click()
    expect(page.locator(".email-preview")).to_contain_text("To: Ms Diane Abbott")
    journey.shot("preview")

    page.get_by_role("button", name="Send a test to me").click()
    expect(page.locator(".notice--success")).to_contain_text(f"sent to {CAMPAIGNER}")
    journey.shot("preview-test-sent")
    check_test_email(mail_directory)

    page.get_by_role("link", name="Overview").click()
    page.get_by_role("button", name="Put live").click()
    expect(page.locator(".notice--success")).to_contain_text("The campaign is live")
    journey.shot("campaign-overview-live")
    journey.go("/c/free-tenzin")
    journey.shot("public-page-live")

    journey.go("/admin/campaigns/")
    page.get_by_role("link", name="Free Tenzin Delek").click()
    page.get_by_role("button", name="Close the campaign").click()
    expect(page.locator(".notice--success")).to_contain_text("closed")
    journey.shot("campaign-overview-closed")
    journey.go("/c/free-tenzin")
    expect(page.get_by_role("heading", name="This campaign has closed")).to_be_visible()
    journey.shot("public-page-closed")

    journey.go("/admin/campaigns/")
    page.get_by_role("link", name="Free Tenzin Delek").click()
    page.get_by_role("link", name="History").click()
    journey.shot("history")
    page.get_by_role("button", name="Compare").click()
    journey.shot("compare")
    journey.go("/admin/campaigns/")
    page.get_by_role("link", name="Free Tenzin Delek").click()
    page.get_by_role("link", name="Settings", exact=True).click()
    journey.shot("settings")
    journey.log_out()


def check_test_email(mail_directory: Path) -> None:
    [saved] = sorted(mail_directory.glob("*.eml"))
    message = message_from_bytes(saved.read_bytes(), policy=policy.default)
    assert message["X-Envelope-To"] == f"<{CAMPAIGNER}>", message["X-Envelope-To"]
    assert str(message["Subject"]).startswith("[Test] "), message["Subject"]
    print(f"test email reached only {message['X-Envelope-To']}: {message['Subject']}")


def admin_journey(journey: Journey) -> None:
    page = journey.page
    journey.log_in(ADMIN)
    page.get_by_role("link", name="Users").click()
    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("Email address").fill("new.staff@freetibet.example")
    page.get_by_role("radio", name="Staff").check()
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".error-summary")).to_be_visible()
    journey.shot("add-user-errors")
    page.get_by_label("Initial password").fill("a long enough password")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".notice--success")).to_contain_text("Added")
    journey.shot("users")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent.parent / "screenshots")
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    with (
        tempfile.TemporaryDirectory() as directory,
        running_site(Path(directory)) as (base_url, mail_directory),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(executable_path=arguments.chromium, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        journey = Journey(page, base_url, arguments.out)
        campaigner_journey(journey, mail_directory)
        admin_journey(journey)
        browser.close()


if __name__ == "__main__":
    main()
