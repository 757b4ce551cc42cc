"""Money that needs a person: why an invoice needs attention, a refund due, who acted, dismissed records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.types import Amount

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("attention_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("refund_due", Amount(), nullable=True))
    with op.batch_alter_table("activity_events") as batch:
        batch.add_column(sa.Column("actor", sa.String(length=100), nullable=True))
    with op.batch_alter_table("quarantined_records") as batch:
        batch.add_column(sa.Column("dismissed_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("resolved_by", sa.String(length=100), nullable=True))
    op.create_index("ix_invoices_attention", "invoices", ["needs_attention"])


def downgrade() -> None:
    op.drop_index("ix_invoices_attention", "invoices")
    with op.batch_alter_table("quarantined_records") as batch:
        batch.drop_column("resolved_by")
        batch.drop_column("dismissed_reason")
    with op.batch_alter_table("activity_events") as batch:
        batch.drop_column("actor")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("refund_due")
        batch.drop_column("attention_reason")
