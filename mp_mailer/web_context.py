"""The views' one wiring point to settings, the database and the outside services.

What create_app built (settings, a database session, the Members API client), and what views
build from the settings (an SMTP relay, cache lifetimes, public URLs)."""

from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.config import Config, smtp_settings
from mp_mailer.db import utcnow
from mp_mailer.models import Campaign
from mp_mailer.services.letter_counts import CachedLetterCounts
from mp_mailer.services.mp_lookup import CacheLifetimes, LookupBudget, MpDetails
from mp_mailer.services.warm_lookups import WarmLookups


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


def session_factory() -> sessionmaker[Session]:
    factory: sessionmaker[Session] = current_app.extensions["mp_mailer.session_factory"]
    return factory


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


def warm_lookups() -> WarmLookups[MpDetails]:
    lookups: WarmLookups[MpDetails] = current_app.extensions["mp_mailer.warm_lookups"]
    return lookups


def letter_counts() -> CachedLetterCounts:
    counts: CachedLetterCounts = current_app.extensions["mp_mailer.letter_counts"]
    return counts


def now() -> datetime:
    return utcnow()


def smtp_relay() -> SmtpRelay:
    """A relay for an email sent while a request waits (a campaigner's test send)."""
    return SmtpRelay(smtp_settings(app_config()))


def lookup_lifetimes() -> CacheLifetimes:
    """How long a postcode's MP and an MP's details are trusted before asking the Members API."""
    config = app_config()
    return CacheLifetimes(
        postcode=timedelta(days=config.postcode_cache_days),
        member=timedelta(hours=config.mp_cache_hours),
        not_found=timedelta(minutes=config.postcode_not_found_minutes),
    )


def public_campaign_url(campaign: Campaign) -> str:
    """The campaign's page as supporters reach it, whatever address staff are using."""
    return f"{app_config().public_url.rstrip('/')}/c/{campaign.slug}"
