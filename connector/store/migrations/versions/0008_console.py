"""The support console's look-ups stay index probes at 100k invoices: an invoice by its ledger id
alone (search, and every action's ``find_invoice``, whose OR over number, ledger id and id can then
use an index per term), and one invoice's ledger writes.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_invoices_external_id", "invoices", ["external_id"])
    op.create_index("ix_outbox_invoice", "outbox_entries", ["invoice_id"])


def downgrade() -> None:
    op.drop_index("ix_outbox_invoice", table_name="outbox_entries")
    op.drop_index("ix_invoices_external_id", table_name="invoices")
