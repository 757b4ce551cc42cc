"""Locks held by one job run, with a heartbeat; sync runs say who ran them and can be interrupted.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-09
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.types import UTCDateTime

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.add_column(sa.Column("lock_host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("lock_pid", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("lock_heartbeat_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("sync_runs") as batch:
        batch.add_column(sa.Column("lock_owner", sa.String(length=100), nullable=True))
        batch.add_column(sa.Column("host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("pid", sa.Integer(), nullable=True))
    op.create_index("ix_sync_runs_state", "sync_runs", ["state"])


def downgrade() -> None:
    op.drop_index("ix_sync_runs_state", "sync_runs")
    with op.batch_alter_table("sync_runs") as batch:
        batch.drop_column("pid")
        batch.drop_column("host")
        batch.drop_column("lock_owner")
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("lock_heartbeat_at")
        batch.drop_column("lock_pid")
        batch.drop_column("lock_host")
