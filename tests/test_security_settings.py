"""Settings for running in public: the secret key's length, the new limits and lifetimes."""

from __future__ import annotations

from pathlib import Path

import pytest

from mp_mailer.config import ConfigError, load_config

MAIL_FROM = "Free Tibet <campaigns@freetibet.example>"
LOCAL_LENGTH_KEY = "twenty-chars-secret!"


def load(tmp_path: Path, **environ: str) -> object:
    return load_config(environ={"MAIL_FROM": MAIL_FROM, **environ}, instance_path=tmp_path)


def test_load_config_refuses_a_short_secret_key_when_the_site_is_public(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="too short for a public site"):
        load(tmp_path, SECRET_KEY=LOCAL_LENGTH_KEY, PUBLIC_URL="https://campaign.example")


def test_load_config_accepts_a_shorter_secret_key_when_the_site_is_local(tmp_path: Path) -> None:
    config = load(tmp_path, SECRET_KEY=LOCAL_LENGTH_KEY, PUBLIC_URL="http://127.0.0.1:5000")

    assert config.secret_key == LOCAL_LENGTH_KEY  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("name", "value", "attribute", "expected"),
    [
        ("LETTERS_PER_ADDRESS", "5 per minute", "letters_per_address", "5 per minute"),
        ("EMAILS_PER_SUPPORTER", "2 per day", "emails_per_supporter", "2 per day"),
        ("STAFF_SESSION_HOURS", "2", "staff_session_hours", 2),
        ("RETENTION_DAYS", "90", "retention_days", 90),
    ],
)
def test_load_config_reads_a_security_setting_when_set(
    tmp_path: Path, name: str, value: str, attribute: str, expected: object
) -> None:
    config = load(tmp_path, SECRET_KEY="s" * 32, **{name: value})

    assert getattr(config, attribute) == expected


@pytest.mark.parametrize("name", ["LETTERS_PER_ADDRESS", "EMAILS_PER_SUPPORTER"])
def test_load_config_names_a_limit_when_it_cannot_be_read(tmp_path: Path, name: str) -> None:
    with pytest.raises(ConfigError, match=f"^{name} must be limits"):
        load(tmp_path, SECRET_KEY="s" * 32, **{name: "lots"})
