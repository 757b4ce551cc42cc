"""The web application: people who log in, Xero/Intuit grants shared by connections, consent
requests in flight, and failed logins for rate limiting.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from connector.store.types import UTCDateTime

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("last_login_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("name", name=op.f("uq_users_name")),
    )
    op.create_table(
        "grants",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("token_ciphertext", sa.LargeBinary(), nullable=True),
        sa.Column("token_expires_at", UTCDateTime(), nullable=True),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.Column("refresh_owner", sa.String(length=100), nullable=True),
        sa.Column("refresh_until", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_grants")),
    )
    op.create_table(
        "oauth_requests",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("state_hash", sa.String(length=64), nullable=False),
        sa.Column("browser", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=20), nullable=False),
        sa.Column("purpose", sa.String(length=20), nullable=False),
        sa.Column("connection_id", sa.Integer(), nullable=True),
        sa.Column("code_verifier", sa.String(length=200), nullable=True),
        sa.Column("requested_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.Column("grant_id", sa.Integer(), nullable=True),
        sa.Column("realm_id", sa.String(length=100), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_requests")),
        sa.UniqueConstraint("state_hash", name=op.f("uq_oauth_requests_state_hash")),
    )
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    op.create_index("ix_login_failures_name", "login_failures", ["name", "at"])
    op.create_index("ix_login_failures_address", "login_failures", ["address", "at"])
    # Plain ADD COLUMN, the reference inline: SQLite takes it without rebuilding the connections
    # table (a rebuild would trip over the invoices that reference it).
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE connections ADD COLUMN grant_id INTEGER "
            "CONSTRAINT fk_connections_grant_id_grants REFERENCES grants (id)"
        )
    else:
        op.add_column("connections", sa.Column("grant_id", sa.Integer(), nullable=True))
        op.create_foreign_key("fk_connections_grant_id_grants", "connections", "grants", ["grant_id"], ["id"])
    op.add_column("connections", sa.Column("origin", sa.String(length=20), nullable=False, server_default="config"))


def downgrade() -> None:
    with op.batch_alter_table("connections") as batch:
        batch.drop_column("origin")
        batch.drop_column("grant_id")
    op.drop_index("ix_login_failures_address", "login_failures")
    op.drop_index("ix_login_failures_name", "login_failures")
    op.drop_table("login_failures")
    op.drop_table("oauth_requests")
    op.drop_table("grants")
    op.drop_table("users")
