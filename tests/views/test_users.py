"""Admins manage staff accounts: add, change role, disable, enable; never locking themselves out."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import User, UserRole
from tests.factories import TEST_PASSWORD, create_user
from tests.pages import ClientRequest, Page, log_in


@pytest.fixture
def admin(login_as: Callable[..., User]) -> User:
    return login_as(UserRole.ADMIN)


def stored_user(db_session: Session, email: str) -> User:
    db_session.expire_all()
    return db_session.scalars(select(User).where(User.email == email)).one()


def new_user_form(**overrides: str) -> dict[str, str]:
    values = {"email": "new@example.org", "role": "campaigner", "password": "a long password!"}
    values.update(overrides)
    return values


def post_on_list(
    client_request: ClientRequest, endpoint: str, data: dict[str, str] | None = None, **values: Any
) -> Page:
    """Press a button on the user list, and read the list it returns to."""
    return client_request.post(
        endpoint,
        _data=data or {},
        _page=client_request.url("users.list_users"),
        _expected_status=200,
        _follow_redirects=True,
        **values,
    )


def test_user_list_shows_every_user_with_role_and_state(
    client_request: ClientRequest, admin: User, db_session: Session
) -> None:
    create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)
    create_user(db_session, email="old@example.org", is_active=False)

    page = client_request.get("users.list_users", _expected_title="Users")

    rows = page.text("tbody")
    assert "admin@example.org You Admin Active" in rows
    assert "cam@example.org" in rows and "Active" in rows
    assert "old@example.org" in rows and "Disabled" in rows


def test_adding_a_user_lets_them_log_in_with_their_role(
    app: Flask, admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    page = client_request.post("users.new_user", _data=new_user_form())

    assert page.location == client_request.url("users.list_users")
    user = stored_user(db_session, "new@example.org")
    assert user.role == UserRole.CAMPAIGNER
    assert user.password_hash.startswith("scrypt:")
    assert log_in(app.test_client(), "new@example.org", "a long password!").status_code == 302


def test_adding_a_user_is_refused_when_the_password_is_short(
    admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    page = client_request.post(
        "users.new_user", _data=new_user_form(password="short pass"), _expected_status=200
    )

    assert "The password must be 12 to 200 characters." in page.errors
    assert db_session.scalars(select(User).where(User.email == "new@example.org")).all() == []


def test_adding_a_user_is_refused_when_the_email_is_taken(
    admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    create_user(db_session, email="new@example.org")

    page = client_request.post(
        "users.new_user", _data=new_user_form(email="New@Example.org"), _expected_status=200
    )

    assert "There is already a user with the email new@example.org." in page.errors


def test_adding_a_user_is_refused_when_no_role_is_chosen(
    admin: User, client_request: ClientRequest
) -> None:
    page = client_request.post("users.new_user", _data=new_user_form(role=""), _expected_status=200)

    assert "Choose what they can do." in page.errors


def test_admin_changes_another_users_role(
    admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    other = create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)

    page = post_on_list(
        client_request,
        "users.change_user_role",
        {f"user-{other.id}-role": "staff"},
        user_id=other.id,
    )

    assert stored_user(db_session, "cam@example.org").role == UserRole.STAFF
    assert "cam@example.org is now staff." in page.flash


def test_admin_cannot_change_their_own_role(
    admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    page = post_on_list(
        client_request,
        "users.change_user_role",
        {f"user-{admin.id}-role": "staff"},
        user_id=admin.id,
    )

    assert stored_user(db_session, admin.email).role == UserRole.ADMIN
    assert "You can't change your own role" in page.flash


def test_admin_cannot_disable_themself(
    admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    page = post_on_list(client_request, "users.disable_user", user_id=admin.id)

    assert stored_user(db_session, admin.email).is_active is True
    assert "You can't disable your own account" in page.flash


def test_disabled_user_cannot_log_in(
    app: Flask, admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    other = create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)

    post_on_list(client_request, "users.disable_user", user_id=other.id)

    assert stored_user(db_session, "cam@example.org").is_active is False
    assert log_in(app.test_client(), "cam@example.org", TEST_PASSWORD).status_code == 200


def test_disabled_user_is_logged_out_at_their_next_request(
    app: Flask, admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    other = create_user(db_session, email="cam@example.org", role=UserRole.CAMPAIGNER)
    their_browser = ClientRequest(app, app.test_client())
    log_in(their_browser.client, "cam@example.org", TEST_PASSWORD)
    their_browser.get("campaigns.list_campaigns", _expected_status=200)

    post_on_list(client_request, "users.disable_user", user_id=other.id)

    page = their_browser.get("campaigns.list_campaigns", _expected_status=302)
    assert page.location is not None
    assert page.location.startswith(client_request.url("auth.login"))


def test_enabling_a_disabled_user_lets_them_log_in_again(
    app: Flask, admin: User, client_request: ClientRequest, db_session: Session
) -> None:
    other = create_user(db_session, email="cam@example.org", is_active=False)

    page = post_on_list(client_request, "users.enable_user", user_id=other.id)

    assert "cam@example.org can log in again." in page.flash
    assert log_in(app.test_client(), "cam@example.org", TEST_PASSWORD).status_code == 302


def test_changing_the_role_of_an_unknown_user_is_not_found(
    admin: User, client_request: ClientRequest
) -> None:
    page = client_request.post(
        "users.change_user_role",
        _data={"user-999-role": "staff"},
        _page=client_request.url("users.list_users"),
        _expected_status=404,
        user_id=999,
    )

    assert page.response.status_code == 404


def test_new_user_page_shows_what_each_role_may_do(
    admin: User, client_request: ClientRequest
) -> None:
    page = client_request.get("users.new_user", _expected_title="Add a user")

    assert [page.text(f"#role-{n}-hint") for n in range(3)] == [
        "Creates and edits campaigns and their letters.",
        "Reads the send log of letters.",
        "Does everything, including managing users.",
    ]
