"""The supporter's whole journey in Chromium, on a desktop and a phone: find the MP, write,
confirm from the emailed link, thank you; every page and error state audited by axe-core."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import update
from sqlalchemy.orm import Session

from mp_mailer.models import Campaign
from mp_mailer.services.seed import BAN_CHEN_SLUG, seed_first_campaign
from tests.browser.live_site import (
    DESKTOP,
    PHONE,
    LiveSite,
    Shots,
    audit,
    focused_class,
    has_no_sideways_scroll,
    live_site,
)

MP_ADDRESS = "diane.abbott.office@parliament.uk"


def seed(session: Session) -> None:
    seed_first_campaign(session)
    session.execute(
        update(Campaign).where(Campaign.slug == BAN_CHEN_SLUG).values(target_letters=1000)
    )
    session.commit()


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveSite]:
    with live_site(tmp_path_factory.mktemp("supporter-site"), seed) as running:
        yield running


@pytest.mark.parametrize(
    ("viewport", "supporter"),
    [(DESKTOP, "desktop@example.org"), (PHONE, "phone@example.org")],
    ids=["desktop", "phone"],
)
def test_supporter_writes_confirms_and_sends_a_letter_when_using_a_browser(
    site: LiveSite, new_page: Page, screenshots: Path, viewport: dict[str, int], supporter: str
) -> None:
    page = new_page
    page.set_viewport_size(viewport)
    device = "desktop" if viewport == DESKTOP else "phone"
    shot = Shots(page, screenshots, f"supporter-{device}")

    page.goto(site.url("/"))
    expect(page).to_have_title("Ban Chen Quanguo · Free Tibet")
    assert has_no_sideways_scroll(page)
    audit(page, f"{device}: campaign page")
    shot("01-campaign")

    page.get_by_label("Your postcode").fill("not a postcode")
    page.get_by_role("button", name="Find my MP").click()
    expect(page.locator(".error-summary")).to_contain_text("Enter a full UK postcode")
    expect(page).to_have_title(re.compile(r"^Error: "))
    assert "error-summary" in focused_class(page), "focus did not move to the error summary"
    audit(page, f"{device}: campaign page, postcode refused")
    shot("02-postcode-error")

    page.get_by_label("Your postcode").fill("JE2 3AB")
    page.get_by_role("button", name="Find my MP").click()
    expect(page.locator(".outside-uk--highlight")).to_be_visible()
    audit(page, f"{device}: campaign page, no Westminster MP")

    # Keyboard only: the postcode typed in lower case, then Enter.
    page.get_by_label("Your postcode").fill("")
    page.get_by_label("Your postcode").press_sequentially("sw1a1aa")
    page.keyboard.press("Enter")
    expect(page.locator(".mp-card")).to_contain_text("Diane Abbott")
    expect(page.locator(".hero__title")).to_have_text("Ban Chen Quanguo")
    assert has_no_sideways_scroll(page)
    audit(page, f"{device}: letter page")
    shot("03-letter")

    send = page.get_by_role("button", name="Email me the confirmation link")
    send.click()
    expect(page.locator(".error-summary")).to_contain_text("Enter your full name")
    assert "error-summary" in focused_class(page)
    audit(page, f"{device}: letter page, details missing")
    shot("04-letter-errors")

    page.get_by_label("Full name").fill("Jane Doe")
    page.get_by_label("Email address").fill(supporter)
    page.get_by_label("Postal address").fill("1 Example Road\nLondon")
    page.get_by_role("button", name="Email me the confirmation link").click()
    expect(page.get_by_role("heading", name="Check your inbox")).to_be_visible()
    audit(page, f"{device}: check your inbox")
    shot("05-check-inbox")

    confirmation = site.wait_for_mail(lambda m: supporter in str(m["To"]))
    assert str(confirmation["From"]) == "Free Tibet <campaigns@freetibet.example>"
    link = re.search(r"http://\S+/confirm/\S+", confirmation.get_content())
    assert link, "no confirmation link in the email"
    page.goto(link.group(0))
    audit(page, f"{device}: confirm page")
    shot("06-confirm")

    page.get_by_role("button", name="Send my letter").click()
    expect(page.locator(".panel--success")).to_contain_text("your letter is on its way")
    expect(page.locator(".next-ask")).to_contain_text("Sign the petition")
    audit(page, f"{device}: thank-you page")
    shot("07-thank-you")

    letter = site.wait_for_mail(
        lambda m: MP_ADDRESS in str(m["To"]) and supporter in str(m["Reply-To"])
    )
    assert str(letter["From"]) == "Jane Doe via Free Tibet <campaigns@freetibet.example>"


def test_letter_page_updates_the_own_words_hint_after_a_pause_in_typing_when_script_runs(
    site: LiveSite, new_page: Page, screenshots: Path
) -> None:
    page = new_page
    page.goto(site.url(f"/c/{BAN_CHEN_SLUG}/letter?postcode=SW1A+1AA"))
    hint = page.locator("#personal-touch")
    expect(hint).to_have_text(re.compile(r"^Your letter is the campaign's text as it stands"))

    page.get_by_label("Your letter").press("End")
    page.get_by_label("Your letter").press_sequentially(
        "\n\nMy grandmother fled Lhasa in 1959 and never saw her brothers again."
    )

    expect(hint).to_have_text(
        re.compile(r"^About \d+% of this letter is in your own words \(1 sentence of your own\)")
    )
    expect(hint).to_have_attribute("aria-live", "polite")
    audit(page, "letter page, own-words hint updated")
    hint.scroll_into_view_if_needed()
    page.screenshot(path=str(screenshots / "supporter-desktop-08-own-words-hint.jpg"), type="jpeg")


def test_thank_you_page_copy_button_copies_the_campaign_link_when_script_runs(
    site: LiveSite, new_page: Page
) -> None:
    page = new_page
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site.base_url)
    page.goto(site.url(f"/c/{BAN_CHEN_SLUG}/thanks"))

    page.get_by_role("button", name="Copy link").click()

    expect(page.locator("#copy-status")).to_have_text("Link copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == site.url(f"/c/{BAN_CHEN_SLUG}")


def test_thank_you_page_shows_the_link_but_no_copy_button_when_script_is_off(
    site: LiveSite, new_page: Page
) -> None:
    context = new_page.context.browser.new_context(java_script_enabled=False)  # type: ignore[union-attr]
    page = context.new_page()
    page.goto(site.url(f"/c/{BAN_CHEN_SLUG}/thanks"))

    expect(page.locator("#campaign-link")).to_have_value(site.url(f"/c/{BAN_CHEN_SLUG}"))
    expect(page.get_by_role("button", name="Copy link")).to_be_hidden()
    context.close()


def test_embed_works_inside_another_sites_frame_and_opens_the_letter_unframed(
    site: LiveSite, new_page: Page, screenshots: Path
) -> None:
    page = new_page
    # The campaign's own page, answered by the browser itself: frame-ancestors * admits any
    # http(s) page but not about:blank, and this Chromium will not let a page from another
    # origin frame a loopback address, so the stand-in lives at an unused path on the site's
    # own origin. The headers other origins see are checked in tests/views/test_embed.py.
    parent = site.url("/campaign-site-stand-in")
    html = (
        f'<h1>Free Tibet</h1><iframe src="{site.url(f"/c/{BAN_CHEN_SLUG}/embed")}" '
        'title="Write to your MP" width="600" height="460"></iframe>'
    )
    page.route(parent, lambda route: route.fulfill(body=html, content_type="text/html"))
    page.goto(parent)
    frame = page.frame_locator("iframe")
    expect(frame.locator(".hero__title")).to_have_text("Ban Chen Quanguo")
    Shots(page, screenshots, "embed")("01-in-a-frame")

    frame.get_by_label("Your postcode").fill("SW1A 1AA")
    frame.get_by_role("button", name="Find my MP").click()

    page.wait_for_url(re.compile(r"/c/ban-chen-quanguo/letter\?postcode="))
    expect(page.locator(".mp-card")).to_contain_text("Diane Abbott")


def test_embed_page_passes_the_audit_when_opened_on_its_own(site: LiveSite, new_page: Page) -> None:
    new_page.goto(site.url(f"/c/{BAN_CHEN_SLUG}/embed"))

    audit(new_page, "embed page")


@pytest.mark.parametrize(
    ("path", "state"),
    [
        ("/no-such-page", "404 page"),
        ("/confirm/not-a-token", "confirmation link problem"),
        ("/c/no-such-campaign", "unknown campaign"),
    ],
)
def test_error_pages_pass_the_audit_and_say_error_first_when_shown(
    site: LiveSite, new_page: Page, path: str, state: str
) -> None:
    new_page.goto(site.url(path))

    audit(new_page, state)
    assert new_page.title().startswith(("Error: ", "There is a problem"))
