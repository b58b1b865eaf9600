"""Alembic migrations for mp_mailer's database, applied by `mp-mailer init-db`."""
