"""Reconciliation findings: every difference between ledger and platform, first and last seen.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.types import Amount, UTCDateTime

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "reconciliation_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=True),
        sa.Column("outbox_entry_id", sa.Integer(), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=True),
        sa.Column("amount", Amount(), nullable=True),
        sa.Column("ledger_value", sa.Text(), nullable=False),
        sa.Column("platform_value", sa.Text(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("suggested_fix", sa.Text(), nullable=False),
        sa.Column("fix_action", sa.String(length=50), nullable=True),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.Column("resolved_at", UTCDateTime(), nullable=True),
        sa.Column("last_run_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["connection_id"], ["connections.id"], name=op.f("fk_reconciliation_findings_connection_id_connections")
        ),
        sa.ForeignKeyConstraint(
            ["invoice_id"], ["invoices.id"], name=op.f("fk_reconciliation_findings_invoice_id_invoices")
        ),
        sa.ForeignKeyConstraint(
            ["outbox_entry_id"],
            ["outbox_entries.id"],
            name=op.f("fk_reconciliation_findings_outbox_entry_id_outbox_entries"),
        ),
        sa.ForeignKeyConstraint(
            ["last_run_id"], ["sync_runs.id"], name=op.f("fk_reconciliation_findings_last_run_id_sync_runs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reconciliation_findings")),
        sa.UniqueConstraint("connection_id", "kind", "subject", name="uq_findings_connection_kind_subject"),
    )
    op.create_index("ix_findings_open", "reconciliation_findings", ["connection_id", "resolved_at"])


def downgrade() -> None:
    op.drop_index("ix_findings_open", "reconciliation_findings")
    op.drop_table("reconciliation_findings")
