"""The `mp-mailer` commands, run through Flask's CLI runner against the test app."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
import responses
from click.testing import Result
from flask import Flask
from responses import matchers
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from mp_mailer.models import CachedMember, Campaign, Letter, LetterStatus, User, UserRole
from mp_mailer.services.seed import BAN_CHEN_SLUG
from tests.conftest import MEMBERS_API_URL
from tests.factories import (
    cache_mp,
    create_campaign,
    create_letter,
    create_queued_letters,
    create_user,
)
from tests.members_api_fixtures import load_fixture
from tests.smtp_server import SmtpTestServer

NEW_PASSWORD = "a long enough staff password"


def run(app: Flask, *args: str, input: str | None = None) -> Result:
    return app.test_cli_runner().invoke(args=list(args), input=input)


def users_with_email(db_session: Session, email: str) -> list[User]:
    db_session.expire_all()
    return list(db_session.scalars(select(User).where(User.email == email)))


@pytest.fixture
def restore_signal_handlers() -> Iterator[None]:
    """`worker` installs SIGTERM/SIGINT handlers for its process; keep them out of pytest's."""
    saved = {number: signal.getsignal(number) for number in (signal.SIGTERM, signal.SIGINT)}
    yield
    for number, handler in saved.items():
        signal.signal(number, handler)


@pytest.fixture
def members_listing(members_api: responses.RequestsMock) -> responses.RequestsMock:
    """The three pages of current MPs (45 in all) that `sync-mps` asks the Members API for."""
    for page, skip in enumerate((0, 20, 40)):
        query = {"House": "1", "IsCurrentMember": "true", "skip": str(skip), "take": "20"}
        members_api.get(
            f"{MEMBERS_API_URL}/Members/Search",
            json=load_fixture(f"schema_members_search_page_{page}"),
            match=[matchers.query_param_matcher(query)],
        )
    return members_api


def test_init_db_leaves_one_ban_chen_campaign_when_run_twice(
    app: Flask, db_session: Session
) -> None:
    run(app, "init-db")

    result = run(app, "init-db")

    assert result.exit_code == 0, result.output
    count = db_session.scalar(
        select(func.count()).select_from(Campaign).where(Campaign.slug == BAN_CHEN_SLUG)
    )
    assert count == 1


def test_init_db_reports_database_up_to_date_when_run_again(app: Flask) -> None:
    run(app, "init-db")

    result = run(app, "init-db")

    assert result.exit_code == 0, result.output
    assert result.output == "Database is up to date.\n"


def test_init_db_reports_the_campaign_it_adds_when_the_database_is_new(app: Flask) -> None:
    result = run(app, "init-db")

    assert result.exit_code == 0, result.output
    assert result.output == "Added the Ban Chen Quanguo campaign.\nDatabase is up to date.\n"


def test_create_user_stores_a_hash_of_the_password_when_read_from_stdin(
    app: Flask, db_session: Session
) -> None:
    result = run(
        app,
        "create-user",
        "Organiser@Example.org",
        "--role",
        "campaigner",
        "--password-stdin",
        input=f"{NEW_PASSWORD}\n",
    )

    assert result.exit_code == 0, result.output
    [user] = users_with_email(db_session, "organiser@example.org")
    assert user.role == UserRole.CAMPAIGNER
    assert NEW_PASSWORD not in user.password_hash
    assert check_password_hash(user.password_hash, NEW_PASSWORD)


def test_create_user_refuses_a_password_when_shorter_than_twelve_characters(
    app: Flask, db_session: Session
) -> None:
    result = run(
        app,
        "create-user",
        "organiser@example.org",
        "--role",
        "staff",
        "--password-stdin",
        input="short pass\n",
    )

    assert result.exit_code != 0
    assert "Error: The password must be at least 12 characters." in result.output
    assert users_with_email(db_session, "organiser@example.org") == []


def test_create_user_refuses_an_email_when_a_user_already_has_it(
    app: Flask, db_session: Session
) -> None:
    existing = create_user(db_session, email="organiser@example.org", role=UserRole.STAFF)

    result = run(
        app,
        "create-user",
        "ORGANISER@example.org",
        "--role",
        "admin",
        "--password-stdin",
        input=f"{NEW_PASSWORD}\n",
    )

    assert result.exit_code != 0
    assert "There is already a user with the email organiser@example.org." in result.output
    assert [user.id for user in users_with_email(db_session, "organiser@example.org")] == [
        existing.id
    ]


def test_create_user_rejects_a_password_option_when_given_on_the_command_line(
    app: Flask, db_session: Session
) -> None:
    # A password in argv would be visible to every user of the machine and kept in shell history.
    result = run(
        app, "create-user", "organiser@example.org", "--role", "staff", "--password", NEW_PASSWORD
    )

    assert result.exit_code == 2
    assert "No such option '--password'" in result.output
    assert users_with_email(db_session, "organiser@example.org") == []


@pytest.mark.usefixtures("restore_signal_handlers")
def test_worker_once_delivers_a_queued_letter_to_the_relay_when_due(
    app: Flask, db_session: Session, smtp_server: SmtpTestServer
) -> None:
    letter = create_letter(db_session)

    result = run(app, "worker", "--once")

    assert result.exit_code == 0, result.output
    assert "Worker stopped after 1 emails." in result.output
    [message] = smtp_server.messages
    assert message["To"].addresses[0].addr_spec == "diane.abbott.office@parliament.uk"
    assert message["Subject"] == letter.subject
    db_session.expire_all()
    assert db_session.get_one(Letter, letter.id).status == LetterStatus.SENT


@pytest.mark.usefixtures("restore_signal_handlers")
def test_worker_once_exits_non_zero_with_one_line_when_the_relay_is_down(
    app: Flask, db_session: Session, smtp_server: SmtpTestServer
) -> None:
    campaign = create_campaign(db_session)
    letters = create_queued_letters(db_session, campaign, 200)
    smtp_server.stop()

    started = time.monotonic()
    result = run(app, "worker", "--once")

    assert time.monotonic() - started < 10
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    assert result.output.startswith("Error: The SMTP relay cannot be reached")
    db_session.expire_all()
    assert db_session.get_one(Letter, letters[0]).attempt_count == 0


@pytest.mark.usefixtures("members_listing")
def test_sync_mps_caches_every_current_mp_when_the_listing_spans_three_pages(
    app: Flask, db_session: Session
) -> None:
    result = run(app, "sync-mps")

    assert result.exit_code == 0, result.output
    current = db_session.scalars(select(CachedMember.id).where(CachedMember.is_current)).all()
    assert len(current) == 45
    assert {172, 467, 5901, 5902, 6001, 6041} <= set(current)


@pytest.mark.usefixtures("members_listing")
def test_sync_mps_marks_a_cached_mp_not_current_when_missing_from_the_listing(
    app: Flask, db_session: Session
) -> None:
    cache_mp(
        db_session,
        id=999,
        display_name="Mr Former Member",
        constituency_id=9999,
        constituency_name="Abolished Seat",
        postcode=None,
    )

    result = run(app, "sync-mps")

    assert result.exit_code == 0, result.output
    assert "45 current MPs cached; 1 no longer current." in result.output
    db_session.expire_all()
    assert db_session.get_one(CachedMember, 999).is_current is False
