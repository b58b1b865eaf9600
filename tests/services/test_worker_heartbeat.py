"""The worker's heartbeat: written at most once per interval, at once when the relay changes."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session

from mp_mailer.db import utcnow
from mp_mailer.models import WorkerHeartbeat
from mp_mailer.services.worker_heartbeat import HEARTBEAT_ID, HeartbeatRecorder


def stored(db_session: Session) -> WorkerHeartbeat:
    heartbeat = db_session.get(WorkerHeartbeat, HEARTBEAT_ID, populate_existing=True)
    assert heartbeat is not None
    db_session.rollback()
    return heartbeat


def test_heartbeat_is_not_rewritten_when_beating_again_within_the_interval(
    app: Flask, db_session: Session
) -> None:
    recorder = HeartbeatRecorder(
        app.extensions["mp_mailer.session_factory"], interval=timedelta(seconds=15)
    )
    start = utcnow().replace(microsecond=0)
    recorder.beat(start, relay_reachable=True)

    recorder.beat(start + timedelta(seconds=14), relay_reachable=True)

    assert stored(db_session).seen_at == start


def test_heartbeat_is_rewritten_when_the_interval_has_passed(
    app: Flask, db_session: Session
) -> None:
    recorder = HeartbeatRecorder(
        app.extensions["mp_mailer.session_factory"], interval=timedelta(seconds=15)
    )
    start = utcnow().replace(microsecond=0)
    recorder.beat(start, relay_reachable=True)

    recorder.beat(start + timedelta(seconds=15))

    heartbeat = stored(db_session)
    assert (heartbeat.seen_at, heartbeat.relay_checked_at) == (start + timedelta(seconds=15), start)
    assert heartbeat.relay_reachable is True


def test_heartbeat_is_rewritten_at_once_when_the_relay_becomes_unreachable(
    app: Flask, db_session: Session
) -> None:
    recorder = HeartbeatRecorder(
        app.extensions["mp_mailer.session_factory"], interval=timedelta(seconds=15)
    )
    start = utcnow().replace(microsecond=0)
    recorder.beat(start, relay_reachable=True)

    recorder.beat(start + timedelta(seconds=1), relay_reachable=False)

    heartbeat = stored(db_session)
    assert heartbeat.relay_reachable is False
    assert heartbeat.relay_checked_at == start + timedelta(seconds=1)
