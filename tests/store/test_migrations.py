"""Migrations: an empty database and one at the previous revision both reach head, data intact."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, text

from connector.store.db import make_engine
from connector.store.migrate import current_revision, head_revision, upgrade
from connector.store.models import Base


def test_empty_database_upgrades_to_head_and_matches_the_models(empty_db_url):
    engine = make_engine(empty_db_url)
    try:
        assert current_revision(engine) is None
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
    finally:
        engine.dispose()


def test_previous_revision_upgrades_with_its_data(empty_db_url):
    engine = make_engine(empty_db_url)
    try:
        upgrade(engine, "0001")
        assert "sync_runs" not in inspect(engine).get_table_names()
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO connections (id, name, provider, state, collection_mode, settings, created_at, "
                    "updated_at) VALUES (1, 'old', 'xero', 'active', 'auto_collect', '{}', :t, :t)"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO invoices (id, connection_id, external_id, number, contact_name, currency, total, "
                    "amount_due, status, mode, attempts, needs_attention, payment_posted, ledger_status, "
                    "fingerprint, created_at, updated_at, version) VALUES (1, 1, 'x-1', 'INV-1', 'A', 'GBP', "
                    "100, 100, 'scheduled', 'auto_collect', 0, false, false, 'open', 'fp', :t, :t, 1)"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
            conn.execute(
                text(
                    "INSERT INTO activity_events (invoice_id, occurred_at, kind, outcome, to_status, source, detail)"
                    " VALUES (1, :t, 'imported', 'created', 'scheduled', 'ledger', 'kept')"
                ),
                {"t": "2026-01-01 00:00:00"},
            )
        upgrade(engine)
        assert current_revision(engine) == head_revision()
        with engine.connect() as conn:
            row = conn.execute(text("SELECT detail, sync_run_id FROM activity_events")).one()
            assert tuple(row) == ("kept", None)
            assert conn.execute(text("SELECT number FROM invoices")).scalar_one() == "INV-1"
        assert {"sync_runs", "sync_cursors", "quarantined_records"} <= set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
