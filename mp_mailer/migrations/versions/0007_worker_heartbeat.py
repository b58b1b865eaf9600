"""worker heartbeat

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 02:10:00

One row saying when a delivery worker last ran and whether it last reached the SMTP relay, for
the health check (/healthz) a load balancer and monitoring read.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seen_at", sa.DateTime(), nullable=False),
        sa.Column("relay_checked_at", sa.DateTime(), nullable=True),
        sa.Column("relay_reachable", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_heartbeats")),
    )


def downgrade() -> None:
    op.drop_table("worker_heartbeats")
