"""privacy and sessions

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 01:40:00

Staff sessions held on the server (revocable), notices to supporters, records of subject access
and erasure, editable site pages (the privacy notice), and on letters the dedupe key and when the
supporter's details were erased. Letters written before this migration get their lowercased email
as the dedupe key, which is what dedupe compared until now.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "staff_sessions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_staff_sessions_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_staff_sessions")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_staff_sessions_token_hash")),
    )
    op.create_index(op.f("ix_staff_sessions_user_id"), "staff_sessions", ["user_id"])
    op.create_table(
        "supporter_notices",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("letter_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=True),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempt_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["letter_id"], ["letters.id"], name=op.f("fk_supporter_notices_letter_id_letters")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_supporter_notices")),
    )
    op.create_index(op.f("ix_supporter_notices_letter_id"), "supporter_notices", ["letter_id"])
    op.create_index(op.f("ix_supporter_notices_due_at"), "supporter_notices", ["due_at"])
    op.create_table(
        "privacy_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("letter_count", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_privacy_records_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_privacy_records")),
    )
    op.create_table(
        "site_pages",
        sa.Column("slug", sa.String(length=40), nullable=False),
        sa.Column("body_markdown", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["updated_by_id"], ["users.id"], name=op.f("fk_site_pages_updated_by_id_users")
        ),
        sa.PrimaryKeyConstraint("slug", name=op.f("pk_site_pages")),
    )
    with op.batch_alter_table("letters") as batch:
        batch.add_column(sa.Column("supporter_key", sa.String(length=254), nullable=True))
        batch.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
    op.execute("UPDATE letters SET supporter_key = lower(supporter_email)")
    with op.batch_alter_table("letters") as batch:
        batch.alter_column("supporter_key", existing_type=sa.String(length=254), nullable=False)
        batch.drop_constraint("uq_letters_campaign_id_supporter_email_mp_id", type_="unique")
        batch.create_unique_constraint(
            "uq_letters_campaign_id_supporter_key_mp_id", ["campaign_id", "supporter_key", "mp_id"]
        )
        batch.create_index("ix_letters_supporter_key", ["supporter_key"])
        batch.create_index("ix_letters_erased_at", ["erased_at"])


def downgrade() -> None:
    with op.batch_alter_table("letters") as batch:
        batch.drop_index("ix_letters_erased_at")
        batch.drop_index("ix_letters_supporter_key")
        batch.drop_constraint("uq_letters_campaign_id_supporter_key_mp_id", type_="unique")
        batch.create_unique_constraint(
            "uq_letters_campaign_id_supporter_email_mp_id",
            ["campaign_id", "supporter_email", "mp_id"],
        )
        batch.drop_column("erased_at")
        batch.drop_column("supporter_key")
    op.drop_table("site_pages")
    op.drop_table("privacy_records")
    op.drop_index(op.f("ix_supporter_notices_due_at"), table_name="supporter_notices")
    op.drop_index(op.f("ix_supporter_notices_letter_id"), table_name="supporter_notices")
    op.drop_table("supporter_notices")
    op.drop_index(op.f("ix_staff_sessions_user_id"), table_name="staff_sessions")
    op.drop_table("staff_sessions")
