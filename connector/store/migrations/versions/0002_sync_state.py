"""Sync state: cursors, runs, quarantine; activity events point at their run; the log is append-only.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.types import UTCDateTime

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SQLITE_TRIGGERS = [
    """CREATE TRIGGER activity_events_no_update BEFORE UPDATE ON activity_events
       BEGIN SELECT RAISE(ABORT, 'the activity log is append-only'); END""",
    """CREATE TRIGGER activity_events_no_delete BEFORE DELETE ON activity_events
       BEGIN SELECT RAISE(ABORT, 'the activity log is append-only'); END""",
]
_PG_TRIGGERS = [
    """CREATE FUNCTION activity_events_append_only() RETURNS trigger AS $$
       BEGIN RAISE EXCEPTION 'the activity log is append-only'; END; $$ LANGUAGE plpgsql""",
    """CREATE TRIGGER activity_events_append_only BEFORE UPDATE OR DELETE ON activity_events
       FOR EACH ROW EXECUTE FUNCTION activity_events_append_only()""",
]


def upgrade() -> None:
    op.create_table(
        "sync_cursors",
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("stream", sa.String(length=50), nullable=False),
        sa.Column("value", sa.String(length=100), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_sync_cursors_connection_id_connections")
        ),
        sa.PrimaryKeyConstraint("connection_id", "stream", name=op.f("pk_sync_cursors")),
    )
    op.create_table(
        "sync_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("job", sa.String(length=30), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("api_calls", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_sync_runs_connection_id_connections")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_runs")),
    )
    op.create_index("ix_sync_runs_connection", "sync_runs", ["connection_id", "started_at"])
    op.create_table(
        "quarantined_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("sync_run_id", sa.Integer(), nullable=True),
        sa.Column("stream", sa.String(length=50), nullable=False),
        sa.Column("external_id", sa.String(length=100), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw", sa.Text(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"],
            ["connections.id"],
            name=op.f("fk_quarantined_records_connection_id_connections"),
        ),
        sa.ForeignKeyConstraint(
            ["sync_run_id"], ["sync_runs.id"], name=op.f("fk_quarantined_records_sync_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quarantined_records")),
    )
    op.create_index("ix_quarantine_open", "quarantined_records", ["connection_id", "resolved_at"])

    with op.batch_alter_table("activity_events") as batch:
        batch.add_column(sa.Column("sync_run_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(op.f("fk_activity_events_sync_run_id_sync_runs"), "sync_runs", ["sync_run_id"], ["id"])

    triggers = _PG_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    for statement in triggers:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER activity_events_append_only ON activity_events")
        op.execute("DROP FUNCTION activity_events_append_only()")
    else:
        op.execute("DROP TRIGGER activity_events_no_update")
        op.execute("DROP TRIGGER activity_events_no_delete")
    with op.batch_alter_table("activity_events") as batch:
        batch.drop_constraint(op.f("fk_activity_events_sync_run_id_sync_runs"), type_="foreignkey")
        batch.drop_column("sync_run_id")
    op.drop_table("quarantined_records")
    op.drop_table("sync_runs")
    op.drop_table("sync_cursors")
