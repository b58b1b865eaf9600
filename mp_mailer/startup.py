"""What a process does before it builds the app: read .env, then set up logging."""

from __future__ import annotations

import logging

from dotenv import find_dotenv, load_dotenv

from mp_mailer.config import Config

# Chatty at INFO: aiosmtpd logs every SMTP command of the local sink, Alembic every migration.
QUIET_LOGGERS = ("mail.log", "alembic.runtime.migration")


def load_environment() -> None:
    """Settings from a .env file in the working directory (or above it), without overriding
    what the environment already sets."""
    load_dotenv(find_dotenv(usecwd=True))


def configure_logging(config: Config) -> None:
    logging.basicConfig(level=config.log_level.upper())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
