"""returned mail (bounces, automatic replies), supporters' notices, campaign pacing

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-03 01:00:00

A letter can be `bounced` (its reason kept) or `acknowledged`, and owes its supporter one notice
when it bounces or fails; an attempt can be that `notice`. What comes back to a letter's bounce
address is kept in `returned_mail`; a campaign's sending limits live in `campaign_pacing`.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
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
    "expired",
)
NEW_STATUSES = (*OLD_STATUSES, "bounced", "acknowledged")
OLD_KINDS = ("confirmation", "letter", "copy")
NEW_KINDS = (*OLD_KINDS, "notice")
RETURNED_KINDS = (
    "hard_bounce",
    "soft_bounce",
    "copy_bounce",
    "acknowledgement",
    "out_of_office",
    "unrecognised",
)


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.add_column(sa.Column("bounce_reason", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("notice_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("notice_sent_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_letters_notice_due_at"), ["notice_due_at"], unique=False
        )
        batch_op.alter_column(
            "status",
            existing_type=_enum(OLD_STATUSES, "letter_status"),
            type_=_enum(NEW_STATUSES, "letter_status"),
            existing_nullable=False,
        )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum(OLD_KINDS, "email_kind"),
            type_=_enum(NEW_KINDS, "email_kind"),
            existing_nullable=False,
        )
    op.create_table(
        "returned_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum(RETURNED_KINDS, "returned_mail_kind"), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["letter_id"], ["letters.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_returned_mail_letter_kind", "returned_mail", ["letter_id", "kind"])
    op.create_table(
        "campaign_pacing",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("letters_per_hour", sa.Integer(), nullable=True),
        sa.Column("letters_per_mp_per_day", sa.Integer(), nullable=True),
        sa.Column("sending_window", sa.String(length=100), nullable=False),
        sa.ForeignKeyConstraint(["campaign_id"], ["campaigns.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("campaign_id"),
    )


def downgrade() -> None:
    # The old schema cannot say bounced or acknowledged: both were, as far as it knew, sent.
    op.execute("UPDATE letters SET status = 'sent' WHERE status IN ('bounced', 'acknowledged')")
    op.execute("DELETE FROM delivery_attempts WHERE kind = 'notice'")
    op.drop_table("campaign_pacing")
    op.drop_index("ix_returned_mail_letter_kind", table_name="returned_mail")
    op.drop_table("returned_mail")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum(NEW_KINDS, "email_kind"),
            type_=_enum(OLD_KINDS, "email_kind"),
            existing_nullable=False,
        )
    with op.batch_alter_table("letters", schema=None) as batch_op:
        batch_op.alter_column(
            "status",
            existing_type=_enum(NEW_STATUSES, "letter_status"),
            type_=_enum(OLD_STATUSES, "letter_status"),
            existing_nullable=False,
        )
        batch_op.drop_index(batch_op.f("ix_letters_notice_due_at"))
        batch_op.drop_column("notice_sent_at")
        batch_op.drop_column("notice_due_at")
        batch_op.drop_column("bounce_reason")
