"""Admins manage staff accounts: add, change role, disable, enable; never locking themselves out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from bs4 import BeautifulSoup
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import User, UserRole
from tests.conftest import csrf_token_from
from tests.factories import TEST_PASSWORD, create_user


@pytest.fixture
def admin(login_as: Callable[..., User]) -> User:
    return login_as(UserRole.ADMIN)


def text_of(response: Any, selector: str) -> str:
    element = BeautifulSoup(response.data, "html.parser").select_one(selector)
    return " ".join(element.get_text(" ").split()) if element else ""


def stored_user(db_session: Session, email: str) -> User:
    db_session.expire_all()
    return db_session.scalars(select(User).where(User.email == email)).one()


def new_user_form(**overrides: str) -> dict[str, str]:
    values = {"email": "new@example.org", "role": "campaigner", "password": "a long password!"}
    values.update(overrides)
    return values


def post_on_list(post_form: Any, url: str, data: dict[str, str] | None = None) -> Any:
    return post_form(url, data or {}, page_url="/admin/users/", follow_redirects=True)


def log_in(client: FlaskClient, email: str, password: str) -> Any:
    token = csrf_token_from(client.get("/login").data)
    return client.post("/login", data={"csrf_token": token, "email": email, "password": password})


def test_user_list_shows_every_user_with_role_and_state(
    client: FlaskClient, admin: User, db_session: Session
) -> None:
    create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)
    create_user(db_session, email="old@example.org", is_active=False)

    response = client.get("/admin/users/")

    rows = text_of(response, "tbody")
    assert "admin@example.org You Admin Active" in rows
    assert "cam@example.org" in rows and "Active" in rows
    assert "old@example.org" in rows and "Disabled" in rows


def test_adding_a_user_lets_them_log_in_with_their_role(
    app: Flask, admin: User, post_form: Any, db_session: Session
) -> None:
    response = post_form("/admin/users/new", new_user_form())

    assert response.headers["Location"] == "/admin/users/"
    user = stored_user(db_session, "new@example.org")
    assert user.role == UserRole.CAMPAIGNER
    assert user.password_hash.startswith("scrypt:")
    assert log_in(app.test_client(), "new@example.org", "a long password!").status_code == 302


def test_adding_a_user_is_refused_when_the_password_is_short(
    admin: User, post_form: Any, db_session: Session
) -> None:
    response = post_form("/admin/users/new", new_user_form(password="short pass"))

    assert "The password must be 12 to 200 characters." in text_of(response, ".error-summary")
    assert db_session.scalars(select(User).where(User.email == "new@example.org")).all() == []


def test_adding_a_user_is_refused_when_the_email_is_taken(
    admin: User, post_form: Any, db_session: Session
) -> None:
    create_user(db_session, email="new@example.org")

    response = post_form("/admin/users/new", new_user_form(email="New@Example.org"))

    assert "There is already a user with the email new@example.org." in text_of(
        response, ".error-summary"
    )


def test_adding_a_user_is_refused_when_no_role_is_chosen(admin: User, post_form: Any) -> None:
    response = post_form("/admin/users/new", new_user_form(role=""))

    assert "Choose what they can do." in text_of(response, ".error-summary")


def test_admin_changes_another_users_role(admin: User, post_form: Any, db_session: Session) -> None:
    other = create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)

    response = post_on_list(
        post_form, f"/admin/users/{other.id}/role", {f"user-{other.id}-role": "staff"}
    )

    assert stored_user(db_session, "cam@example.org").role == UserRole.STAFF
    assert "cam@example.org is now staff." in text_of(response, ".flash-messages")


def test_admin_cannot_change_their_own_role(
    admin: User, post_form: Any, db_session: Session
) -> None:
    response = post_on_list(
        post_form, f"/admin/users/{admin.id}/role", {f"user-{admin.id}-role": "staff"}
    )

    assert stored_user(db_session, admin.email).role == UserRole.ADMIN
    assert "You can't change your own role" in text_of(response, ".flash-messages")


def test_admin_cannot_disable_themself(admin: User, post_form: Any, db_session: Session) -> None:
    response = post_on_list(post_form, f"/admin/users/{admin.id}/disable")

    assert stored_user(db_session, admin.email).is_active is True
    assert "You can't disable your own account" in text_of(response, ".flash-messages")


def test_disabled_user_cannot_log_in(
    app: Flask, admin: User, post_form: Any, db_session: Session
) -> None:
    other = create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)

    post_on_list(post_form, f"/admin/users/{other.id}/disable")

    assert stored_user(db_session, "cam@example.org").is_active is False
    assert log_in(app.test_client(), "cam@example.org", TEST_PASSWORD).status_code == 200


def test_disabled_user_is_logged_out_at_their_next_request(
    app: Flask, admin: User, post_form: Any, db_session: Session
) -> None:
    other = create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)
    their_browser = app.test_client()
    log_in(their_browser, "cam@example.org", TEST_PASSWORD)
    assert their_browser.get("/admin/campaigns/").status_code == 200

    post_on_list(post_form, f"/admin/users/{other.id}/disable")

    response = their_browser.get("/admin/campaigns/")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


def test_enabling_a_disabled_user_lets_them_log_in_again(
    app: Flask, admin: User, post_form: Any, db_session: Session
) -> None:
    other = create_user(db_session, email="cam@example.org", is_active=False)

    response = post_on_list(post_form, f"/admin/users/{other.id}/enable")

    assert "cam@example.org can log in again." in text_of(response, ".flash-messages")
    assert log_in(app.test_client(), "cam@example.org", TEST_PASSWORD).status_code == 302


def test_changing_the_role_of_an_unknown_user_is_not_found(admin: User, post_form: Any) -> None:
    response = post_form(
        "/admin/users/999/role", {"user-999-role": "staff"}, page_url="/admin/users/"
    )

    assert response.status_code == 404
