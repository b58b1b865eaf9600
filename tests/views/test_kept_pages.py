"""The campaign page is rendered once and kept for seconds: every visitor still gets a form
token of their own, nothing meant for one visitor or for staff reaches another, and a
returning visitor costs no new session cookie."""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask.testing import FlaskClient

from mp_mailer.models import UserRole
from tests.factories import create_user
from tests.pages import csrf_token_from, flash_text, log_in

ERASED_NOTICE = "Your details have been erased."


def look_up(visitor: FlaskClient, token: str) -> Any:
    return visitor.post("/", data={"csrf_token": token, "postcode": "12345"})


def test_each_visitor_of_a_kept_page_gets_a_token_of_their_own(
    app: Flask, seeded_client: FlaskClient
) -> None:
    first, second = app.test_client(), app.test_client()

    first_token = csrf_token_from(first.get("/").data)
    second_token = csrf_token_from(second.get("/").data)

    assert first_token != second_token


def test_the_token_on_a_kept_page_works_for_the_visitor_it_was_served_to(
    app: Flask, seeded_client: FlaskClient
) -> None:
    app.test_client().get("/")
    visitor = app.test_client()

    response = look_up(visitor, csrf_token_from(visitor.get("/").data))

    # The form was checked (a malformed postcode), not refused as expired.
    assert response.status_code == 200
    assert "Enter a full UK postcode" in response.data.decode()


def flashed(visitor: FlaskClient, message: str) -> FlaskClient:
    with visitor.session_transaction() as session:
        session["_flashes"] = [("success", message)]
    return visitor


def test_a_visitor_with_a_notice_sees_it_though_the_page_is_kept(
    app: Flask, seeded_client: FlaskClient
) -> None:
    app.test_client().get("/")
    visitor = flashed(app.test_client(), ERASED_NOTICE)

    assert ERASED_NOTICE in flash_text(visitor.get("/"))


def test_one_visitors_notice_is_not_kept_for_the_next(
    app: Flask, seeded_client: FlaskClient
) -> None:
    flashed(app.test_client(), ERASED_NOTICE).get("/")

    page = app.test_client().get("/")

    assert ERASED_NOTICE not in page.data.decode()


def test_staff_see_their_own_menu_though_the_page_is_kept(
    app: Flask, seeded_client: FlaskClient, db_session: Any
) -> None:
    app.test_client().get("/")
    staff = app.test_client()
    log_in(staff, create_user(db_session, role=UserRole.STAFF).email)

    assert "Log out" in staff.get("/").data.decode()


def test_a_staff_page_is_not_kept_for_visitors(
    app: Flask, seeded_client: FlaskClient, db_session: Any
) -> None:
    staff = app.test_client()
    log_in(staff, create_user(db_session, role=UserRole.STAFF).email)
    staff.get("/")

    assert "Log out" not in app.test_client().get("/").data.decode()


def test_a_returning_visitor_is_not_sent_their_session_cookie_again(
    app: Flask, seeded_client: FlaskClient
) -> None:
    visitor = app.test_client()
    visitor.get("/")

    again = visitor.get("/")

    assert again.headers.getlist("Set-Cookie") == []
