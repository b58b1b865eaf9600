"""`mp-mailer create-user` from a prompt, and the account it makes working on the login page.

Reading the password from stdin, short passwords, duplicates and `--password` are in test_cli.py.
"""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select
from sqlalchemy.orm import Session

from mp_mailer.models import User, UserRole
from tests.pages import log_in, path_for

PASSWORD = "a long enough staff password"


def create_user_with_prompt(app: Flask, email: str, role: str, typed: str) -> tuple[int, str]:
    result = app.test_cli_runner().invoke(args=["create-user", email, "--role", role], input=typed)
    return result.exit_code, result.output


def stored_users(db_session: Session) -> list[User]:
    db_session.expire_all()
    return list(db_session.scalars(select(User)))


def test_create_user_asks_for_the_password_twice_without_echoing_it(
    app: Flask, db_session: Session
) -> None:
    exit_code, output = create_user_with_prompt(
        app, "admin@example.org", "admin", f"{PASSWORD}\n{PASSWORD}\n"
    )

    assert exit_code == 0, output
    assert "Password:" in output and "Repeat for confirmation:" in output
    assert PASSWORD not in output
    [user] = stored_users(db_session)
    assert (user.email, user.role) == ("admin@example.org", UserRole.ADMIN)


def test_create_user_asks_again_when_the_two_passwords_differ(
    app: Flask, db_session: Session
) -> None:
    typed = f"{PASSWORD}\n{PASSWORD} typo\n{PASSWORD}\n{PASSWORD}\n"

    exit_code, output = create_user_with_prompt(app, "admin@example.org", "staff", typed)

    assert exit_code == 0, output
    assert "Error: The two entered values do not match." in output
    assert len(stored_users(db_session)) == 1


def test_create_user_refuses_a_role_when_it_is_not_one_of_the_three(
    app: Flask, db_session: Session
) -> None:
    exit_code, output = create_user_with_prompt(
        app, "admin@example.org", "superuser", f"{PASSWORD}\n{PASSWORD}\n"
    )

    assert exit_code == 2
    assert "'superuser' is not one of 'admin', 'campaigner', 'staff'" in output
    assert stored_users(db_session) == []


def test_create_user_makes_an_account_that_can_log_in_to_the_campaign_pages(app: Flask) -> None:
    create_user_with_prompt(app, "Organiser@Example.org", "campaigner", f"{PASSWORD}\n" * 2)
    browser = app.test_client()

    log_in(browser, "organiser@example.org", PASSWORD)

    assert browser.get(path_for("campaigns.list_campaigns")).status_code == 200
