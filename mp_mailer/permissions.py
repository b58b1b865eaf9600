"""Who may see staff pages: Flask-Login's user loader, role checks, safe redirects after login."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import Flask, abort, session
from flask_login import current_user, login_required

from mp_mailer.extensions import login_manager
from mp_mailer.models import User, UserRole
from mp_mailer.services.staff_sessions import find_live_user
from mp_mailer.web_context import db_session, now

F = TypeVar("F", bound=Callable[..., Any])


def init_app(app: Flask) -> None:
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Log in to see that page."
    login_manager.login_message_category = "info"
    # Off, because it protects nothing here and costs every supporter. Staff sessions are
    # permanent, and for those Flask-Login's "strong" mode only marks a login not fresh (no page
    # asks for a fresh one); a copied cookie is stopped by the login's record on the server
    # (services/staff_sessions.py). For anonymous supporters it rewrote the session cookie and
    # deleted a remember-me cookie (never set here) on every request.
    login_manager.session_protection = None


STAFF_SESSION_KEY = "staff_session"


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The user only while the login the cookie names is live on the server."""
    return find_live_user(db_session(), session.get(STAFF_SESSION_KEY), user_id, now())


def role_required(*roles: UserRole) -> Callable[[F], F]:
    """Anonymous visitors go to the login page; a logged-in user without the role gets 403."""

    def decorator(view: F) -> F:
        @wraps(view)
        @login_required
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            if not current_user.has_role(*roles):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_roles = roles  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorator


def safe_next_url(target: str | None) -> str | None:
    """Only a path on this site: never another host, scheme or protocol-relative URL."""
    if not target or "\\" in target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target
