"""Staff sessions held on the server: logout, a disabled account and a new password end them,
whoever holds a copy of the cookie; they expire; staff change their own password."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from freezegun import freeze_time
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import StaffSession, User, UserRole
from tests.factories import TEST_PASSWORD, create_user
from tests.pages import log_in, page_errors, path_for, post_with_token

SEND_LOG = path_for("send_log.list_letters")
NEW_PASSWORD = "a brand new passphrase"


def copied_client(app: Flask, original: FlaskClient) -> FlaskClient:
    """Another browser holding a copy of the original's session cookie."""
    copy = app.test_client()
    cookie = original.get_cookie("session")
    assert cookie is not None
    copy.set_cookie("session", cookie.value)
    return copy


def staff_user(db_session: Session, client: FlaskClient) -> User:
    user = create_user(db_session, role=UserRole.STAFF, email="staff@example.org")
    assert log_in(client, user.email).status_code == 302
    return user


def test_copied_cookie_works_while_the_login_is_live(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    staff_user(db_session, client)

    assert copied_client(app, client).get(SEND_LOG).status_code == 200


def test_copied_cookie_stops_working_when_its_login_logs_out(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    staff_user(db_session, client)
    copy = copied_client(app, client)

    post_with_token(client, path_for("auth.logout"), {}, page_url=SEND_LOG)

    assert copy.get(SEND_LOG).status_code == 302


def test_copied_cookie_stays_dead_when_a_disabled_account_is_enabled_again(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    user = staff_user(db_session, client)
    copy = copied_client(app, client)
    admin_browser = app.test_client()
    create_user(db_session, role=UserRole.ADMIN, email="admin@example.org")
    log_in(admin_browser, "admin@example.org")
    users_page = path_for("users.list_users")
    post_with_token(admin_browser, f"/admin/users/{user.id}/disable", {}, page_url=users_page)

    post_with_token(admin_browser, f"/admin/users/{user.id}/enable", {}, page_url=users_page)

    assert copy.get(SEND_LOG).status_code == 302


def test_staff_session_ends_when_its_lifetime_has_passed(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    with freeze_time(utcnow()) as frozen:
        staff_user(db_session, client)
        copy = copied_client(app, client)
        frozen.tick(8 * 3600 + 1)

        assert copy.get(SEND_LOG).status_code == 302


def test_staff_session_cookie_lasts_the_staff_session_lifetime_when_logged_in(
    client: FlaskClient, db_session: Session
) -> None:
    create_user(db_session, role=UserRole.STAFF, email="staff@example.org")

    response = log_in(client, "staff@example.org")

    cookie = next(c for c in response.headers.getlist("Set-Cookie") if c.startswith("session="))
    assert "Expires=" in cookie


def change_password(client: FlaskClient, **overrides: str) -> Any:
    form = {
        "current_password": TEST_PASSWORD,
        "new_password": NEW_PASSWORD,
        "confirm_password": NEW_PASSWORD,
        **overrides,
    }
    return post_with_token(client, path_for("auth.change_password"), form)


def test_change_password_ends_every_other_login_when_it_succeeds(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    staff_user(db_session, client)
    copy = copied_client(app, client)

    response = change_password(client)

    assert response.status_code == 302
    assert copy.get(SEND_LOG).status_code == 302
    assert client.get(SEND_LOG).status_code == 200


def test_change_password_lets_the_new_password_log_in_when_it_succeeds(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    staff_user(db_session, client)
    change_password(client)

    assert log_in(app.test_client(), "staff@example.org", NEW_PASSWORD).status_code == 302
    assert log_in(app.test_client(), "staff@example.org", TEST_PASSWORD).status_code == 200


def test_change_password_refuses_when_the_current_password_is_wrong(
    client: FlaskClient, db_session: Session
) -> None:
    staff_user(db_session, client)

    response = change_password(client, current_password="not my password")

    assert response.status_code == 200
    assert "Your current password is wrong." in page_errors(response)


def test_change_password_refuses_when_the_two_new_passwords_differ(
    client: FlaskClient, db_session: Session
) -> None:
    staff_user(db_session, client)

    response = change_password(client, confirm_password="something else entirely")

    assert "The two new passwords are different." in page_errors(response)


def test_change_password_page_needs_a_login_when_anonymous(client: FlaskClient) -> None:
    response = client.get(path_for("auth.change_password"))

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_forged_session_cookie_is_anonymous_when_not_signed_by_our_key(
    app: Flask, db_session: Session, login_as: Callable[..., Any]
) -> None:
    from flask.sessions import SecureCookieSessionInterface

    forger = Flask("forger")
    forger.secret_key = "not-our-secret-key-0123456789abcdef"
    serializer = SecureCookieSessionInterface().get_signing_serializer(forger)
    assert serializer is not None
    cookie = serializer.dumps({"_user_id": "1", "_fresh": True, "staff_session": "x"})
    browser = app.test_client()
    browser.set_cookie("session", cookie)

    assert browser.get(SEND_LOG).status_code == 302


def test_staff_session_ends_when_its_server_record_has_expired_though_the_cookie_has_not(
    app: Flask, client: FlaskClient, db_session: Session
) -> None:
    staff_user(db_session, client)
    db_session.query(StaffSession).update({StaffSession.expires_at: utcnow()})
    db_session.commit()

    assert client.get(SEND_LOG).status_code == 302
