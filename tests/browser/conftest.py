"""Fixtures for the browser tests: one headless Chromium per run, a page per viewport, and where
screenshots go (BROWSER_SCREENSHOTS, e.g. docs/screenshots via `make screenshots`; else a
temporary folder, so a test run leaves the repository as it was)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.live_site import AUDITS, AXE_SCRIPT, CHROMIUM, CHROMIUM_ARGS


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser/" in str(item.path).replace(os.sep, "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    # Missing pieces fail the run rather than skip it: CI must run these tests.
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: apt-get install chromium"
    assert AXE_SCRIPT.exists(), f"{AXE_SCRIPT} is missing: npm ci --prefix tests/browser"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if AUDITS.states:
        terminalreporter.write_line(
            f"axe-core: {len(AUDITS.states)} page states audited, 0 serious or critical "
            f"violations; minor or moderate ones seen: {AUDITS.minor or 'none'}"
        )


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Page]:
    """A page factory's product: a fresh context (no cookies) at the viewport the test sets."""
    # bypass_csp: the audit injects axe-core as an inline script, which the site's CSP refuses.
    # The site's own script is a file from the same origin, which the CSP allows anyway.
    context = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="en-GB", bypass_csp=True
    )
    context.set_default_timeout(10_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chosen = os.environ.get("BROWSER_SCREENSHOTS")
    directory = Path(chosen) if chosen else tmp_path_factory.mktemp("screenshots")
    directory.mkdir(parents=True, exist_ok=True)
    return directory
