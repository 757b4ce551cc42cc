"""The import's hot look-ups probe the unique (connection, ledger id) index key by key, whatever the
planner's statistics: checked with EXPLAIN on a table that was never analysed (a first import)."""

from __future__ import annotations

from sqlalchemy import text

from connector.store.invoices import matching_query
from connector.store.models import Invoice
from tests.conftest import is_postgres

ROWS = 20_000


def _fill(conn) -> None:
    """ROWS invoices of connection 1, on a table never analysed (a first import's)."""
    if is_postgres():
        conn.execute(text("ALTER TABLE invoices SET (autovacuum_enabled = false)"))
    conn.execute(
        text(
            "INSERT INTO connections (id, name, provider, state, collection_mode, settings, created_at, updated_at)"
            " VALUES (1, 'a', 'xero', 'active', 'auto_collect', '{}', :t, :t)"
        ),
        {"t": "2026-01-01 00:00:00"},
    )
    conn.execute(
        text(
            "INSERT INTO invoices (connection_id, external_id, number, contact_name, currency, total, amount_due,"
            " status, mode, attempts, needs_attention, payment_posted, ledger_status, fingerprint, created_at,"
            " updated_at, version) VALUES (1, :e, :e, 'c', 'NZD', '10', '10', 'scheduled', 'auto_collect', 0,"
            " false, false, 'open', :e, :t, :t, 1)"
        ),
        [{"e": f"x-{i}", "t": "2026-01-01 00:00:00"} for i in range(ROWS)],
    )


def _plan(conn, engine, stmt) -> str:
    compiled = stmt.compile(dialect=engine.dialect, compile_kwargs={"render_postcompile": True})
    explain = "EXPLAIN " if is_postgres() else "EXPLAIN QUERY PLAN "
    params = tuple(compiled.params[name] for name in compiled.positiontup) if compiled.positional else compiled.params
    return "\n".join(str(r[-1]) for r in conn.exec_driver_sql(explain + str(compiled), params))


def test_the_ledger_id_look_up_uses_the_unique_index_on_an_unanalysed_table(engine):
    with engine.begin() as conn:
        _fill(conn)
        stmt = matching_query(
            engine.dialect.name, Invoice.external_id, [f"x-{i}" for i in range(1000)], Invoice.connection_id == 1
        )
        plan = _plan(conn, engine, stmt)
    if is_postgres():
        assert plan.startswith("Nested Loop"), plan  # one probe per key
        assert "Index Scan using uq_invoices_connection_external" in plan, plan
        assert "Index Cond: ((connection_id = 1) AND ((external_id)::text = " in plan, plan
        assert "Bitmap" not in plan and "Seq Scan on invoices" not in plan, plan
    else:
        # SQLite names the unique constraint's index itself (sqlite_autoindex_…); it probes both columns
        assert "SEARCH invoices USING INDEX" in plan and "(connection_id=? AND external_id=?)" in plan, plan


def test_the_duplicate_look_up_probes_the_fingerprint_index_on_an_unanalysed_table(engine):
    """The import's other per-page look-up: the same invoice from another channel, by fingerprint."""
    with engine.begin() as conn:
        _fill(conn)
        stmt = matching_query(
            engine.dialect.name,
            Invoice.fingerprint,
            [f"x-{i}" for i in range(1000)],
            Invoice.deleted_at.is_(None),
            Invoice.connection_id != 2,
        )
        plan = _plan(conn, engine, stmt)
        found = len(conn.execute(stmt).all())
    assert found == 1000
    if is_postgres():
        assert plan.startswith("Nested Loop"), plan
        # one probe per key: an index scan, or a bitmap scan of the index for that key alone
        assert any(f"Index Scan {how} ix_invoices_fingerprint" in plan for how in ("using", "on")), plan
        assert "Seq Scan on invoices" not in plan, plan
    else:
        assert "SEARCH invoices USING INDEX ix_invoices_fingerprint (fingerprint=?)" in plan, plan
        assert "SCAN invoices" not in plan, plan
