"""personal touch and petition clicks

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 04:00:00

How much of each letter is in the supporter's own words (measured when it is written; empty for
older letters) and the line at its foot saying so; a campaign's minimum of own sentences and
whether it adds that line; and a daily count, per campaign, of the petition link followed from
its page, holding nothing about who followed it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("campaigns") as batch:
        batch.add_column(
            sa.Column("min_own_sentences", sa.Integer(), nullable=False, server_default="0")
        )
        batch.add_column(
            sa.Column(
                "footer_own_words_line", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("letters") as batch:
        batch.add_column(sa.Column("own_sentences", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("own_word_share", sa.Float(), nullable=True))
        batch.add_column(sa.Column("own_words_line", sa.Text(), nullable=True))
    op.create_table(
        "petition_clicks",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_petition_clicks_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("campaign_id", "day", name=op.f("pk_petition_clicks")),
    )


def downgrade() -> None:
    op.drop_table("petition_clicks")
    with op.batch_alter_table("letters") as batch:
        for column in ("own_words_line", "own_word_share", "own_sentences"):
            batch.drop_column(column)
    with op.batch_alter_table("campaigns") as batch:
        batch.drop_column("footer_own_words_line")
        batch.drop_column("min_own_sentences")
