"""send log indexes

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 09:30:00

Adds an index for the send log filtered by campaign and status (also used by the figures), one
that answers "how many letters has each MP received" from the index alone, and on PostgreSQL a
trigram index so a search on supporters' names and emails need not read every letter. pg_trgm
ships with PostgreSQL and is a trusted extension; where it cannot be created (no contrib package,
no CREATE privilege) the search still works, only more slowly.
"""

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

logger = logging.getLogger("alembic.runtime.migration")

TRIGRAM_INDEX = "ix_letters_supporter_trgm"


def upgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.create_index(
            "ix_letters_campaign_status_created",
            ["campaign_id", "status", "created_at", "id"],
            unique=False,
        )
        batch_op.create_index(
            "ix_letters_status_mp",
            ["status", "mp_id", "campaign_id", "created_at", "sent_at"],
            unique=False,
        )
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    schema = _trigram_schema(bind)
    if schema is None:
        logger.warning("pg_trgm is not available: searching the send log will scan every letter")
        return
    # Qualified by the extension's schema, which need not be on the search_path.
    ops = f"{_quote(bind, schema)}.gin_trgm_ops"
    op.execute(
        f"CREATE INDEX {TRIGRAM_INDEX} ON letters "
        f"USING gin (supporter_name {ops}, supporter_email {ops})"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {TRIGRAM_INDEX}")
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.drop_index("ix_letters_status_mp")
        batch_op.drop_index("ix_letters_campaign_status_created")


def _trigram_schema(bind: sa.Connection) -> str | None:
    """The schema pg_trgm lives in, creating the extension if it can; None if it cannot."""
    try:
        with bind.begin_nested():
            bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError:
        return None
    schema: str | None = bind.scalar(
        sa.text(
            "SELECT n.nspname FROM pg_extension e "
            "JOIN pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'"
        )
    )
    return schema


def _quote(bind: sa.Connection, name: str) -> str:
    return bind.dialect.identifier_preparer.quote_identifier(name)
