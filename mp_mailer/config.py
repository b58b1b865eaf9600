"""Settings read once from the environment, validated so a bad deployment fails at start-up."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from email.headerregistry import Address
from email.utils import getaddresses, parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from email_validator import EmailNotValidError, validate_email
from limits import parse_many

from mp_mailer.clients.dkim_signing import DkimKeyError, DkimSigner
from mp_mailer.clients.smtp_relay import SmtpRelay, SmtpSettings

DEFAULT_PARLIAMENT_API_URL = "https://members-api.parliament.uk/api"
SMTP_SECURITY_CHOICES = ("none", "starttls", "ssl")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
DEFAULT_BRAND_COLOUR = "#b3122e"
_HEX_COLOUR = re.compile(r"#[0-9a-fA-F]{6}")
# WCAG AA for normal text: buttons and the hero put white text on the brand colour.
MIN_CONTRAST_WITH_WHITE = 4.5
LOCAL_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
# Signs sessions and every link in supporters' emails: guessable, it forges them all.
MIN_SECRET_KEY_LENGTH = 32
MIN_LOCAL_SECRET_KEY_LENGTH = 16
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ConfigError(Exception):
    """A setting is missing or invalid; the message names the variable and the problem."""


@dataclass(frozen=True)
class Config:
    secret_key: str
    database_url: str
    public_url: str
    parliament_api_url: str = DEFAULT_PARLIAMENT_API_URL
    parliament_api_timeout: float = 5.0
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 8025
    smtp_username: str | None = None
    smtp_password: str | None = None
    smtp_security: str = "none"
    smtp_timeout: float = 15.0
    # Required: empty here so load_config reports it unset (no placeholder passes validation).
    mail_from: str = ""
    mail_redirect_to: str | None = None
    require_confirmation: bool = True
    confirmation_max_age_hours: int = 48
    ratelimit_storage_uri: str = "memory://"
    retry_base_seconds: int = 60
    delivery_retry_window_hours: int = 72
    relay_outage_max_wait_seconds: int = 600
    lease_seconds: int = 300
    worker_poll_seconds: float = 2.0
    mp_cache_hours: int = 12
    postcode_cache_days: int = 30
    postcode_not_found_minutes: int = 60
    mp_lookups_per_address: str = "30 per minute; 300 per hour"
    members_api_lookups_per_minute: int = 300
    organisation_name: str | None = None
    # Branding: the organisation's logo and favicon (URLs or site paths) and its colour.
    organisation_logo_url: str | None = None
    favicon_url: str | None = None
    brand_colour: str = DEFAULT_BRAND_COLOUR
    letters_per_address: str = "30 per minute; 600 per hour"
    emails_per_supporter: str = "3 per hour; 6 per day"
    staff_session_hours: int = 8
    retention_days: int = 180
    # Days after a letter is sent that its supporter is asked "has your MP replied?"; 0: never.
    reply_check_days: int = 14
    sink_directory: str = ""
    trusted_proxies: int = 0
    log_level: str = "INFO"
    # Returned mail (bounces, automatic replies): each letter's envelope sender is a signed
    # address under this one's domain; `mp-mailer inbound` reads what comes back.
    bounce_address: str | None = None
    inbound_smtp_host: str = "127.0.0.1"
    inbound_smtp_port: int = 2525
    imap_url: str | None = None
    imap_poll_seconds: float = 60.0
    # DKIM signing of every outgoing email: all three, or none.
    dkim_selector: str | None = None
    dkim_domain: str | None = None
    dkim_key_file: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def mail_from_address(self) -> Address:
        """MAIL_FROM, named for ORGANISATION_NAME when MAIL_FROM itself carries no name."""
        name, addr = parseaddr(self.mail_from)
        username, _, domain = addr.partition("@")
        display_name = name or self.organisation_name or ""
        return Address(display_name=display_name, username=username, domain=domain)

    @property
    def site_name(self) -> str:
        """What every page's title and header call the site: the organisation, never the tool."""
        return (
            self.organisation_name
            or self.mail_from_address.display_name
            or self.mail_from_address.domain
        )

    @property
    def uses_https(self) -> bool:
        return urlsplit(self.public_url).scheme == "https"

    @property
    def is_local(self) -> bool:
        """A developer's own machine: the site answers only on this computer."""
        return urlsplit(self.public_url).hostname in LOCAL_HOSTS


_ENV_NAMES = {
    "secret_key": "SECRET_KEY",
    "database_url": "DATABASE_URL",
    "public_url": "PUBLIC_URL",
    "parliament_api_url": "PARLIAMENT_API_URL",
    "parliament_api_timeout": "PARLIAMENT_API_TIMEOUT",
    "smtp_host": "SMTP_HOST",
    "smtp_port": "SMTP_PORT",
    "smtp_username": "SMTP_USERNAME",
    "smtp_password": "SMTP_PASSWORD",
    "smtp_security": "SMTP_SECURITY",
    "smtp_timeout": "SMTP_TIMEOUT",
    "mail_from": "MAIL_FROM",
    "mail_redirect_to": "MAIL_REDIRECT_TO",
    "require_confirmation": "REQUIRE_CONFIRMATION",
    "confirmation_max_age_hours": "CONFIRMATION_MAX_AGE_HOURS",
    "reply_check_days": "REPLY_CHECK_DAYS",
    "ratelimit_storage_uri": "RATELIMIT_STORAGE_URI",
    "retry_base_seconds": "RETRY_BASE_SECONDS",
    "delivery_retry_window_hours": "DELIVERY_RETRY_WINDOW_HOURS",
    "relay_outage_max_wait_seconds": "RELAY_OUTAGE_MAX_WAIT_SECONDS",
    "lease_seconds": "LEASE_SECONDS",
    "worker_poll_seconds": "WORKER_POLL_SECONDS",
    "mp_cache_hours": "MP_CACHE_HOURS",
    "postcode_cache_days": "POSTCODE_CACHE_DAYS",
    "postcode_not_found_minutes": "POSTCODE_NOT_FOUND_MINUTES",
    "mp_lookups_per_address": "MP_LOOKUPS_PER_ADDRESS",
    "members_api_lookups_per_minute": "MEMBERS_API_LOOKUPS_PER_MINUTE",
    "organisation_name": "ORGANISATION_NAME",
    "organisation_logo_url": "ORGANISATION_LOGO_URL",
    "favicon_url": "FAVICON_URL",
    "brand_colour": "BRAND_COLOUR",
    "letters_per_address": "LETTERS_PER_ADDRESS",
    "emails_per_supporter": "EMAILS_PER_SUPPORTER",
    "staff_session_hours": "STAFF_SESSION_HOURS",
    "retention_days": "RETENTION_DAYS",
    "sink_directory": "SINK_DIRECTORY",
    "trusted_proxies": "TRUSTED_PROXIES",
    "log_level": "LOG_LEVEL",
    "bounce_address": "BOUNCE_ADDRESS",
    "inbound_smtp_host": "INBOUND_SMTP_HOST",
    "inbound_smtp_port": "INBOUND_SMTP_PORT",
    "imap_url": "IMAP_URL",
    "imap_poll_seconds": "IMAP_POLL_SECONDS",
    "dkim_selector": "DKIM_SELECTOR",
    "dkim_domain": "DKIM_DOMAIN",
    "dkim_key_file": "DKIM_KEY_FILE",
}
REQUIRED = ("secret_key", "database_url", "public_url", "smtp_host", "mail_from")


def env_name(attribute: str) -> str:
    return _ENV_NAMES[attribute]


def _convert(attribute: str, raw: str, kind: Any) -> Any:
    name = env_name(attribute)
    text = raw.strip()
    if kind in ("bool", bool):
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise ConfigError(f"{name} must be true or false, not {raw!r}")
    if kind in ("int", int):
        try:
            value = int(text)
        except ValueError:
            raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None
        if value <= 0:
            raise ConfigError(f"{name} must be greater than zero, not {raw!r}")
        return value
    if kind in ("float", float):
        try:
            number = float(text)
        except ValueError:
            raise ConfigError(f"{name} must be a number, not {raw!r}") from None
        if not math.isfinite(number):
            raise ConfigError(f"{name} must be a number, not {raw!r}")
        if number <= 0:
            raise ConfigError(f"{name} must be greater than zero, not {raw!r}")
        return number
    return text or None


def _type_of(attribute: str) -> str:
    annotation = {f.name: f.type for f in fields(Config)}[attribute]
    for kind in ("bool", "int", "float"):
        if annotation == kind:
            return kind
    return "str"


def load_config(
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
    instance_path: Path | None = None,
) -> Config:
    """Build the Config from environment variables and test overrides, then validate it.

    Raises ConfigError naming the first bad variable.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for attribute, name in _ENV_NAMES.items():
        raw = environ.get(name)
        if raw is not None and raw.strip() != "":
            values[attribute] = _convert(attribute, raw, _type_of(attribute))
    extra: dict[str, Any] = {}
    for key, value in (overrides or {}).items():
        if key in _ENV_NAMES:
            values[key] = value
        else:
            extra[key] = value
    if "database_url" not in values and instance_path is not None:
        values["database_url"] = f"sqlite:///{instance_path / 'mp_mailer.sqlite3'}"
    if not values.get("sink_directory") and instance_path is not None:
        values["sink_directory"] = str(instance_path / "sent-mail")
    values.setdefault("public_url", "http://127.0.0.1:5000")
    for attribute in REQUIRED:
        if not values.get(attribute) and not getattr(Config, attribute, None):
            raise ConfigError(f"{env_name(attribute)} is required but not set")
    config = Config(**values, extra=extra)
    validate(config)
    return config


def validate(config: Config) -> None:
    if len(config.secret_key) < MIN_LOCAL_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is too short: use at least {MIN_SECRET_KEY_LENGTH} random characters"
        )
    if config.smtp_security not in SMTP_SECURITY_CHOICES:
        raise ConfigError(
            f"SMTP_SECURITY must be one of {', '.join(SMTP_SECURITY_CHOICES)}, "
            f"not {config.smtp_security!r}"
        )
    if config.log_level.upper() not in LOG_LEVELS:
        raise ConfigError(
            f"LOG_LEVEL must be one of {', '.join(LOG_LEVELS)}, not {config.log_level!r}"
        )
    if not 0 < config.smtp_port < 65536:
        raise ConfigError(f"SMTP_PORT must be a port number, not {config.smtp_port}")
    if bool(config.smtp_username) != bool(config.smtp_password):
        raise ConfigError("SMTP_USERNAME and SMTP_PASSWORD must be set together")
    for attribute in ("public_url", "parliament_api_url"):
        parts = urlsplit(getattr(config, attribute))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ConfigError(f"{env_name(attribute)} must be an http(s) URL")
    # After PUBLIC_URL is known to be a URL: how long the key must be depends on where it is.
    if not config.is_local and len(config.secret_key) < MIN_SECRET_KEY_LENGTH:
        raise ConfigError(
            f"SECRET_KEY is too short for a public site: use at least {MIN_SECRET_KEY_LENGTH} "
            "random characters, e.g. from: python3 -c 'import secrets; print(secrets.token_hex())'"
        )
    _validate_mail(config)
    _validate_branding(config)
    for attribute in ("mp_lookups_per_address", "letters_per_address", "emails_per_supporter"):
        _check_limits(attribute, getattr(config, attribute))
    if not config.database_url.startswith(("sqlite", "postgresql")):
        raise ConfigError("DATABASE_URL must be a sqlite:// or postgresql:// URL")


def _check_limits(attribute: str, value: str) -> None:
    try:
        parse_many(value)
    except ValueError as e:
        raise ConfigError(
            f"{env_name(attribute)} must be limits such as '30 per minute; 300 per hour', "
            f"not {value!r}"
        ) from e


def _validate_mail(config: Config) -> None:
    # parseaddr quietly keeps the first of several addresses, or a fragment after a line break.
    if len(getaddresses([config.mail_from])) != 1 or any(c in config.mail_from for c in "\r\n"):
        raise ConfigError("MAIL_FROM must be one address, such as Name <campaigns@example.org>")
    from_name, from_address = parseaddr(config.mail_from)
    _check_email("mail_from", from_address)
    # Letters are From "<supporter> via <organisation>": the organisation must have a name.
    if not from_name and not config.organisation_name:
        raise ConfigError(
            "MAIL_FROM has no display name: write it as Free Tibet <campaigns@example.org>, "
            "or set ORGANISATION_NAME"
        )
    if config.mail_redirect_to:
        _check_email("mail_redirect_to", config.mail_redirect_to)
    if config.bounce_address:
        _check_email("bounce_address", config.bounce_address)
        if "+" in config.bounce_address.partition("@")[0]:
            raise ConfigError("BOUNCE_ADDRESS must have no + (each letter's address adds one)")
    _validate_inbound(config)
    _validate_dkim(config)


def _validate_inbound(config: Config) -> None:
    if not 0 < config.inbound_smtp_port < 65536:
        raise ConfigError(
            f"INBOUND_SMTP_PORT must be a port number, not {config.inbound_smtp_port}"
        )
    if config.imap_url:
        parts = urlsplit(config.imap_url)
        if parts.scheme not in ("imap", "imaps") or not parts.hostname or not parts.username:
            raise ConfigError(
                "IMAP_URL must look like imaps://user:password@imap.example.org/INBOX"
            )


def _validate_dkim(config: Config) -> None:
    values = (config.dkim_selector, config.dkim_domain, config.dkim_key_file)
    if any(values) and not all(values):
        raise ConfigError("DKIM_SELECTOR, DKIM_DOMAIN and DKIM_KEY_FILE must be set together")
    if all(values):
        try:
            dkim_signer(config)
        except DkimKeyError as e:
            raise ConfigError(f"DKIM_KEY_FILE: {e}") from e


def dkim_signer(config: Config) -> DkimSigner | None:
    """The signer for every outgoing email, when DKIM is configured."""
    if not (config.dkim_selector and config.dkim_domain and config.dkim_key_file):
        return None
    return DkimSigner.from_key_file(
        config.dkim_selector, config.dkim_domain, Path(config.dkim_key_file)
    )


def smtp_relay(config: Config) -> SmtpRelay:
    """A connection to the relay as configured, signing with DKIM when a key is set."""
    return SmtpRelay(smtp_settings(config), dkim_signer=dkim_signer(config))


def _validate_branding(config: Config) -> None:
    if not _HEX_COLOUR.fullmatch(config.brand_colour):
        raise ConfigError(
            f"BRAND_COLOUR must be a colour written as #rrggbb, not {config.brand_colour!r}"
        )
    ratio = contrast_with_white(config.brand_colour)
    if ratio < MIN_CONTRAST_WITH_WHITE:
        raise ConfigError(
            f"BRAND_COLOUR {config.brand_colour} is too light for white text on it "
            f"(contrast {ratio:.2f}:1, needs {MIN_CONTRAST_WITH_WHITE}:1): choose a darker shade"
        )
    for attribute in ("organisation_logo_url", "favicon_url"):
        value = getattr(config, attribute)
        if value and not (value.startswith("/") or urlsplit(value).scheme in ("http", "https")):
            raise ConfigError(
                f"{env_name(attribute)} must be an http(s) URL or a path on this site, "
                "like /static/logo.svg"
            )


def contrast_with_white(colour: str) -> float:
    """WCAG 2 contrast ratio between white and a #rrggbb colour."""

    def channel(hex_pair: str) -> float:
        value = int(hex_pair, 16) / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    red, green, blue = (channel(colour[i : i + 2]) for i in (1, 3, 5))
    luminance = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return 1.05 / (luminance + 0.05)


def _check_email(attribute: str, address: str) -> None:
    try:
        validate_email(address, check_deliverability=False, test_environment=True)
    except EmailNotValidError as e:
        raise ConfigError(f"{env_name(attribute)} is not a valid email address: {e}") from e


def smtp_settings(config: Config) -> SmtpSettings:
    """How to reach the relay: for the worker, and for campaigners' test sends from the web app."""
    return SmtpSettings(
        host=config.smtp_host,
        port=config.smtp_port,
        security=config.smtp_security,
        username=config.smtp_username,
        password=config.smtp_password,
        timeout=config.smtp_timeout,
    )
