"""The health report /healthz gives a load balancer: database, outbox depth, the last worker."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from mp_mailer.models import Letter, LetterStatus, WorkerHeartbeat

# Letters the worker still has to send: waiting their turn, waiting a retry, or being sent.
WAITING_STATUSES = (LetterStatus.QUEUED, LetterStatus.RETRYING, LetterStatus.SENDING)


@dataclass(frozen=True)
class HealthReport:
    database_reachable: bool
    outbox_depth: int | None = None
    oldest_queued_age_seconds: float | None = None
    worker_seen_at: datetime | None = None
    relay_checked_at: datetime | None = None
    relay_reachable: bool | None = None

    @property
    def healthy(self) -> bool:
        # Only the database decides: with the relay down letters still queue safely, and taking
        # the web processes out of the load balancer would turn supporters away for nothing.
        return self.database_reachable

    def as_json(self, now: datetime) -> dict[str, Any]:
        return {
            "status": "ok" if self.healthy else "unavailable",
            "database": {"reachable": self.database_reachable},
            "outbox": {
                "depth": self.outbox_depth,
                "oldest_queued_age_seconds": self.oldest_queued_age_seconds,
            },
            "worker": {
                "last_seen_at": _iso(self.worker_seen_at),
                "last_seen_age_seconds": _age(self.worker_seen_at, now),
                "relay_reachable": self.relay_reachable,
                "relay_checked_at": _iso(self.relay_checked_at),
            },
        }


def check_health(session_factory: sessionmaker[Session], now: datetime) -> HealthReport:
    try:
        with session_factory() as session:
            return _report(session, now)
    except SQLAlchemyError:
        return HealthReport(database_reachable=False)


def _report(session: Session, now: datetime) -> HealthReport:
    session.execute(text("SELECT 1"))
    depth, oldest = session.execute(
        select(func.count(), func.min(func.coalesce(Letter.confirmed_at, Letter.created_at))).where(
            Letter.status.in_(WAITING_STATUSES)
        )
    ).one()
    heartbeat = session.scalars(select(WorkerHeartbeat).limit(1)).first()
    return HealthReport(
        database_reachable=True,
        outbox_depth=int(depth),
        oldest_queued_age_seconds=_age(oldest, now),
        worker_seen_at=heartbeat.seen_at if heartbeat else None,
        relay_checked_at=heartbeat.relay_checked_at if heartbeat else None,
        relay_reachable=heartbeat.relay_reachable if heartbeat else None,
    )


def _age(since: datetime | None, now: datetime) -> float | None:
    return None if since is None else round(max((now - since).total_seconds(), 0.0), 1)


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat(timespec="seconds") + "Z"
