"""The web app for a WSGI server: `gunicorn mp_mailer.wsgi:app`."""

from __future__ import annotations

from mp_mailer import create_app
from mp_mailer.startup import configure_logging, load_environment

load_environment()
app = create_app()
configure_logging(app.extensions["mp_mailer.config"])
