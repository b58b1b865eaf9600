"""The views' one wiring point to settings, the database and the outside services.

What create_app built (settings, a database session, the Members API client), and what views
build from the settings (an SMTP relay, cache lifetimes, public URLs)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from flask import current_app, g
from sqlalchemy.orm import Session, sessionmaker

from mp_mailer.clients.dns_records import TxtLookup, TxtResolver
from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.clients.smtp_relay import SmtpRelay
from mp_mailer.config import Config
from mp_mailer.config import smtp_relay as config_smtp_relay
from mp_mailer.db import utcnow
from mp_mailer.models import Campaign, LetterTemplate
from mp_mailer.services.campaign_progress import CampaignProgress, ProgressCounter
from mp_mailer.services.mp_cache import MpDetails
from mp_mailer.services.mp_lookup import CacheLifetimes, LookupBudget
from mp_mailer.services.send_log.reply_figures import ReplyFigures, reply_figures
from mp_mailer.services.sender_checks import DkimKey, SenderReport, check_sender
from mp_mailer.services.supporter_mail import RecipientBudget
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


def recipient_budget() -> RecipientBudget:
    """How many more emails each supporter's address may be sent for now."""
    budget: RecipientBudget = current_app.extensions["mp_mailer.recipient_budget"]
    return budget


def warm_lookups() -> WarmLookups[MpDetails]:
    lookups: WarmLookups[MpDetails] = current_app.extensions["mp_mailer.warm_lookups"]
    return lookups


def warm_campaigns() -> WarmLookups[Campaign]:
    """Campaigns as their public pages show them, by address, kept for seconds."""
    campaigns: WarmLookups[Campaign] = current_app.extensions["mp_mailer.warm_campaigns"]
    return campaigns


def warm_templates() -> WarmLookups[LetterTemplate]:
    """Campaigns' current letters as the letter page fills them in, by campaign id, kept for
    seconds."""
    templates: WarmLookups[LetterTemplate] = current_app.extensions["mp_mailer.warm_templates"]
    return templates


def now() -> datetime:
    return utcnow()


def smtp_relay() -> SmtpRelay:
    """A relay for an email sent while a request waits (a campaigner's test send)."""
    return config_smtp_relay(app_config())


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


def campaign_progress(campaign: Campaign) -> CampaignProgress:
    """Letters sent and MPs reached, counted at most once a minute per process."""
    counter: ProgressCounter = current_app.extensions["mp_mailer.progress_counter"]
    return counter.progress(db_session(), campaign, now())


def public_reply_figures(campaign_id: int) -> ReplyFigures:
    """The campaign's reply figures for its public page, counted at most every few minutes."""
    kept: WarmLookups[ReplyFigures] = current_app.extensions["mp_mailer.public_reply_figures"]
    figures = kept.find(str(campaign_id), now())
    if figures is None:
        figures = reply_figures(db_session(), campaign_id)
        kept.keep(str(campaign_id), figures, now())
    return figures


def sender_report() -> SenderReport:
    """The sender checks for MAIL_FROM's domain, through the app's resolver (a stub in tests)."""
    resolver: TxtLookup = current_app.extensions.get("mp_mailer.dns_resolver") or TxtResolver()
    return sender_report_for(app_config(), resolver)


def sender_report_for(config: Config, resolver: TxtLookup) -> SenderReport:
    key = None
    if config.dkim_selector and config.dkim_domain and config.dkim_key_file:
        key = DkimKey(
            config.dkim_selector, config.dkim_domain, Path(config.dkim_key_file).read_bytes()
        )
    domain = config.mail_from_address.domain
    return check_sender(resolver, domain, config.smtp_host, key)
