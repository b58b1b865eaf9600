"""Reading pages as a person sees them, and requesting them by endpoint name.

`ClientRequest` follows GOV.UK Notify admin's `client_request`: URLs come from `url_for`, and the
status code and page title are checked in one place, so a test states only what it is about."""

from __future__ import annotations

import functools
import html
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from bs4 import BeautifulSoup
from flask import Flask, url_for
from flask.testing import FlaskClient
from werkzeug.routing import MapAdapter
from werkzeug.test import TestResponse

from mp_mailer import register_blueprints
from tests.factories import TEST_PASSWORD

_CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"')
# The site's name follows the page's own title in <title>: "Send log · Free Tibet".
TITLE_SEPARATOR = " · "


@functools.cache
def _routes() -> MapAdapter:
    routing_only = Flask("mp_mailer")
    register_blueprints(routing_only)
    return routing_only.url_map.bind("localhost")


def route_arguments(endpoint: str) -> set[str]:
    """The names of the values an endpoint's URL takes, e.g. {"campaign_id"}."""
    rule = next(rule for rule in _routes().map.iter_rules() if rule.endpoint == endpoint)
    return set(rule.arguments)


def path_for(endpoint: str, **values: Any) -> str:
    """The path of a page by endpoint name, built from the app's URL map as url_for builds it,
    with no app context needed; other values become the query string, in the order given."""
    return _routes().build(endpoint, {k: v for k, v in values.items() if v is not None})


def soup(response: TestResponse) -> BeautifulSoup:
    return BeautifulSoup(response.data, "html.parser")


def normalised(text: str) -> str:
    return " ".join(text.split())


def text_of(response: TestResponse, selector: str) -> str:
    """The text of the first element matching `selector`, spaces normalised; "" if none."""
    element = soup(response).select_one(selector)
    return normalised(element.get_text(" ")) if element else ""


def page_errors(response: TestResponse) -> str:
    return text_of(response, ".error-summary")


def flash_text(response: TestResponse) -> str:
    return text_of(response, ".flash-messages")


def page_source(response: TestResponse) -> str:
    """The page as text, entities decoded, tags kept: enough to find values and links."""
    return html.unescape(response.data.decode())


def page_title(response: TestResponse) -> str:
    """The page's own part of <title>, without the site's name."""
    title = soup(response).select_one("title")
    assert title is not None, "the page has no <title>"
    return normalised(title.get_text()).split(TITLE_SEPARATOR)[0]


def csrf_token_from(page: bytes | str) -> str:
    source = page.decode() if isinstance(page, bytes) else page
    match = _CSRF_INPUT.search(source)
    assert match, "the page has no CSRF token"
    return match.group(1)


def post_with_token(
    client: FlaskClient, url: str, data: dict[str, Any], page_url: str | None = None, **kwargs: Any
) -> TestResponse:
    """POST a form as a browser would: first GET the page it is on, for its CSRF token."""
    page = client.get(page_url or url)
    return client.post(url, data={"csrf_token": csrf_token_from(page.data), **data}, **kwargs)


def log_in(client: FlaskClient, email: str, password: str = TEST_PASSWORD) -> TestResponse:
    return post_with_token(client, "/login", {"email": email, "password": password})


@dataclass
class ClientRequest:
    app: Flask
    client: FlaskClient

    def url(self, endpoint: str, **values: Any) -> str:
        with self.app.test_request_context():
            return url_for(endpoint, **values)

    def get(
        self,
        endpoint: str,
        *,
        _expected_status: int = 200,
        _expected_title: str | None = None,
        _follow_redirects: bool = False,
        **values: Any,
    ) -> Page:
        """GET a page; checks its status, and on an HTML page its title."""
        response = self.client.get(self.url(endpoint, **values), follow_redirects=_follow_redirects)
        return Page.checked(response, _expected_status, _expected_title)

    def post(
        self,
        endpoint: str,
        *,
        _data: dict[str, Any] | None = None,
        _expected_status: int = 302,
        _expected_redirect: str | None = None,
        _page: str | None = None,
        _follow_redirects: bool = False,
        **values: Any,
    ) -> Page:
        """POST a form with the CSRF token of the page it is on (`_page`, else the same URL)."""
        url = self.url(endpoint, **values)
        response = post_with_token(
            self.client,
            url,
            _data or {},
            page_url=_page,
            follow_redirects=_follow_redirects,
        )
        page = Page.checked(response, _expected_status, None)
        if _expected_redirect is not None:
            assert page.location == _expected_redirect
        return page


@dataclass
class Page:
    response: TestResponse

    @classmethod
    def checked(cls, response: TestResponse, status: int, title: str | None) -> Page:
        assert response.status_code == status, (
            f"expected {status}, got {response.status_code}: {response.data[:500]!r}"
        )
        page = cls(response)
        if response.mimetype == "text/html" and status == 200:
            page.check_title(title)
        return page

    def check_title(self, expected: str | None) -> None:
        # As on GOV.UK: a page that shows an error summary says so first in its title.
        title = page_title(self.response)
        assert title, "the page's <title> is empty"
        if self.errors:
            assert title.startswith("Error: "), f"an error page's title is {title!r}"
        if expected is not None:
            assert title == expected

    @cached_property
    def soup(self) -> BeautifulSoup:
        return soup(self.response)

    def text(self, selector: str) -> str:
        return text_of(self.response, selector)

    @property
    def title(self) -> str:
        return page_title(self.response)

    @property
    def errors(self) -> str:
        return page_errors(self.response)

    @property
    def flash(self) -> str:
        return flash_text(self.response)

    @property
    def source(self) -> str:
        return page_source(self.response)

    @property
    def location(self) -> str | None:
        return self.response.headers.get("Location")
