"""The import's bulk path (page conversion, driver executemany, COPY) stores exactly what SQLAlchemy's
row-by-row path stores, gets the ids right, and raises the same error classes.

Each test writes the same rows twice, once through ``insert_rows`` and once through plain Core
``table.insert()``, and compares what the database holds, read back raw through the driver (text on
SQLite, the server's own types on PostgreSQL), not through our column types.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import Session

from connector.store import bulk
from connector.store.bulk import insert_rows
from connector.store.models import ActivityEvent, Invoice
from tests.conftest import is_postgres

NOW = datetime(2026, 12, 2, 9, 30, 15, 123456, tzinfo=UTC)


def _connection(session: Session, id_: int) -> None:
    session.execute(
        text(
            "INSERT INTO connections (id, name, provider, state, collection_mode, settings, created_at, updated_at)"
            " VALUES (:i, :n, 'xero', 'active', 'auto_collect', '{}', :t, :t)"
        ),
        {"i": id_, "n": f"c{id_}", "t": datetime(2026, 1, 1)},
    )


def _row(connection_id: int, n: int, amount: Decimal, stamp: datetime, due: date | None) -> dict[str, Any]:
    return {
        "connection_id": connection_id,
        "external_id": f"ext-{n}",
        "number": f"INV-{n}",
        "contact_name": "Kowhai Bakery ✓",
        "currency": "NZD",
        "total": amount,
        "issue_date": date(2026, 11, 1),
        "fingerprint": f"fp-{n}",
        "duplicate_of_id": None,
        "ledger_amount_due": amount,
        "ledger_due_date": due,
        "ledger_updated_at": stamp,
        "created_at": NOW,
        "updated_at": NOW,
        "version": 1,
        "status": "scheduled",
        "mode": "auto_collect",
        "amount_due": amount,
        "due_date": due,
        "collection_date": due,
        "attempts": 0,
        "paid_via": None,
        "needs_attention": False,
        "ledger_status": "open",
        "payment_posted": False,
        "paid_amount": None,
    }


def _raw(session: Session, table: str, connection_id: int) -> list[tuple[Any, ...]]:
    """Every column but the id, as the driver returns it, ordered by ledger id."""
    rows = session.connection().exec_driver_sql(f"SELECT * FROM {table} WHERE connection_id = {connection_id}")
    names = list(rows.keys())
    out = [tuple(v for k, v in zip(names, r, strict=True) if k not in ("id", "connection_id")) for r in rows]
    return sorted(out, key=repr)


AMOUNTS = st.one_of(
    st.decimals(min_value=Decimal("-99999999"), max_value=Decimal("999999999999"), places=2),
    st.decimals(min_value=Decimal("0"), max_value=Decimal("99999999999"), places=4),
)
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=13)), timezone(timedelta(hours=-8, minutes=-30))])
STAMPS = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2090, 1, 1), timezones=ZONES)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(values=st.lists(st.tuples(AMOUNTS, STAMPS, st.none() | st.dates()), min_size=1, max_size=150))
def test_the_bulk_path_stores_exactly_what_core_stores(engine, values) -> None:
    with Session(engine) as session, session.begin():
        session.execute(text("DELETE FROM invoices"))
        session.execute(text("DELETE FROM connections"))
        _connection(session, 1)
        _connection(session, 2)
        rows = [_row(1, n, a, s, d) for n, (a, s, d) in enumerate(values)]
        ids = insert_rows(session, Invoice.__table__, rows, ids=True)
        session.execute(Invoice.__table__.insert(), [{**r, "connection_id": 2} for r in rows])
        assert _raw(session, "invoices", 1) == _raw(session, "invoices", 2)
        stored = dict(session.execute(select(Invoice.id, Invoice.external_id).where(Invoice.connection_id == 1)).all())
        assert [stored[i] for i in ids] == [r["external_id"] for r in rows]
        # Read back through the column types: the same Decimals and aware datetimes that went in.
        back = {i.external_id: i for i in session.scalars(select(Invoice).where(Invoice.connection_id == 1))}
        for r in rows:
            assert back[r["external_id"]].total == r["total"]
            assert back[r["external_id"]].ledger_updated_at == r["ledger_updated_at"]


def test_a_page_large_enough_for_copy_gets_ordered_ids_and_identical_activity(engine) -> None:
    n = bulk.COPY_MIN_ROWS * 3
    with Session(engine) as session, session.begin():
        _connection(session, 1)
        _connection(session, 2)
        session.execute(Invoice.__table__.insert(), [_row(1, -k, Decimal("1.00"), NOW, None) for k in range(1, 4)])
        rows = [_row(1, k, Decimal(k) / 100, NOW - timedelta(seconds=k), date(2026, 12, 1)) for k in range(n)]
        ids = insert_rows(session, Invoice.__table__, rows, ids=True)
        assert ids == sorted(ids) and len(set(ids)) == n
        assert session.scalar(select(func.count()).select_from(Invoice)) == n + 3
        by_id = dict(session.execute(select(Invoice.id, Invoice.external_id)).all())
        assert [by_id[i] for i in ids] == [r["external_id"] for r in rows]
        events = [
            {
                "invoice_id": i,
                "occurred_at": NOW,
                "kind": "imported",
                "outcome": "created",
                "from_status": None,
                "to_status": "scheduled",
                "source": "ledger",
                "detail": "placed in scheduled",
                "data": None,
                "sync_run_id": None,
            }
            for i in ids
        ]
        insert_rows(session, ActivityEvent.__table__, events)
        session.execute(ActivityEvent.__table__.insert(), events)
        raw = session.connection().exec_driver_sql("SELECT * FROM activity_events").all()
        first, second = raw[:n], raw[n:]
        assert [r[1:] for r in first] == [r[1:] for r in second]  # every column but the id


def test_an_insert_after_other_rows_still_maps_ids_to_rows(engine) -> None:
    """Ids on SQLite are the range after the largest id; a gap (a deleted last row) changes nothing."""
    with Session(engine) as session, session.begin():
        _connection(session, 1)
        first = insert_rows(session, Invoice.__table__, [_row(1, k, Decimal(1), NOW, None) for k in range(5)], ids=True)
        session.execute(text(f"DELETE FROM invoices WHERE id = {first[-1]}"))
        rows = [_row(1, k, Decimal(2), NOW, None) for k in range(10, 15)]
        ids = insert_rows(session, Invoice.__table__, rows, ids=True)
        by_id = dict(session.execute(select(Invoice.id, Invoice.external_id)).all())
        assert [by_id[i] for i in ids] == [r["external_id"] for r in rows]


@pytest.mark.parametrize("size", [3, bulk.COPY_MIN_ROWS + 1])
def test_a_duplicate_ledger_id_is_an_integrity_error_and_the_savepoint_recovers(engine, size) -> None:
    with Session(engine) as session, session.begin():
        _connection(session, 1)
        insert_rows(session, Invoice.__table__, [_row(1, 0, Decimal(1), NOW, None)], ids=True)
        rows = [_row(1, k, Decimal(1), NOW, None) for k in range(size)]  # ext-0 again
        with pytest.raises(IntegrityError), session.begin_nested():
            insert_rows(session, Invoice.__table__, rows, ids=True)
        assert session.scalar(select(func.count()).select_from(Invoice)) == 1


@pytest.mark.parametrize("size", [3, bulk.COPY_MIN_ROWS + 1])
def test_a_value_the_database_refuses_is_a_data_error(engine, size) -> None:
    if not is_postgres():
        pytest.skip("SQLite keeps amounts as text and never refuses a size")
    with Session(engine) as session, session.begin():
        _connection(session, 1)
        rows = [_row(1, k, Decimal(1), NOW, None) for k in range(size)]
        rows[-1]["total"] = Decimal("1e20")  # above NUMERIC(18, 4)
        with pytest.raises(DataError), session.begin_nested():
            insert_rows(session, Invoice.__table__, rows, ids=True)


def test_values_the_page_conversion_does_not_take_go_through_core_and_fail_as_before(engine) -> None:
    """A naive timestamp or a float amount: SQLAlchemy's own path, with its own error."""
    with Session(engine) as session, session.begin():
        _connection(session, 1)
        naive = [_row(1, 0, Decimal(1), datetime(2026, 1, 1), None)]
        with pytest.raises(Exception, match="timezone-aware"), session.begin_nested():
            insert_rows(session, Invoice.__table__, naive, ids=True)
        floaty = [_row(1, 1, 1.5, NOW, None)]  # type: ignore[arg-type]
        with pytest.raises(Exception, match="Decimals"), session.begin_nested():
            insert_rows(session, Invoice.__table__, floaty, ids=True)
