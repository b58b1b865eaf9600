"""Security headers: on every response, framing refused unless a view opts in, no-store on
staff pages, HSTS only over https."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from mp_mailer.models import UserRole
from mp_mailer.views.framing import frameable
from tests.conftest import app_overrides
from tests.pages import path_for


@pytest.mark.parametrize(
    "url",
    ["/", "/c/ban-chen-quanguo", "/login", "/no-such-page", "/static/site.css", "/privacy"],
)
def test_security_headers_are_on_every_response_when_anonymous(
    seeded_client: FlaskClient, url: str
) -> None:
    response = seeded_client.get(url)
    response.close()

    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("script-src", 1)[1].split(";")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_security_headers_leave_out_hsts_when_public_url_is_http(
    seeded_client: FlaskClient,
) -> None:
    assert "Strict-Transport-Security" not in seeded_client.get("/").headers


def test_security_headers_send_hsts_when_public_url_is_https(
    database_url: str, smtp_server: Any
) -> None:
    app = create_https_app(database_url, smtp_server)

    response = app.test_client().get("/login", base_url="https://campaign.example")

    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def create_https_app(database_url: str, smtp_server: Any) -> Flask:
    from mp_mailer import create_app

    return create_app(
        app_overrides(database_url, smtp_server, public_url="https://campaign.example")
    )


def test_staff_pages_are_not_stored_when_they_show_personal_data(
    seeded_client: FlaskClient, login_as: Callable[..., Any]
) -> None:
    login_as(UserRole.STAFF)

    response = seeded_client.get(path_for("send_log.list_letters"))

    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"


def test_campaign_page_may_be_cached_when_anonymous(seeded_client: FlaskClient) -> None:
    assert "no-store" not in seeded_client.get("/").headers.get("Cache-Control", "")


def test_frameable_view_may_be_framed_when_it_opts_in(app: Flask) -> None:
    @app.get("/embed-test")
    @frameable
    def embed_test() -> str:
        return "embedded"

    response = app.test_client().get("/embed-test")

    assert "frame-ancestors *" in response.headers["Content-Security-Policy"]
    assert "X-Frame-Options" not in response.headers
