"""The reply tracker in Chromium: the supporter opens the "has your MP replied?" email's link,
answers and pastes the reply; staff and the public see the figures. Every page audited."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from email.message import EmailMessage
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import Campaign, ReplyCheck, UserRole
from mp_mailer.services.seed import seed_first_campaign
from mp_mailer.services.users import create_user
from tests.browser.live_site import PASSWORD, PHONE, LiveSite, Shots, audit, live_site
from tests.factories import create_sent_letter

STAFF = "staff@freetibet.example"


def seed(session: Session) -> None:
    seed_first_campaign(session)
    session.execute(update(Campaign).values(public_reply_figures=True))
    campaign = session.scalars(select(Campaign)).one()
    # Sent fifteen days ago: past REPLY_CHECK_DAYS (14), so the worker asks at once.
    create_sent_letter(session, campaign, sent_at=utcnow() - timedelta(days=15))
    create_user(session, STAFF, PASSWORD, UserRole.STAFF)
    session.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with live_site(tmp_path_factory.mktemp("replies-site"), seed) as running:
        yield running


def is_reply_check(message: EmailMessage) -> bool:
    return "replied to your letter?" in str(message["Subject"])


def answer_link(message: EmailMessage, answer: str) -> str:
    match = re.search(rf"https?://\S+/replies/\S+\?answer={answer}", message.get_content())
    assert match, f"no {answer} link in the email"
    return match.group(0)


def test_supporter_answers_the_reply_check_and_staff_and_public_see_it_in_a_browser(
    site: LiveSite, new_page: Page, screenshots: Path
) -> None:
    page = new_page
    shot = Shots(page, screenshots, "replies")
    message = site.wait_for_mail(is_reply_check)

    page.goto(answer_link(message, "yes"))
    expect(page.get_by_role("radio", name="Yes, they replied")).to_be_checked()
    audit(page, "reply answer")
    shot("01-answer")
    page.get_by_label("Their reply (optional)").fill("Thank you for writing. I have raised this.")
    page.get_by_role("button", name="Send my answer").click()
    expect(page.locator(".error-summary")).to_contain_text("Tick the box")
    audit(page, "reply answer, refused")
    page.get_by_label("Keep the text of the reply with my letter").check()
    page.get_by_role("button", name="Send my answer").click()
    page.wait_for_url("**/thanks")
    audit(page, "reply answered")
    shot("02-thanks")
    with site.session() as session:
        assert session.scalars(select(ReplyCheck.reply_text)).one() == (
            "Thank you for writing. I have raised this."
        )

    page.goto(site.url("/login"))
    page.get_by_label("Email address").fill(STAFF)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(site.url("/admin/letters/replies"))
    expect(page.locator("main")).to_contain_text("1 of 1")
    audit(page, "staff reply figures")
    shot("03-staff-figures")

    page.context.clear_cookies()
    page.goto(site.url("/c/ban-chen-quanguo/replies"))
    audit(page, "public reply figures")
    shot("04-public")
    page.set_viewport_size(PHONE)
    audit(page, "phone: public reply figures")
    shot("05-public-phone")
