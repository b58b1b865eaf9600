"""Alembic environment: runs on a connection handed over by mp_mailer, or on DATABASE_URL."""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import Connection

from mp_mailer import models  # noqa: F401  (registers the tables on Base.metadata)
from mp_mailer.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def include_object(
    obj: object, _name: str | None, _type: str, _reflected: bool, _compare_to: object
) -> bool:
    """Skip objects meant for another database (Index.ddl_if), which autogenerate ignores."""
    ddl_if = getattr(obj, "_ddl_if", None)
    return ddl_if is None or ddl_if.dialect in (None, context.get_bind().dialect.name)


def run_on(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    run_on(connection)
else:
    url = config.get_main_option("sqlalchemy.url") or os.environ["DATABASE_URL"]
    with make_engine(url).connect() as new_connection:
        run_on(new_connection)
