"""Every staff route refuses an anonymous visitor, a forged, expired or revoked session and the
wrong role; every POST in the app refuses a request without its CSRF token."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mp_mailer import register_blueprints
from mp_mailer.db import utcnow
from mp_mailer.models import Letter, StaffSession, User, UserRole
from mp_mailer.views.identifiers import MAX_DATABASE_ID
from tests.factories import create_user
from tests.pages import log_in, path_for, post_with_token

STAFF_BLUEPRINTS = ("campaigns", "users", "send_log", "privacy_requests")
STAFF_ENDPOINTS = ("auth.change_password",)
SLUG = "ban-chen-quanguo"


def _routes(predicate: Callable[[str], bool]) -> list[tuple[str, str, str]]:
    return sorted(
        (method, re.sub(r"<[^>]+>", "1", rule.rule.replace("<slug>", SLUG)), rule.endpoint)
        for rule in _routing_only().url_map.iter_rules()
        if predicate(rule.endpoint)
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    )


def _routing_only() -> Flask:
    """The app's routes, with no settings or database needed (as tests.pages builds them)."""
    app = Flask("mp_mailer")
    register_blueprints(app)
    return app


def _is_staff(endpoint: str) -> bool:
    return endpoint.split(".")[0] in STAFF_BLUEPRINTS or endpoint in STAFF_ENDPOINTS


STAFF_ROUTES = _routes(_is_staff)
POST_ROUTES = [route for route in _routes(lambda _endpoint: True) if route[0] == "POST"]


def request_as_browser(client: FlaskClient, method: str, url: str) -> Any:
    if method == "GET":
        return client.get(url)
    return post_with_token(client, url, {}, page_url=path_for("auth.login"))


def assert_every_staff_route_sends_to_login(client: FlaskClient) -> None:
    for method, url, _endpoint in STAFF_ROUTES:
        response = request_as_browser(client, method, url)
        assert response.status_code == 302, f"{method} {url}"
        assert response.headers["Location"].startswith("/login"), f"{method} {url}"


def test_every_staff_route_sends_to_login_when_anonymous(client: FlaskClient) -> None:
    assert_every_staff_route_sends_to_login(client)


def test_every_staff_route_sends_to_login_when_the_cookie_is_forged(
    client: FlaskClient, db_session: Session
) -> None:
    admin = create_user(db_session, role=UserRole.ADMIN)
    forger = Flask("forger")
    forger.secret_key = "a-guessed-secret-key-0123456789abcdef"
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    client.set_cookie("session", serializer.dumps({"_user_id": str(admin.id), "_fresh": True}))

    assert_every_staff_route_sends_to_login(client)


def test_every_staff_route_sends_to_login_when_the_session_has_expired(
    client: FlaskClient, db_session: Session
) -> None:
    with freeze_time(utcnow()) as frozen:
        create_user(db_session, role=UserRole.ADMIN, email="admin@example.org")
        log_in(client, "admin@example.org")
        frozen.tick(8 * 3600 + 60)

        assert_every_staff_route_sends_to_login(client)


def test_every_staff_route_sends_to_login_when_the_session_was_revoked(
    client: FlaskClient, db_session: Session
) -> None:
    create_user(db_session, role=UserRole.ADMIN, email="admin@example.org")
    log_in(client, "admin@example.org")
    db_session.query(StaffSession).update({StaffSession.revoked_at: utcnow()})
    db_session.commit()

    assert_every_staff_route_sends_to_login(client)


def test_every_staff_route_opens_for_an_admin_when_the_session_is_live(
    client: FlaskClient, db_session: Session
) -> None:
    # The refusals above mean something only if the same requests get through with a live login.
    create_user(db_session, role=UserRole.ADMIN, email="admin@example.org")
    log_in(client, "admin@example.org")

    for method, url, _endpoint in STAFF_ROUTES:
        response = request_as_browser(client, method, url)
        location = response.headers.get("Location", "")
        assert not location.startswith("/login"), f"{method} {url}"


def _wrong_role(app: Flask, endpoint: str) -> UserRole | None:
    required = getattr(app.view_functions[endpoint], "required_roles", ())
    if not required:
        return None
    return UserRole.CAMPAIGNER if UserRole.STAFF in required else UserRole.STAFF


@pytest.mark.parametrize("role", [UserRole.STAFF, UserRole.CAMPAIGNER])
def test_every_staff_route_refuses_with_403_when_the_role_is_wrong(
    app: Flask, client: FlaskClient, login_as: Callable[..., Any], role: UserRole
) -> None:
    login_as(role)

    for method, url, endpoint in STAFF_ROUTES:
        if _wrong_role(app, endpoint) != role:
            continue
        assert request_as_browser(client, method, url).status_code == 403, f"{method} {url}"


def test_every_staff_route_checks_a_role_when_it_is_not_an_own_account_page(app: Flask) -> None:
    unchecked = [endpoint for _, _, endpoint in STAFF_ROUTES if _wrong_role(app, endpoint) is None]

    assert set(unchecked) == set(STAFF_ENDPOINTS)


@pytest.mark.parametrize(
    ("method", "url", "endpoint"), POST_ROUTES, ids=[f"POST {url}" for _, url, _ in POST_ROUTES]
)
def test_post_is_refused_when_it_has_no_csrf_token(
    seeded_client: FlaskClient,
    db_session: Session,
    login_as: Callable[..., Any],
    method: str,
    url: str,
    endpoint: str,
) -> None:
    login_as(UserRole.ADMIN)
    users_before = db_session.scalar(select(func.count()).select_from(User))

    response = seeded_client.post(url, data={"email": "x@example.org", "postcode": "SW1A 1AA"})

    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)
    assert db_session.scalar(select(func.count()).select_from(Letter)) == 0
    assert db_session.scalar(select(func.count()).select_from(User)) == users_before


@pytest.mark.parametrize(
    "url",
    [
        f"/admin/letters/{10**25}",
        f"/admin/campaigns/{10**25}",
        f"/admin/campaigns/1/versions/{10**25}",
        f"/admin/users/{MAX_DATABASE_ID + 1}/disable",
    ],
)
def test_staff_url_with_a_huge_id_is_not_found_when_logged_in(
    seeded_client: FlaskClient, login_as: Callable[..., Any], url: str
) -> None:
    login_as(UserRole.ADMIN)

    assert seeded_client.get(url).status_code in (404, 405)


@pytest.mark.parametrize(
    "query",
    [
        f"before={10**25}",
        f"after={10**25}",
        f"campaign={10**25}",
        "to=9999-12-31",
        "from=0001-01-01",
    ],
)
def test_send_log_filter_with_a_huge_value_gives_the_page_when_logged_in(
    seeded_client: FlaskClient, login_as: Callable[..., Any], query: str
) -> None:
    login_as(UserRole.STAFF)

    response = seeded_client.get(f"/admin/letters/?{query}")

    assert response.status_code == 200


@pytest.mark.parametrize("query", [f"mp={10**25}", f"version={10**25}"])
def test_preview_with_a_huge_id_gives_the_page_when_logged_in(
    seeded_client: FlaskClient, login_as: Callable[..., Any], query: str
) -> None:
    login_as(UserRole.CAMPAIGNER)

    response = seeded_client.get(f"/admin/campaigns/1/preview?{query}")

    assert response.status_code in (200, 404)


def test_letter_post_without_a_csrf_token_is_not_found_when_the_campaign_does_not_exist(
    seeded_client: FlaskClient,
) -> None:
    response = seeded_client.post("/c/no-such-campaign/letter", data={"postcode": "SW1A 1AA"})

    assert response.status_code == 404
