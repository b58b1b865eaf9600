"""mp_mailer: a self-hostable 'email your MP' campaign tool."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from mp_mailer.clients.parliament import MembersApiClient
from mp_mailer.config import Config, load_config
from mp_mailer.db import make_engine, make_session_factory
from mp_mailer.extensions import CookieSessions, csrf, limiter, login_manager
from mp_mailer.models import Campaign, LetterTemplate
from mp_mailer.services.campaign_progress import ProgressCounter
from mp_mailer.services.mp_cache import MpDetails
from mp_mailer.services.mp_lookup import LookupBudget
from mp_mailer.services.send_log.reply_figures import PUBLIC_LIFETIME, ReplyFigures
from mp_mailer.services.supporter_mail import RecipientBudget
from mp_mailer.services.warm_lookups import WarmLookups
from mp_mailer.views.kept_pages import PageWithToken

PACKAGE_DIRECTORY = Path(__file__).resolve().parent
# How late a campaigner's change may reach the public pages of other web processes.
PUBLIC_PAGE_LIFETIME = timedelta(seconds=5)


def templates_directory() -> Path:
    """The page templates: mp_mailer/templates in an installed wheel (pyproject.toml maps the
    top-level templates/ folder there), else templates/ beside the package in a source checkout."""
    installed = PACKAGE_DIRECTORY / "templates"
    return installed if installed.is_dir() else PACKAGE_DIRECTORY.parent / "templates"


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    """Build the web app. `overrides` replaces settings (by Config attribute name) in tests."""
    app = Flask(
        __name__,
        template_folder=str(templates_directory()),
        instance_relative_config=True,
    )
    instance_path = Path(app.instance_path)
    instance_path.mkdir(parents=True, exist_ok=True)
    config = load_config(overrides=overrides, instance_path=instance_path)
    _configure_flask(app, config)
    if config.trusted_proxies:
        # Behind a proxy, the client's address (for rate limits) and https come from its headers.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=config.trusted_proxies, x_proto=config.trusted_proxies
        )

    engine = make_engine(config.database_url)
    app.extensions["mp_mailer.config"] = config
    app.extensions["mp_mailer.engine"] = engine
    app.extensions["mp_mailer.session_factory"] = make_session_factory(engine)
    app.extensions["mp_mailer.members_api"] = MembersApiClient(
        config.parliament_api_url,
        timeout=(3.05, config.parliament_api_timeout),
        retries=1,
        backoff_factor=float(config.extra.get("members_api_backoff", 0.5)),
    )
    app.extensions["mp_mailer.warm_lookups"] = WarmLookups[MpDetails]()
    app.extensions["mp_mailer.warm_campaigns"] = WarmLookups[Campaign](
        lifetime=PUBLIC_PAGE_LIFETIME, max_entries=1_000
    )
    app.extensions["mp_mailer.warm_templates"] = WarmLookups[LetterTemplate](
        lifetime=PUBLIC_PAGE_LIFETIME, max_entries=1_000
    )
    app.extensions["mp_mailer.kept_pages"] = WarmLookups[PageWithToken](
        lifetime=PUBLIC_PAGE_LIFETIME, max_entries=1_000
    )
    app.extensions["mp_mailer.lookup_budget"] = LookupBudget(
        config.ratelimit_storage_uri,
        per_address=config.mp_lookups_per_address,
        site_wide=f"{config.members_api_lookups_per_minute} per minute",
    )
    app.extensions["mp_mailer.progress_counter"] = ProgressCounter()
    # The public page costs the database one count per campaign and process every few minutes.
    app.extensions["mp_mailer.public_reply_figures"] = WarmLookups[ReplyFigures](
        lifetime=PUBLIC_LIFETIME, max_entries=1_000
    )

    app.extensions["mp_mailer.recipient_budget"] = RecipientBudget(
        config.ratelimit_storage_uri, config.emails_per_supporter
    )

    csrf.init_app(app)
    login_manager.init_app(app)
    limiter.init_app(app)

    from mp_mailer import cli, permissions
    from mp_mailer.views import errors, security_headers

    permissions.init_app(app)
    security_headers.init_app(app, uses_https=config.uses_https)
    register_blueprints(app)
    errors.register_error_handlers(app)
    cli.register_commands(app)
    app.teardown_appcontext(_close_request_session)
    return app


def register_blueprints(app: Flask) -> None:
    """Every page's route; tests also build URLs from these alone (tests/pages.py)."""
    from mp_mailer.views import (
        auth,
        branding,
        campaigns,
        health,
        privacy,
        privacy_requests,
        replies,
        send_log,
        supporter,
        users,
    )
    from mp_mailer.views.identifiers import DatabaseIdConverter

    # Before any rule is added: every <int:...> in a route then fits an integer column.
    app.url_map.converters["int"] = DatabaseIdConverter
    for blueprint in (
        branding.blueprint,
        health.blueprint,
        supporter.blueprint,
        replies.blueprint,
        auth.blueprint,
        campaigns.blueprint,
        users.blueprint,
        send_log.blueprint,
        privacy.blueprint,
        privacy_requests.blueprint,
    ):
        app.register_blueprint(blueprint)


def _configure_flask(app: Flask, config: Config) -> None:
    app.config.update(
        SECRET_KEY=config.secret_key,
        TESTING=bool(config.extra.get("testing", False)),
        WTF_CSRF_ENABLED=bool(config.extra.get("csrf_enabled", True)),
        WTF_CSRF_TIME_LIMIT=12 * 3600,
        # Staff logins end after this even if a cookie is kept (also on the server: staff_sessions).
        PERMANENT_SESSION_LIFETIME=timedelta(hours=config.staff_session_hours),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.uses_https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.uses_https,
        RATELIMIT_STORAGE_URI=config.ratelimit_storage_uri,
        RATELIMIT_ENABLED=bool(config.extra.get("ratelimit_enabled", True)),
        # The X-RateLimit headers cost one more Redis round trip on every limited request, and
        # a browser posting a form never reads them: a refusal is the 429 page.
        RATELIMIT_HEADERS_ENABLED=False,
        MAX_CONTENT_LENGTH=256 * 1024,
        PREFERRED_URL_SCHEME="https" if config.uses_https else "http",
    )
    app.session_interface = CookieSessions()
    from mp_mailer.uk_time import format_uk, to_uk

    # Stored times are naive UTC; every page shows UK time.
    app.jinja_env.filters["to_uk"] = to_uk
    app.jinja_env.filters["uk_time"] = format_uk
    if app.config["TESTING"]:
        from jinja2 import StrictUndefined

        app.jinja_env.undefined = StrictUndefined


def _close_request_session(_exception: BaseException | None) -> None:
    from flask import g

    session = g.pop("db_session", None)
    if session is not None:
        session.close()
