"""delivery claims, retry windows, supporter copies, unlimited relay replies

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 01:00:00

Letters get the token of the worker claim that holds them, the deadline of the current retry
window, and a due time for a retry of the supporter's copy (recorded apart from the MP's). A
letter can be `expired` (never confirmed) and an attempt can be a `copy`. Relay replies, notes
and errors become Text, so a long reply can no longer make a status change fail on PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = (
    "awaiting_confirmation",
    "queued",
    "sending",
    "sent",
    "retrying",
    "failed",
    "cancelled",
)
NEW_STATUSES = (*OLD_STATUSES, "expired")
OLD_KINDS = ("confirmation", "letter")
NEW_KINDS = (*OLD_KINDS, "copy")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("claim_token", sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column("retry_deadline", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("copy_due_at", sa.DateTime(), nullable=True))
        batch_op.create_index(batch_op.f("ix_letters_copy_due_at"), ["copy_due_at"], unique=False)
        batch_op.alter_column(
            "status",
            existing_type=_enum(OLD_STATUSES, "letter_status"),
            type_=_enum(NEW_STATUSES, "letter_status"),
            existing_nullable=False,
        )
        batch_op.alter_column("last_error", existing_type=sa.String(length=1000), type_=sa.Text())
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum(OLD_KINDS, "email_kind"),
            type_=_enum(NEW_KINDS, "email_kind"),
            existing_nullable=False,
        )
        batch_op.alter_column("smtp_reply", existing_type=sa.String(length=1000), type_=sa.Text())
    with op.batch_alter_table("letter_events", schema=None) as batch_op:
        batch_op.alter_column(
            "note", existing_type=sa.String(length=500), type_=sa.Text(), existing_nullable=False
        )


def downgrade() -> None:
    # Values that the old schema cannot hold are cut or mapped to their nearest old meaning.
    op.execute("UPDATE letters SET status = 'cancelled' WHERE status = 'expired'")
    op.execute("DELETE FROM delivery_attempts WHERE kind = 'copy'")
    op.execute("UPDATE letters SET last_error = substr(last_error, 1, 1000)")
    op.execute("UPDATE delivery_attempts SET smtp_reply = substr(smtp_reply, 1, 1000)")
    op.execute("UPDATE letter_events SET note = substr(note, 1, 500)")
    with op.batch_alter_table("letter_events", schema=None) as batch_op:
        batch_op.alter_column(
            "note", existing_type=sa.Text(), type_=sa.String(length=500), existing_nullable=False
        )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.alter_column("smtp_reply", existing_type=sa.Text(), type_=sa.String(length=1000))
        batch_op.alter_column(
            "kind",
            existing_type=_enum(NEW_KINDS, "email_kind"),
            type_=_enum(OLD_KINDS, "email_kind"),
            existing_nullable=False,
        )
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.alter_column("last_error", existing_type=sa.Text(), type_=sa.String(length=1000))
        batch_op.alter_column(
            "status",
            existing_type=_enum(NEW_STATUSES, "letter_status"),
            type_=_enum(OLD_STATUSES, "letter_status"),
            existing_nullable=False,
        )
        batch_op.drop_index(batch_op.f("ix_letters_copy_due_at"))
        batch_op.drop_column("copy_due_at")
        batch_op.drop_column("retry_deadline")
        batch_op.drop_column("claim_token")
