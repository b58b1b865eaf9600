"""Shared fixtures: the app on a migrated database (SQLite, and PostgreSQL when TEST_DATABASE_URL
is set), a real SMTP server on loopback, the Members API replayed from real samples, logins."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import responses
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from mp_mailer import create_app
from mp_mailer.cli import worker_settings
from mp_mailer.config import _ENV_NAMES, smtp_relay
from mp_mailer.db import Base, make_engine, utcnow
from mp_mailer.models import User, UserRole
from mp_mailer.schema import upgrade_database
from mp_mailer.worker.loop import run_worker
from tests.factories import create_user
from tests.members_api_fixtures import add_standard_responses
from tests.pages import ClientRequest, log_in, post_with_token
from tests.smtp_server import SmtpTestServer

MEMBERS_API_URL = "https://members-api.test/api"
TEST_SECRET_KEY = "test-secret-key-0123456789abcdef"
PUBLIC_URL = "http://localhost"
POSTGRES_SCHEMA = "mp_mailer_test"

_backends = ["sqlite"]
if os.environ.get("TEST_DATABASE_URL"):
    _backends.append("postgresql")


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """A developer's shell or .env must not change what the tests see."""
    for name in _ENV_NAMES.values():
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrated once per run; each test gets a copy, which is far faster than migrating again."""
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def _postgres_url() -> Iterator[str]:
    base = make_url(os.environ["TEST_DATABASE_URL"])
    if base.drivername == "postgresql":
        base = base.set(drivername="postgresql+psycopg")
    admin = make_engine(base.render_as_string(hide_password=False))
    with admin.begin() as connection:
        connection.execute(text(f"DROP SCHEMA IF EXISTS {POSTGRES_SCHEMA} CASCADE"))
        connection.execute(text(f"CREATE SCHEMA {POSTGRES_SCHEMA}"))
    admin.dispose()
    url = base.update_query_dict({"options": f"-csearch_path={POSTGRES_SCHEMA}"})
    rendered = url.render_as_string(hide_password=False)
    engine = make_engine(rendered)
    upgrade_database(engine)
    engine.dispose()
    yield rendered


@pytest.fixture(params=_backends)
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "test.sqlite3"
        shutil.copy(request.getfixturevalue("_sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    url = request.getfixturevalue("_postgres_url")
    yield url
    engine = make_engine(url)
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    with SmtpTestServer() as server:
        yield server


@pytest.fixture
def members_api() -> Iterator[responses.RequestsMock]:
    """The Members API, answering SW1A 1AA from the real samples; tests may register more.

    Any other call to it, or to anywhere else, fails with a ConnectionError.
    """
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        add_standard_responses(mock, MEMBERS_API_URL)
        yield mock


def app_overrides(database_url: str, smtp_server: SmtpTestServer, **extra: Any) -> dict[str, Any]:
    return {
        "secret_key": TEST_SECRET_KEY,
        "database_url": database_url,
        "public_url": PUBLIC_URL,
        "parliament_api_url": MEMBERS_API_URL,
        "smtp_host": smtp_server.host,
        "smtp_port": smtp_server.port,
        "smtp_timeout": 5.0,
        "mail_from": "Free Tibet <campaigns@freetibet.example>",
        "require_confirmation": True,
        "testing": True,
        "ratelimit_enabled": False,
        "log_level": "WARNING",
        "members_api_backoff": 0.0,
        **extra,
    }


@pytest.fixture
def app_settings() -> dict[str, Any]:
    """Per-test setting changes: a test sets keys here before asking for `app`."""
    return {}


@pytest.fixture
def app(
    database_url: str,
    smtp_server: SmtpTestServer,
    members_api: responses.RequestsMock,
    app_settings: dict[str, Any],
) -> Iterator[Flask]:
    app = create_app(app_overrides(database_url, smtp_server, **app_settings))
    yield app
    app.extensions["mp_mailer.engine"].dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def db_session(app: Flask) -> Iterator[Session]:
    with app.extensions["mp_mailer.session_factory"]() as session:
        yield session


class Clock:
    """The worker's idea of now: the real time, plus however far a test has moved it on."""

    def __init__(self) -> None:
        self.offset = timedelta()

    def __call__(self) -> datetime:
        return utcnow() + self.offset

    def advance(self, **delta: float) -> None:
        self.offset += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def deliver(app: Flask, clock: Clock) -> Callable[[], int]:
    """Run the worker once, as `mp-mailer worker --once` does, at the clock's time."""

    def run_once() -> int:
        config = app.extensions["mp_mailer.config"]
        return run_worker(
            app.extensions["mp_mailer.session_factory"],
            lambda: smtp_relay(config),
            worker_settings(config),
            once=True,
            clock=clock,
        )

    return run_once


@pytest.fixture
def post_form(client: FlaskClient) -> Callable[..., Any]:
    """POST a form as a browser would: first GET the page it is on, for its CSRF token."""

    def post(url: str, data: dict[str, Any], page_url: str | None = None, **kwargs: Any) -> Any:
        return post_with_token(client, url, data, page_url, **kwargs)

    return post


@pytest.fixture
def client_request(app: Flask, client: FlaskClient) -> ClientRequest:
    """Pages by endpoint name, their status and title checked (see tests/pages.py)."""
    return ClientRequest(app, client)


@pytest.fixture
def login_as(
    client: FlaskClient, db_session: Session, post_form: Callable[..., Any]
) -> Callable[[UserRole | str], User]:
    def login(role: UserRole | str, email: str | None = None) -> User:
        role = UserRole(role)
        user = create_user(db_session, role=role, email=email or f"{role.value}@example.org")
        response = log_in(client, user.email)
        assert response.status_code == 302, "login failed"
        return user

    return login


@pytest.fixture
def seeded_client(client: FlaskClient, db_session: Session) -> FlaskClient:
    """A client on a database that init-db has seeded with the Ban Chen Quanguo campaign."""
    from mp_mailer.services.seed import seed_first_campaign

    seed_first_campaign(db_session)
    return client
