"""Per-request access to what create_app built: settings, a database session, the API client."""

from __future__ import annotations

from datetime import datetime

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.config import Config
from mp_mailer.db import utcnow
from mp_mailer.services.mp_lookup import LookupBudget


def app_config() -> Config:
    config: Config = current_app.extensions["mp_mailer.config"]
    return config


def db_session() -> Session:
    """One session per request, closed when the request ends."""
    if "db_session" not in g:
        factory: sessionmaker[Session] = current_app.extensions["mp_mailer.session_factory"]
        g.db_session = factory()
    session: Session = g.db_session
    return session


def new_db_session() -> Session:
    """A session the caller closes itself, for work that outlives the request (a streamed body)."""
    factory: sessionmaker[Session] = current_app.extensions["mp_mailer.session_factory"]
    return factory()


def members_api() -> MembersApiClient:
    client: MembersApiClient = current_app.extensions["mp_mailer.members_api"]
    return client


def lookup_budget() -> LookupBudget:
    budget: LookupBudget = current_app.extensions["mp_mailer.lookup_budget"]
    return budget


def now() -> datetime:
    return utcnow()
