"""Staff login and logout, session cookies, the login rate limit, and who may open which page."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from mp_mailer.models import UserRole
from tests.factories import TEST_PASSWORD, create_user
from tests.pages import (
    ClientRequest,
    csrf_token_from,
    log_in,
    page_errors,
    path_for,
    post_with_token,
    text_of,
)

CAMPAIGN_ROUTES = [
    ("GET", "/admin/campaigns/"),
    ("GET", "/admin/campaigns/new"),
    ("POST", "/admin/campaigns/new"),
    ("GET", "/admin/campaigns/1"),
    ("GET", "/admin/campaigns/1/edit"),
    ("POST", "/admin/campaigns/1/edit"),
    ("POST", "/admin/campaigns/1/status"),
    ("GET", "/admin/campaigns/1/letter"),
    ("POST", "/admin/campaigns/1/letter"),
    ("GET", "/admin/campaigns/1/preview"),
    ("POST", "/admin/campaigns/1/preview/test-send"),
    ("GET", "/admin/campaigns/1/versions"),
    ("GET", "/admin/campaigns/1/versions/1"),
    ("GET", "/admin/campaigns/1/versions/compare"),
    ("POST", "/admin/campaigns/1/versions/1/roll-back"),
]
USER_ROUTES = [
    ("GET", "/admin/users/"),
    ("GET", "/admin/users/new"),
    ("POST", "/admin/users/new"),
    ("POST", "/admin/users/1/role"),
    ("POST", "/admin/users/1/disable"),
    ("POST", "/admin/users/1/enable"),
]
ADMIN_BLUEPRINTS = ("campaigns", "users")


def session_cookie(response: Any) -> str:
    cookies = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert len(cookies) == 1, "no session cookie was set"
    return str(cookies[0])


def request_as_browser(client: FlaskClient, method: str, url: str) -> Any:
    """GET, or POST with a valid CSRF token, so only the permission check can refuse it."""
    if method == "GET":
        return client.get(url)
    return post_with_token(client, url, {}, page_url=path_for("auth.login"))


def test_every_admin_route_is_in_the_permission_tables(app: Flask) -> None:
    routes = {
        (method, re.sub(r"<[^>]+>", "1", rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.endpoint.split(".")[0] in ADMIN_BLUEPRINTS
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }

    assert routes == set(CAMPAIGN_ROUTES + USER_ROUTES)


def test_every_admin_view_is_wrapped_by_role_required(app: Flask) -> None:
    unprotected = [
        endpoint
        for endpoint, view in app.view_functions.items()
        if endpoint.split(".")[0] in ADMIN_BLUEPRINTS and not hasattr(view, "required_roles")
    ]

    assert unprotected == []


@pytest.mark.parametrize(("method", "url"), CAMPAIGN_ROUTES + USER_ROUTES)
def test_admin_route_redirects_to_login_when_anonymous(
    client: FlaskClient, method: str, url: str
) -> None:
    response = request_as_browser(client, method, url)

    assert response.status_code == 302
    assert response.headers["Location"].startswith(path_for("auth.login") + "?next=")


@pytest.mark.parametrize(("method", "url"), CAMPAIGN_ROUTES + USER_ROUTES)
def test_admin_route_refuses_with_403_when_logged_in_as_staff(
    client: FlaskClient, login_as: Callable[..., Any], method: str, url: str
) -> None:
    login_as(UserRole.STAFF)

    response = request_as_browser(client, method, url)

    assert response.status_code == 403
    assert text_of(response, "h1") == "You can't see this page"


@pytest.mark.parametrize(("method", "url"), USER_ROUTES)
def test_user_route_refuses_with_403_when_logged_in_as_campaigner(
    client: FlaskClient, login_as: Callable[..., Any], method: str, url: str
) -> None:
    login_as(UserRole.CAMPAIGNER)

    response = request_as_browser(client, method, url)

    assert response.status_code == 403


def test_campaign_list_opens_when_logged_in_as_admin(
    client_request: ClientRequest, login_as: Callable[..., Any]
) -> None:
    login_as(UserRole.ADMIN)

    page = client_request.get("campaigns.list_campaigns")

    assert page.response.status_code == 200


def test_login_takes_a_campaigner_to_the_campaigns(
    client: FlaskClient, client_request: ClientRequest, db_session: Session
) -> None:
    create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)

    response = log_in(client, "Cam@Example.org")

    assert response.status_code == 302
    assert client.get(response.headers["Location"]).headers["Location"] == client_request.url(
        "campaigns.list_campaigns"
    )


def test_login_says_wrong_email_or_password_when_the_password_is_wrong(
    client: FlaskClient, db_session: Session
) -> None:
    create_user(db_session, email="cam@example.org")

    response = log_in(client, "cam@example.org", "not the password")

    assert response.status_code == 200
    assert page_errors(response) == "There is a problem Wrong email or password."


def test_login_gives_the_same_answer_when_the_email_is_unknown(client: FlaskClient) -> None:
    response = log_in(client, "nobody@example.org")

    assert page_errors(response) == "There is a problem Wrong email or password."


def test_login_gives_the_same_answer_when_the_account_is_disabled(
    client: FlaskClient, db_session: Session
) -> None:
    create_user(db_session, email="gone@example.org", is_active=False)

    response = log_in(client, "gone@example.org")

    assert page_errors(response) == "There is a problem Wrong email or password."
    assert client.get(path_for("campaigns.list_campaigns")).status_code == 302


def test_login_follows_a_next_path_on_this_site(client: FlaskClient, db_session: Session) -> None:
    create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)
    token = csrf_token_from(client.get(path_for("auth.login")).data)

    response = client.post(
        "/login?next=/admin/campaigns/new",
        data={"csrf_token": token, "email": "cam@example.org", "password": TEST_PASSWORD},
    )

    assert response.headers["Location"] == "/admin/campaigns/new"


@pytest.mark.parametrize(
    "next_url", ["https://evil.example/", "//evil.example/", "/\\evil.example", "javascript:x"]
)
def test_login_ignores_a_next_url_when_it_leaves_the_site(
    client: FlaskClient, db_session: Session, next_url: str
) -> None:
    create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)
    token = csrf_token_from(client.get(path_for("auth.login")).data)

    response = client.post(
        f"/login?next={next_url}",
        data={"csrf_token": token, "email": "cam@example.org", "password": TEST_PASSWORD},
    )

    assert response.headers["Location"] == path_for("auth.home")


def test_logout_ends_the_session(
    client_request: ClientRequest, login_as: Callable[..., Any]
) -> None:
    login_as(UserRole.CAMPAIGNER)

    page = client_request.post("auth.logout", _page=client_request.url("campaigns.list_campaigns"))

    assert page.location == client_request.url("auth.login")
    client_request.get("campaigns.list_campaigns", _expected_status=302)


def test_logout_refuses_a_post_without_a_csrf_token(
    client: FlaskClient, client_request: ClientRequest, login_as: Callable[..., Any]
) -> None:
    login_as(UserRole.CAMPAIGNER)

    response = client.post(client_request.url("auth.logout"))

    assert response.status_code == 400
    client_request.get("campaigns.list_campaigns", _expected_status=200)


@pytest.mark.parametrize("app_settings", [{"ratelimit_enabled": True}])
def test_login_is_rate_limited_when_attempts_come_too_fast(client: FlaskClient) -> None:
    token = csrf_token_from(client.get(path_for("auth.login")).data)
    attempt = {"csrf_token": token, "email": "a@example.org", "password": "guess"}
    answers = [client.post(path_for("auth.login"), data=attempt).status_code for _ in range(11)]

    assert answers == [200] * 10 + [429]


@pytest.mark.parametrize("app_settings", [{"public_url": "https://write.example.org"}])
def test_session_cookie_is_secure_httponly_and_lax_when_served_over_https(
    client: FlaskClient,
) -> None:
    response = client.get(path_for("auth.login"))

    cookie = session_cookie(response)
    assert "; Secure" in cookie
    assert "; HttpOnly" in cookie
    assert "; SameSite=Lax" in cookie


def test_session_cookie_is_httponly_and_lax_but_not_secure_when_served_over_http(
    client: FlaskClient,
) -> None:
    response = client.get(path_for("auth.login"))

    cookie = session_cookie(response)
    assert "; HttpOnly" in cookie
    assert "; SameSite=Lax" in cookie
    assert "Secure" not in cookie
