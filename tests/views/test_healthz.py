"""/healthz: the database, the outbox and the last worker's word, as JSON for a load balancer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from mp_mailer import create_app
from mp_mailer.db import utcnow
from mp_mailer.models import LetterStatus
from mp_mailer.worker.settings import RelayUnavailable
from tests.conftest import app_overrides
from tests.factories import create_campaign, create_letter
from tests.pages import path_for
from tests.smtp_server import SmtpTestServer


def health(client: FlaskClient, expected_status: int = 200) -> dict[str, Any]:
    response = client.get(path_for("health.healthz"))
    assert response.status_code == expected_status, response.data
    assert response.headers["Cache-Control"] == "no-store"
    report: dict[str, Any] = response.get_json()
    return report


def test_healthz_says_ok_with_an_empty_outbox_when_nothing_is_queued(client: FlaskClient) -> None:
    report = health(client)

    assert report["status"] == "ok"
    assert report["database"] == {"reachable": True}
    assert report["outbox"] == {"depth": 0, "oldest_queued_age_seconds": None}
    assert report["worker"]["last_seen_at"] is None


def test_healthz_counts_waiting_letters_and_the_oldest_age_when_letters_are_queued(
    client: FlaskClient, db_session: Session
) -> None:
    campaign = create_campaign(db_session)
    now = utcnow()
    create_letter(db_session, campaign, created_at=now - timedelta(hours=2), confirmed_at=None)
    create_letter(
        db_session, campaign, status=LetterStatus.RETRYING, created_at=now - timedelta(minutes=5)
    )
    create_letter(
        db_session, campaign, status=LetterStatus.SENT, created_at=now - timedelta(days=3)
    )
    create_letter(
        db_session,
        campaign,
        status=LetterStatus.AWAITING_CONFIRMATION,
        created_at=now - timedelta(days=1),
    )

    report = health(client)

    assert report["outbox"]["depth"] == 2
    assert 2 * 3600 <= report["outbox"]["oldest_queued_age_seconds"] < 2 * 3600 + 60


def test_healthz_shows_no_personal_data_when_letters_are_queued(
    client: FlaskClient, db_session: Session
) -> None:
    letter = create_letter(db_session)

    body = client.get(path_for("health.healthz")).get_data(as_text=True)

    for personal in (letter.supporter_email, letter.supporter_name, letter.mp_email):
        assert personal not in body


def test_healthz_reports_the_relay_reachable_when_the_last_worker_sent(
    client: FlaskClient, db_session: Session, deliver: Callable[[], int]
) -> None:
    create_letter(db_session)

    assert deliver() == 1
    report = health(client)

    assert report["worker"]["relay_reachable"] is True
    assert report["worker"]["last_seen_age_seconds"] < 60
    assert report["outbox"]["depth"] == 0


def test_healthz_reports_the_relay_unreachable_when_the_last_worker_could_not_connect(
    client: FlaskClient,
    db_session: Session,
    deliver: Callable[[], int],
    smtp_server: SmtpTestServer,
) -> None:
    create_letter(db_session)
    assert deliver() == 1
    create_letter(db_session)
    smtp_server.stop()

    with pytest.raises(RelayUnavailable):
        deliver()
    report = health(client)

    assert report["status"] == "ok"
    assert report["worker"]["relay_reachable"] is False
    assert report["outbox"]["depth"] == 1


def test_healthz_reports_an_idle_worker_seen_when_nothing_was_due(
    client: FlaskClient, deliver: Callable[[], int]
) -> None:
    assert deliver() == 0
    report = health(client)

    assert report["worker"]["last_seen_age_seconds"] < 60
    assert report["worker"]["relay_reachable"] is None


def test_healthz_answers_503_when_the_database_is_unreachable(
    tmp_path: Path, smtp_server: SmtpTestServer
) -> None:
    missing = tmp_path / "no-such-directory" / "mp_mailer.sqlite3"
    app: Flask = create_app(app_overrides(f"sqlite:///{missing}", smtp_server))

    report = health(app.test_client(), expected_status=503)

    assert report["status"] == "unavailable"
    assert report["database"] == {"reachable": False}
    assert report["outbox"]["depth"] is None
    app.extensions["mp_mailer.engine"].dispose()
