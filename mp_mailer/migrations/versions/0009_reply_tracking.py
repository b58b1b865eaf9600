"""reply tracking: "has your MP replied?" checks and the campaign's reply switches

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 04:00:00

Each reply check is one email to a supporter some days after their letter was sent, with its own
claim and lease, and the supporter's answer; an attempt can be that `reply_check`. A campaign can
switch the checks off (`track_replies`) and show its reply figures publicly
(`public_reply_figures`).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = ("confirmation", "letter", "copy", "notice")
NEW_KINDS = (*OLD_KINDS, "reply_check")
ANSWERS = ("yes", "not_yet", "no")


def _enum(values: Sequence[str], name: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("track_replies", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column(
                "public_reply_figures", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum(OLD_KINDS, "email_kind"),
            type_=_enum(NEW_KINDS, "email_kind"),
            existing_nullable=False,
        )
    op.create_table(
        "reply_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("round", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("claim_token", sa.String(length=36), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.Column("first_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("answer", _enum(ANSWERS, "reply_answer"), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("reply_text", sa.Text(), nullable=True),
        sa.Column("reply_text_consent", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letters.id"], name=op.f("fk_reply_checks_letter_id_letters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reply_checks")),
        sa.UniqueConstraint("letter_id", "round", name=op.f("uq_reply_checks_letter_id_round")),
    )
    op.create_index("ix_letters_status_sent", "letters", ["status", "sent_at"])
    op.create_index("ix_reply_checks_due", "reply_checks", ["sent_at", "due_at"])
    op.create_index(op.f("ix_reply_checks_letter_id"), "reply_checks", ["letter_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_reply_checks_letter_id"), table_name="reply_checks")
    op.drop_index("ix_reply_checks_due", table_name="reply_checks")
    op.drop_table("reply_checks")
    op.drop_index("ix_letters_status_sent", table_name="letters")
    op.execute("DELETE FROM delivery_attempts WHERE kind = 'reply_check'")
    with op.batch_alter_table("delivery_attempts", schema=None) as batch_op:
        batch_op.alter_column(
            "kind",
            existing_type=_enum(NEW_KINDS, "email_kind"),
            type_=_enum(OLD_KINDS, "email_kind"),
            existing_nullable=False,
        )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.drop_column("public_reply_figures")
        batch_op.drop_column("track_replies")
