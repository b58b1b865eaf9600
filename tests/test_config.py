"""Settings: what load_config accepts, the default it fills in, and the one-line error it stops
with for each bad value."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask

from mp_mailer import create_app
from mp_mailer.config import ConfigError, load_config
from mp_mailer.email_messages import LetterEnvelope, Supporter, build_letter_message
from mp_mailer.startup import configure_logging

SECRET_KEY = "config-test-secret-0123456789abcdef"
MAIL_FROM = "Free Tibet <campaigns@freetibet.example>"


def minimal_environ(**changes: str) -> dict[str, str]:
    """The least a deployment must set, with `changes` added (an empty string unsets)."""
    environ = {"SECRET_KEY": SECRET_KEY, "MAIL_FROM": MAIL_FROM, **changes}
    return {name: value for name, value in environ.items() if value != ""}


def config_error(tmp_path: Path, **changes: str) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(environ=minimal_environ(**changes), instance_path=tmp_path)
    message = str(caught.value)
    assert "\n" not in message, "a configuration error must fit on one line"
    return message


def test_load_config_accepts_minimal_environment_when_only_secret_key_and_mail_from_set(
    tmp_path: Path,
) -> None:
    config = load_config(environ=minimal_environ(), instance_path=tmp_path)

    assert config.secret_key == SECRET_KEY
    assert config.mail_from == MAIL_FROM


def test_load_config_names_secret_key_when_it_is_missing(tmp_path: Path) -> None:
    message = config_error(tmp_path, SECRET_KEY="")

    assert message == "SECRET_KEY is required but not set"


def test_load_config_names_secret_key_when_it_is_only_whitespace(tmp_path: Path) -> None:
    message = config_error(tmp_path, SECRET_KEY="   ")

    assert message == "SECRET_KEY is required but not set"


def test_load_config_names_secret_key_when_it_is_too_short(tmp_path: Path) -> None:
    message = config_error(tmp_path, SECRET_KEY="fifteen-chars!!")

    assert message.startswith("SECRET_KEY is too short")


@pytest.mark.parametrize("security", ["tls", "STARTTLS", "none please"])
def test_load_config_names_smtp_security_when_not_none_starttls_or_ssl(
    tmp_path: Path, security: str
) -> None:
    message = config_error(tmp_path, SMTP_SECURITY=security)

    assert message.startswith("SMTP_SECURITY must be one of none, starttls, ssl")
    assert repr(security) in message


@pytest.mark.parametrize("security", ["none", "starttls", "ssl"])
def test_load_config_accepts_smtp_security_when_a_known_choice(
    tmp_path: Path, security: str
) -> None:
    config = load_config(environ=minimal_environ(SMTP_SECURITY=security), instance_path=tmp_path)

    assert config.smtp_security == security


def test_load_config_names_smtp_port_when_not_a_number(tmp_path: Path) -> None:
    message = config_error(tmp_path, SMTP_PORT="twenty-five")

    assert message == "SMTP_PORT must be a whole number, not 'twenty-five'"


def test_load_config_names_smtp_port_when_beyond_the_last_port(tmp_path: Path) -> None:
    message = config_error(tmp_path, SMTP_PORT="65536")

    assert message.startswith("SMTP_PORT must be a port number")


@pytest.mark.parametrize("raw", ["nan", "inf", "-1", "0", "soon"])
def test_load_config_names_smtp_timeout_when_not_a_positive_number(
    tmp_path: Path, raw: str
) -> None:
    message = config_error(tmp_path, SMTP_TIMEOUT=raw)

    assert message.startswith("SMTP_TIMEOUT must be")
    assert repr(raw) in message


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("true", True),
        ("false", False),
        ("1", True),
        ("0", False),
        ("yes", True),
        ("no", False),
        ("TRUE", True),
        (" No ", False),
    ],
)
def test_load_config_reads_require_confirmation_when_a_yes_or_no_word(
    tmp_path: Path, raw: str, expected: bool
) -> None:
    config = load_config(environ=minimal_environ(REQUIRE_CONFIRMATION=raw), instance_path=tmp_path)

    assert config.require_confirmation is expected


def test_load_config_names_require_confirmation_when_neither_yes_nor_no(tmp_path: Path) -> None:
    message = config_error(tmp_path, REQUIRE_CONFIRMATION="maybe")

    assert message == "REQUIRE_CONFIRMATION must be true or false, not 'maybe'"


def test_load_config_requires_confirmation_when_not_set(tmp_path: Path) -> None:
    config = load_config(environ=minimal_environ(), instance_path=tmp_path)

    assert config.require_confirmation is True


def test_load_config_uses_the_public_members_api_when_parliament_api_url_not_set(
    tmp_path: Path,
) -> None:
    config = load_config(environ=minimal_environ(), instance_path=tmp_path)

    assert config.parliament_api_url == "https://members-api.parliament.uk/api"


def test_load_config_uses_sqlite_in_the_instance_folder_when_database_url_not_set(
    tmp_path: Path,
) -> None:
    config = load_config(environ=minimal_environ(), instance_path=tmp_path)

    assert config.database_url == f"sqlite:///{tmp_path / 'mp_mailer.sqlite3'}"


def test_load_config_names_mail_from_when_it_is_missing(tmp_path: Path) -> None:
    message = config_error(tmp_path, MAIL_FROM="")

    assert message == "MAIL_FROM is required but not set"


@pytest.mark.parametrize(
    "mail_from",
    ["campaigns", "Free Tibet <campaigns@>", "Free Tibet <campaigns@localhost>"],
)
def test_load_config_names_mail_from_when_not_an_email_address(
    tmp_path: Path, mail_from: str
) -> None:
    message = config_error(tmp_path, MAIL_FROM=mail_from)

    assert message.startswith("MAIL_FROM is not a valid email address: ")


@pytest.mark.parametrize(
    "mail_from",
    [
        "campaigns@freetibet.example, press@freetibet.example",
        "Free Tibet\r\nBcc: someone@elsewhere.example <campaigns@freetibet.example>",
        "campaigns@freetibet.example\nBcc: someone@elsewhere.example",
    ],
)
def test_load_config_names_mail_from_when_not_exactly_one_address(
    tmp_path: Path, mail_from: str
) -> None:
    message = config_error(tmp_path, MAIL_FROM=mail_from)

    assert message.startswith("MAIL_FROM must be one address")


@pytest.mark.parametrize(
    "redirect_to", ["nobody", "Me <me@example.org>", "me@example.org, you@example.org"]
)
def test_load_config_names_mail_redirect_to_when_not_a_bare_email_address(
    tmp_path: Path, redirect_to: str
) -> None:
    message = config_error(tmp_path, MAIL_REDIRECT_TO=redirect_to)

    assert message.startswith("MAIL_REDIRECT_TO is not a valid email address: ")


def test_load_config_refuses_smtp_username_when_smtp_password_not_set(tmp_path: Path) -> None:
    message = config_error(tmp_path, SMTP_USERNAME="relay-user")

    assert message == "SMTP_USERNAME and SMTP_PASSWORD must be set together"


def test_load_config_refuses_smtp_password_when_smtp_username_not_set(tmp_path: Path) -> None:
    message = config_error(tmp_path, SMTP_PASSWORD="relay-password")

    assert message == "SMTP_USERNAME and SMTP_PASSWORD must be set together"


@pytest.mark.parametrize("public_url", ["ftp://campaign.example", "campaign.example", "https://"])
def test_load_config_names_public_url_when_not_an_http_url(tmp_path: Path, public_url: str) -> None:
    message = config_error(tmp_path, PUBLIC_URL=public_url)

    assert message == "PUBLIC_URL must be an http(s) URL"


def test_load_config_names_database_url_when_neither_sqlite_nor_postgresql(
    tmp_path: Path,
) -> None:
    message = config_error(tmp_path, DATABASE_URL="mysql://db.example/mp_mailer")

    assert message == "DATABASE_URL must be a sqlite:// or postgresql:// URL"


def app_with_public_url(tmp_path: Path, public_url: str) -> Flask:
    app = create_app(
        {
            "secret_key": SECRET_KEY,
            "mail_from": MAIL_FROM,
            "database_url": f"sqlite:///{tmp_path / 'app.sqlite3'}",
            "public_url": public_url,
        }
    )
    app.extensions["mp_mailer.engine"].dispose()
    return app


def test_create_app_makes_cookies_secure_when_public_url_is_https(tmp_path: Path) -> None:
    app = app_with_public_url(tmp_path, "https://write.example")

    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True


def test_create_app_leaves_cookies_unsecured_when_public_url_is_plain_http(tmp_path: Path) -> None:
    app = app_with_public_url(tmp_path, "http://localhost:5000")

    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_mp_mailer_command_stops_with_one_line_when_secret_key_missing(tmp_path: Path) -> None:
    # The console script installed beside this interpreter, in whatever venv runs the tests.
    script = Path(sys.executable).with_name("mp-mailer")
    clean_environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}

    result = subprocess.run(
        [str(script), "init-db"],
        env=clean_environment,
        cwd=tmp_path,  # no .env here for the CLI to load
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 2
    assert result.stderr == "Configuration error: SECRET_KEY is required but not set\n"
    assert result.stdout == ""


def test_mp_mailer_help_lists_the_commands_without_any_configuration(tmp_path: Path) -> None:
    script = Path(sys.executable).with_name("mp-mailer")
    clean_environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(tmp_path)}

    result = subprocess.run(
        [str(script), "--help"],
        env=clean_environment,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0
    for command in ("init-db", "run", "worker", "create-user", "purge"):
        assert f"  {command} " in result.stdout


def test_load_config_names_the_sender_after_the_organisation_when_mail_from_has_no_name(
    tmp_path: Path,
) -> None:
    environ = minimal_environ(
        MAIL_FROM="campaigns@freetibet.example", ORGANISATION_NAME="Free Tibet"
    )

    config = load_config(environ=environ, instance_path=tmp_path)

    assert str(config.mail_from_address) == "Free Tibet <campaigns@freetibet.example>"


def test_load_config_keeps_mail_froms_own_name_when_organisation_name_is_also_set(
    tmp_path: Path,
) -> None:
    environ = minimal_environ(ORGANISATION_NAME="Another Name")

    config = load_config(environ=environ, instance_path=tmp_path)

    assert config.mail_from_address.display_name == "Free Tibet"


def test_load_config_refuses_a_nameless_mail_from_when_organisation_name_is_unset(
    tmp_path: Path,
) -> None:
    message = config_error(tmp_path, MAIL_FROM="campaigns@freetibet.example")

    assert message.startswith("MAIL_FROM has no display name")


def test_load_config_refuses_lookup_limits_it_cannot_read(tmp_path: Path) -> None:
    message = config_error(tmp_path, MP_LOOKUPS_PER_ADDRESS="lots")

    assert message.startswith("MP_LOOKUPS_PER_ADDRESS must be limits")


def test_letter_message_is_from_supporter_via_organisation_when_mail_from_has_no_name(
    tmp_path: Path,
) -> None:
    environ = minimal_environ(
        MAIL_FROM="campaigns@freetibet.example", ORGANISATION_NAME="Free Tibet"
    )
    config = load_config(environ=environ, instance_path=tmp_path)
    letter = LetterEnvelope(
        message_id="<letter.1@freetibet.example>",
        subject="Please act",
        body="Dear Ms Abbott,\n\nPlease act.",
        supporter=Supporter("Jane Doe", "jane@example.org", "1 Example Road", "SW1A 1AA"),
        mp_name="Ms Diane Abbott",
        mp_email="diane.abbott.office@parliament.uk",
        send_copy=False,
    )

    message = build_letter_message(letter, config.mail_from_address)

    assert message["From"] == "Jane Doe via Free Tibet <campaigns@freetibet.example>"
    assert "mp_mailer" not in str(message["From"])


def test_load_config_names_log_level_when_not_a_level_name(tmp_path: Path) -> None:
    assert config_error(tmp_path, LOG_LEVEL="loud").startswith("LOG_LEVEL must be one of DEBUG")


def test_load_config_reads_log_level_when_set_in_any_case(tmp_path: Path) -> None:
    config = load_config(environ=minimal_environ(LOG_LEVEL="warning"), instance_path=tmp_path)

    assert config.log_level == "warning"


def test_configure_logging_sets_the_root_level_when_log_level_given(tmp_path: Path) -> None:
    config = load_config(environ=minimal_environ(LOG_LEVEL="error"), instance_path=tmp_path)
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    root.handlers = []  # basicConfig does nothing to a root logger that already has handlers
    try:
        configure_logging(config)

        assert root.level == logging.ERROR
    finally:
        root.handlers, root.level = handlers, level


def test_create_app_reads_no_dotenv_when_one_is_in_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only the entry points (the CLI, mp_mailer.wsgi) read .env: tests and scripts see just
    # what they pass.
    (tmp_path / ".env").write_text("TRUSTED_PROXIES=3\n")
    monkeypatch.chdir(tmp_path)

    app = app_with_public_url(tmp_path, "http://localhost:5000")

    assert app.extensions["mp_mailer.config"].trusted_proxies == 0


def test_load_config_names_brand_colour_when_not_written_as_rrggbb(tmp_path: Path) -> None:
    message = config_error(tmp_path, BRAND_COLOUR="red")

    assert message == "BRAND_COLOUR must be a colour written as #rrggbb, not 'red'"


def test_load_config_names_brand_colour_when_too_light_for_white_text(tmp_path: Path) -> None:
    message = config_error(tmp_path, BRAND_COLOUR="#f5b800")

    assert message.startswith("BRAND_COLOUR #f5b800 is too light for white text on it")


def test_load_config_accepts_brand_colour_when_dark_enough_for_white_text(tmp_path: Path) -> None:
    config = load_config(environ=minimal_environ(BRAND_COLOUR="#1d4ed8"), instance_path=tmp_path)

    assert config.brand_colour == "#1d4ed8"


def test_load_config_names_organisation_logo_url_when_neither_a_url_nor_a_path(
    tmp_path: Path,
) -> None:
    message = config_error(tmp_path, ORGANISATION_LOGO_URL="javascript:alert(1)")

    assert message.startswith("ORGANISATION_LOGO_URL must be an http(s) URL or a path")


def test_site_name_is_organisation_name_when_both_it_and_mail_froms_name_are_set(
    tmp_path: Path,
) -> None:
    config = load_config(
        environ=minimal_environ(ORGANISATION_NAME="Free Tibet UK"), instance_path=tmp_path
    )

    assert config.site_name == "Free Tibet UK"
