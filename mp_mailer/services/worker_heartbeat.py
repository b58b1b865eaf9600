"""The delivery worker's heartbeat: when it last ran and whether it reached the relay."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mp_mailer.models import WorkerHeartbeat

logger = logging.getLogger(__name__)

HEARTBEAT_ID = 1


def record_heartbeat(session: Session, now: datetime, relay_reachable: bool | None) -> None:
    """Overwrite the one heartbeat row; `relay_reachable` None means the relay was not contacted."""
    heartbeat = session.get(WorkerHeartbeat, HEARTBEAT_ID, populate_existing=True)
    if heartbeat is None:
        heartbeat = WorkerHeartbeat(id=HEARTBEAT_ID)
        session.add(heartbeat)
    heartbeat.seen_at = now
    if relay_reachable is not None:
        heartbeat.relay_checked_at = now
        heartbeat.relay_reachable = relay_reachable
    session.commit()


class HeartbeatRecorder:
    """Writes the heartbeat at most once per `interval`, and at once when the relay's state changes.

    A write per email would add a commit to every send; a heartbeat a few seconds old says as much.
    A failure to write is logged and forgotten: it must never stop delivery.
    """

    def __init__(
        self, session_factory: sessionmaker[Session], interval: timedelta = timedelta(seconds=15)
    ) -> None:
        self._session_factory = session_factory
        self._interval = interval
        self._written_at: datetime | None = None
        self._relay_reachable: bool | None = None

    def beat(self, now: datetime, relay_reachable: bool | None = None) -> None:
        changed = relay_reachable is not None and relay_reachable != self._relay_reachable
        due = self._written_at is None or not (
            self._written_at <= now < self._written_at + self._interval
        )
        if not (changed or due):
            return
        try:
            with self._session_factory() as session:
                record_heartbeat(session, now, relay_reachable)
        except SQLAlchemyError as e:
            logger.warning("Could not record the worker's heartbeat (%s)", type(e).__name__)
            return
        self._written_at = now
        if relay_reachable is not None:
            self._relay_reachable = relay_reachable
