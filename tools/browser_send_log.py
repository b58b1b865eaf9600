"""Use the staff send log in headless Chromium as a new staff member would, saving screenshots.

    .venv/bin/python tools/browser_send_log.py [--out screenshots] [--letters 3000]

Seeds a temporary database with `mp-mailer seed-demo`, adds a staff account with
`mp-mailer create-user`, starts `mp-mailer run`, then logs in and visits the log (plain,
filtered, by keyboard), a failed letter (and retries it), a sent one, the figures, the MPs,
a CSV download and the export history.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.browser_supporter import CHROMIUM_ARGS, free_port, wait_for  # noqa: E402

STAFF_EMAIL = "sam.staff@freetibet.example"
STAFF_PASSWORD = secrets.token_urlsafe(12)
MP_MAILER = str(ROOT / ".venv/bin/mp-mailer")


def prepare(environment: dict[str, str], letters: int) -> None:
    subprocess.run(
        [MP_MAILER, "seed-demo", "--yes", "--letters", str(letters)], env=environment, check=True
    )
    subprocess.run(
        [MP_MAILER, "create-user", STAFF_EMAIL, "--role", "staff", "--password-stdin"],
        input=STAFF_PASSWORD + "\n",
        text=True,
        env=environment,
        check=True,
    )


def shot(page: Page, out: Path, name: str) -> None:
    """The whole page, and what fits on the screen without scrolling."""
    page.screenshot(path=str(out / f"{name}.png"), full_page=True)
    page.screenshot(path=str(out / f"{name}-screen.png"))
    print(f"  screenshot {out / name}.png")


def walk(page: Page, base: str, out: Path) -> None:
    page.goto(base + "/admin/letters/")
    assert page.url.startswith(base + "/login"), "the log is open without logging in"
    page.fill("#email", STAFF_EMAIL)
    page.fill("#password", STAFF_PASSWORD)
    page.click("button:has-text('Log in')")
    page.wait_for_url("**/admin/letters/")
    shot(page, out, "send-log-01-list")

    # Keyboard only: Tab to the supporter search, type, press Enter.
    page.keyboard.press("Tab")  # skip link
    for _ in range(12):
        if page.evaluate("document.activeElement.id") == "filter-q":
            break
        page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "filter-q", "search not reachable by Tab"
    page.keyboard.type("smith")
    page.keyboard.press("Enter")
    page.wait_for_url("**q=smith**")
    assert page.locator("table.log-table tbody tr").count() > 0, "no Smiths found"
    shot(page, out, "send-log-02-search")

    page.fill("#filter-q", "")
    page.select_option("#filter-campaign", label="Ban Chen Quanguo")
    page.select_option("#filter-status", "failed")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**status=failed**")
    shot(page, out, "send-log-03-filtered")
    page.go_back()
    assert "status=failed" not in page.url, "the back button did not restore the filter"

    page.goto(base + "/admin/letters/?status=failed")
    page.locator("table.log-table tbody th a").first.click()
    page.wait_for_selector("#attempts-title")
    shot(page, out, "send-log-04-failed-letter")
    page.click("button:has-text('Retry sending')")
    page.wait_for_selector("text=The letter is queued to be sent again.")
    shot(page, out, "send-log-05-after-retry")

    page.goto(base + "/admin/letters/?status=sent")
    page.locator("table.log-table tbody th a").nth(3).click()
    page.wait_for_selector("text=The email as sent")
    shot(page, out, "send-log-06-sent-letter")

    page.goto(base + "/admin/letters/")
    page.click("a[rel=next]")
    page.wait_for_url("**before=**")
    shot(page, out, "send-log-07-older-page")

    page.goto(base + "/admin/letters/figures")
    shot(page, out, "send-log-08-figures")
    page.select_option("#figures-campaign", label="Free the Panchen Lama (demo)")
    page.select_option("#figures-period", "7")
    page.click("button:has-text('Show figures')")
    page.wait_for_url("**period=7**")
    shot(page, out, "send-log-09-figures-week")

    page.goto(base + "/admin/letters/mps?not_written=1")
    shot(page, out, "send-log-10-mps-not-written")
    page.goto(base + "/admin/letters/mps?sort=letters")
    shot(page, out, "send-log-11-mps-by-letters")

    page.goto(base + "/admin/letters/?status=failed")
    with page.expect_download() as download_info:
        page.click("text=Download these letters (CSV)")
    rows = list(csv.reader(io.StringIO(Path(download_info.value.path()).read_text("utf-8-sig"))))
    print(f"  downloaded {len(rows) - 1} failed letters, columns: {', '.join(rows[0])}")
    page.goto(base + "/admin/letters/exports")
    shot(page, out, "send-log-12-export-history")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(base + "/admin/letters/")
    shot(page, out, "send-log-13-mobile")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=ROOT / "screenshots")
    parser.add_argument("--letters", type=int, default=3000)
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        port = free_port()
        environment = {
            **os.environ,
            "SECRET_KEY": secrets.token_hex(16),
            "DATABASE_URL": f"sqlite:///{temporary}/mp_mailer.sqlite3",
            "PUBLIC_URL": f"http://127.0.0.1:{port}",
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(free_port()),
            "MAIL_FROM": "Free Tibet <campaigns@freetibet.example>",
            "SINK_DIRECTORY": str(Path(temporary) / "sent-mail"),
        }
        prepare(environment, arguments.letters)
        server = subprocess.Popen(
            [MP_MAILER, "run", "--port", str(port)], env=environment, cwd=temporary
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_for(base + "/")
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(
                    executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
                )
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                walk(page, base, arguments.out)
                browser.close()
        finally:
            server.terminate()
            server.wait(timeout=15)
    print("Send log walk-through passed in the browser.")


if __name__ == "__main__":
    main()
