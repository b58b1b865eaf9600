"""campaign branding

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 01:40:00

A campaign's hero image, share image and meta description (what a shared link shows), the number
of letters its progress bar counts towards, and the next ask on its thank-you page. Every column
is optional or has a default, so existing campaigns keep working unchanged.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(sa.Column("hero_image_url", sa.String(500), nullable=True))
        batch.add_column(sa.Column("share_image_url", sa.String(500), nullable=True))
        batch.add_column(
            sa.Column("meta_description", sa.String(300), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("target_letters", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("next_ask_text", sa.String(200), nullable=False, server_default="")
        )
        batch.add_column(sa.Column("next_ask_url", sa.String(500), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        for column in (
            "next_ask_url",
            "next_ask_text",
            "target_letters",
            "meta_description",
            "share_image_url",
            "hero_image_url",
        ):
            batch.drop_column(column)
