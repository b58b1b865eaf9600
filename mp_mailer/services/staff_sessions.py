"""Staff logins held on the server: each cookie names one, which logging out, disabling the
account or changing its password ends, so a copied cookie stops working then too."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mp_mailer.db import transaction
from mp_mailer.models import StaffSession, User


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(session: Session, user_id: int, now: datetime, lifetime: timedelta) -> str:
    """A new login for the user; returns the token the cookie carries (stored only hashed)."""
    token = secrets.token_urlsafe(32)
    with transaction(session):
        session.add(
            StaffSession(
                token_hash=_hash(token), user_id=user_id, created_at=now, expires_at=now + lifetime
            )
        )
    return token


def find_live_user(session: Session, token: str | None, user_id: str, now: datetime) -> User | None:
    """The active user whose unexpired, unrevoked login this token is; None otherwise."""
    if not token or not user_id.isdigit():
        return None
    row = session.scalar(
        select(StaffSession).where(
            StaffSession.token_hash == _hash(token),
            StaffSession.revoked_at.is_(None),
            StaffSession.expires_at > now,
        )
    )
    if row is None or str(row.user_id) != user_id or not row.user.is_active:
        return None
    return row.user


def end_session(session: Session, token: str | None, now: datetime) -> None:
    if not token:
        return
    with transaction(session):
        session.execute(
            update(StaffSession)
            .where(StaffSession.token_hash == _hash(token), StaffSession.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def end_all_sessions(session: Session, user_id: int, now: datetime) -> int:
    """Every login of this user, on every device; returns how many were still live.

    Does not commit: callers end sessions in the same transaction as the change behind it.
    """
    result = session.execute(
        update(StaffSession)
        .where(StaffSession.user_id == user_id, StaffSession.revoked_at.is_(None))
        .values(revoked_at=now)
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount)  # type: ignore[attr-defined]
