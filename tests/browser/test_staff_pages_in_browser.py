"""Staff in Chromium: the campaigner creates, previews, test-sends and publishes a campaign; staff
follow letters in the send log; an admin manages users. Every staff page audited by axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.demo.seeding import seed_demo
from mp_mailer.models import UserRole
from mp_mailer.services.users import create_user
from tests.browser.live_site import (
    PASSWORD,
    PHONE,
    LiveSite,
    Shots,
    audit,
    cells_cut_off,
    has_no_sideways_scroll,
    live_site,
)

CAMPAIGNER = "campaigner@freetibet.example"
STAFF = "staff@freetibet.example"
ADMIN = "admin@freetibet.example"
LETTER = """\
Dear {{ mp.address_as }},

I am writing as a constituent in {{ constituency }}. Tenzin Delek has been held without a fair \
trial for ten years. Please ask the Foreign Secretary to raise his case, and tell me the reply.
"""


def seed(session: Session) -> None:
    # Demo letters and 650 made-up MPs (previews search MPs by name), and the first campaign.
    seed_demo(session, 300, utcnow())
    for email, role in ((CAMPAIGNER, UserRole.CAMPAIGNER), (STAFF, UserRole.STAFF)):
        create_user(session, email, PASSWORD, role)
    create_user(session, ADMIN, PASSWORD, UserRole.ADMIN)


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with live_site(tmp_path_factory.mktemp("staff-site"), seed) as running:
        yield running


def log_in(page: Page, site: LiveSite, email: str) -> None:
    page.goto(site.url("/login"))
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def test_campaigner_creates_previews_test_sends_and_publishes_a_campaign_in_a_browser(
    site: LiveSite, new_page: Page, screenshots: Path
) -> None:
    page = new_page
    shot = Shots(page, screenshots, "campaigner")
    page.goto(site.url("/login"))
    audit(page, "login page")
    shot("01-login")
    log_in(page, site, CAMPAIGNER)
    expect(page.get_by_role("heading", name="Campaigns")).to_be_visible()
    audit(page, "campaigns list")
    shot("02-campaigns")

    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Title").fill("Free Tenzin Delek")
    page.get_by_label("Web address").fill("Free Tenzin!")
    page.get_by_label("Introduction").fill("**Tenzin Delek** has been detained for ten years.")
    page.get_by_role("button", name="Save and write the letter").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit(page, "new campaign, refused")
    shot("03-new-campaign-errors")

    page.get_by_label("Web address").fill("free-tenzin")
    page.get_by_role("button", name="Save and write the letter").click()
    expect(page.locator(".notice--success")).to_contain_text("saved as a draft")
    audit(page, "letter editor")

    page.get_by_label("Subject").fill("Please raise Tenzin Delek's case, {{ mp.address_as }}")
    page.locator("#body_template").fill(LETTER + "\n{{ supporter.name }}")
    page.get_by_role("button", name="Save as version 2").click()
    expect(page.locator(".error-summary")).to_contain_text("no variable called 'supporter'")
    audit(page, "letter editor, template refused")
    shot("04-letter-refused")
    page.locator("#body_template").fill(LETTER)
    page.get_by_role("button", name="Save as version 2").click()
    expect(page.locator(".notice--success")).to_contain_text("Saved version 2")
    audit(page, "campaign overview, draft")

    page.get_by_role("link", name="Preview and test").click()
    audit(page, "preview, no MP chosen")
    page.get_by_role("textbox", name="Postcode").fill("SW1A 1AA")
    page.get_by_role("button", name="Find their MP").click()
    expect(page.locator(".email-preview")).to_contain_text("Diane Abbott")
    audit(page, "preview for an MP")
    shot("05-preview")
    page.get_by_role("button", name="Send a test to me").click()
    expect(page.locator(".notice--success")).to_contain_text(f"sent to {CAMPAIGNER}")
    test_email = site.wait_for_mail(lambda m: CAMPAIGNER in str(m["X-Envelope-To"]))
    assert str(test_email["Subject"]).startswith("[Test] ")

    page.get_by_role("link", name="Settings", exact=True).click()
    page.get_by_label("Letters target").fill("500")
    page.get_by_label("Next ask: button words").fill("Donate to Free Tibet")
    page.get_by_label("Next ask: link").fill("https://freetibet.org/donate")
    audit(page, "campaign settings")
    shot("06-settings")
    page.get_by_role("button", name="Save settings").click()
    page.get_by_role("link", name="Overview").click()
    expect(page.locator("#embed-snippet")).to_contain_text("/c/free-tenzin/embed")
    page.get_by_role("button", name="Put live").click()
    expect(page.locator(".notice--success")).to_contain_text("The campaign is live")
    audit(page, "campaign overview, live")
    shot("07-live")

    page.goto(site.url("/c/free-tenzin"))
    expect(page.get_by_role("heading", name="Free Tenzin Delek")).to_be_visible()
    shot("08-public-page")

    page.goto(site.url("/admin/campaigns/"))
    page.get_by_role("link", name="Free Tenzin Delek").click()
    page.get_by_role("link", name="History").click()
    audit(page, "template history")
    page.get_by_role("button", name="Compare").click()
    audit(page, "template comparison")


def test_campaigns_list_fits_a_phone_without_sideways_scrolling(
    site: LiveSite, new_page: Page, screenshots: Path
) -> None:
    new_page.set_viewport_size(PHONE)
    log_in(new_page, site, CAMPAIGNER)

    new_page.goto(site.url("/admin/campaigns/"))

    assert has_no_sideways_scroll(new_page)
    assert cells_cut_off(new_page, "table.data-table") == 0
    audit(new_page, "phone: campaigns list")
    Shots(new_page, screenshots, "campaigner-phone")("01-campaigns")


def test_staff_follow_letters_in_the_send_log_in_a_browser(
    site: LiveSite, new_page: Page, screenshots: Path
) -> None:
    page = new_page
    shot = Shots(page, screenshots, "send-log")
    page.goto(site.url("/admin/letters/"))
    assert "/login" in page.url, "the send log is open without logging in"
    log_in(page, site, STAFF)
    page.wait_for_url("**/admin/letters/")
    audit(page, "send log")
    shot("01-list")

    page.locator("#filter-status").select_option("failed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url(re.compile("status=failed"))
    audit(page, "send log, filtered")
    page.locator("table.log-table tbody th a").first.click()
    expect(page.locator("#attempts-title")).to_be_visible()
    audit(page, "letter detail")
    shot("02-letter")

    page.goto(site.url("/admin/letters/?sent_from=not-a-date"))
    audit(page, "send log, bad filter")
    for path, state in (
        ("/admin/letters/figures", "figures"),
        ("/admin/letters/mps", "MPs written to"),
        ("/admin/letters/exports", "export history"),
    ):
        page.goto(site.url(path))
        audit(page, state)
    shot("03-exports")
    page.goto(site.url("/admin/letters/figures"))
    shot("04-figures")

    page.set_viewport_size(PHONE)
    page.goto(site.url("/admin/letters/"))
    audit(page, "phone: send log")
    shot("05-phone")


def test_admin_adds_a_user_in_a_browser(site: LiveSite, new_page: Page, screenshots: Path) -> None:
    page = new_page
    log_in(page, site, ADMIN)
    page.get_by_role("link", name="Users").click()
    audit(page, "users")
    page.get_by_role("link", name="Add a user").click()
    page.get_by_label("Email address").fill("new.staff@freetibet.example")
    page.get_by_role("radio", name="Staff").check()
    page.get_by_label("Initial password").fill("short")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".error-summary")).to_be_visible()
    audit(page, "add user, refused")
    page.get_by_label("Initial password").fill("a long enough password")
    page.get_by_role("button", name="Add user").click()
    expect(page.locator(".notice--success")).to_contain_text("Added")
    Shots(page, screenshots, "admin")("01-users")
