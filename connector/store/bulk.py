"""Bulk inserts for the import: one page of rows converted once, then handed to the driver whole.

Why not ``session.execute(table.insert(), rows)``: SQLAlchemy processes every parameter of every
row on its own (the exact-money and UTC types of :mod:`connector.store.types` call Python per
value), and that was most of a first import's time on SQLite. Here each column of the page is
converted once (``convert_page`` of the column's type, or SQLAlchemy's own bind processor for any
other type, so the stored values are the same), and then:

- **SQLite**: one ``executemany`` through the driver. The new rows' ids are the range after the
  table's largest id: the unit of work holds SQLite's write lock, and SQLite gives each new row the
  largest rowid plus one. That is checked, not assumed; if the range is not exactly the page's, the
  ids are read back by (connection, ledger id) through the unique index.
- **PostgreSQL**: ``COPY … FROM STDIN`` (psycopg 3) for pages of :data:`COPY_MIN_ROWS` rows or
  more. Ids are taken from the table's sequence first (one ``nextval`` query per page) and copied
  with the rows, so nothing is read back and no plan depends on the planner's statistics. Smaller
  pages use one batched ``INSERT … RETURNING`` ordered by the parameters.

Everything runs on the session's connection, in the caller's transaction (and savepoint): a page's
invoices, activity events and cursor still commit together. Errors are SQLAlchemy's own classes
(``IntegrityError``, ``DataError``, …) whichever path raised them, so the importer's "quarantine the
record or fail the page" decision (``is_record_error``) is the same. A value the page conversion
does not take as it is (a float for an amount, a naive timestamp) sends the page through
SQLAlchemy's row-by-row path, which raises or converts exactly as it always did.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy import Column, Connection, Date, Dialect, Table, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from connector.store.types import Amount, NotConvertible, UTCDateTime

#: Pages at least this long go to PostgreSQL by COPY; shorter ones by INSERT … RETURNING, which
#: costs less to set up for a handful of rows (a sync that finds a few changes).
COPY_MIN_ROWS = 100


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]], *, ids: bool = False) -> list[int]:
    """Insert ``rows`` (dicts with the same keys) into ``table``; their new ids in order if ``ids``."""
    if not rows:
        return []
    conn = session.connection()
    dialect = conn.dialect.name
    try:
        columns, tuples = convert_page(table, rows, conn.dialect)
    except NotConvertible:
        return _insert_core(conn, table, rows, ids=ids)
    if dialect == "sqlite":
        return _insert_sqlite(conn, table, columns, tuples, ids=ids)
    if dialect == "postgresql" and len(rows) >= COPY_MIN_ROWS:
        return _copy_postgresql(conn, table, columns, tuples, ids=ids)
    return _insert_core(conn, table, rows, ids=ids)


def convert_page(
    table: Table, rows: Sequence[dict[str, Any]], dialect: Dialect
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """The page as (column names, one tuple per row) in the form the driver stores.

    Column defaults are SQLAlchemy's business: a column missing from the rows is left out (the
    database default applies), unless it has a Python-side default, which only SQLAlchemy's path
    applies (:class:`NotConvertible`). So does a page whose rows do not share one set of keys.
    """
    names = list(rows[0])
    keys = rows[0].keys()
    if any(r.keys() != keys for r in rows):
        raise NotConvertible("rows with different columns")
    for column in table.columns:
        if column.name not in keys and column.default is not None:
            raise NotConvertible(f"{column.name} has a Python-side default")
    converted = [_converter(table.c[name], dialect)([r[name] for r in rows]) for name in names]
    return names, list(zip(*converted, strict=True))


def _converter(column: Column[Any], dialect: Dialect) -> Callable[[list[Any]], list[Any]]:
    """How one column of a page becomes what the driver is given."""
    kind = column.type
    if isinstance(kind, Amount | UTCDateTime):
        return lambda values: kind.convert_page(values, dialect.name)
    if dialect.name == "sqlite" and isinstance(kind, Date):
        return _sqlite_dates
    process = kind._cached_bind_processor(dialect)  # SQLAlchemy's own conversion, for every other type
    if process is None:
        return lambda values: values
    return lambda values: [process(v) for v in values]


def _sqlite_dates(values: list[Any]) -> list[Any]:
    """SQLAlchemy's SQLite DATE text (``YYYY-MM-DD``): ``date.isoformat``, for dates only."""
    if not all(type(v) is date or v is None for v in values):
        raise NotConvertible("dates are dates")
    return [None if v is None else v.isoformat() for v in values]


def _insert_core(conn: Connection, table: Table, rows: Sequence[dict[str, Any]], *, ids: bool) -> list[int]:
    """SQLAlchemy's own path (row-by-row parameter processing): small PostgreSQL pages, odd values."""
    if not ids:
        conn.execute(table.insert(), list(rows))
        return []
    if conn.dialect.name == "postgresql":
        statement = table.insert().returning(table.c.id, sort_by_parameter_order=True)
        return list(conn.scalars(statement, list(rows)))
    before = _max_id(conn, table)
    conn.execute(table.insert(), list(rows))
    return _new_ids(conn, table, before, len(rows), lambda: [(r["connection_id"], r["external_id"]) for r in rows])


def _insert_sqlite(
    conn: Connection, table: Table, columns: list[str], tuples: list[tuple[Any, ...]], *, ids: bool
) -> list[int]:
    sql = f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
    before = _max_id(conn, table) if ids else 0
    conn.exec_driver_sql(sql, tuples)
    if not ids:
        return []
    at = columns.index("connection_id"), columns.index("external_id")
    return _new_ids(conn, table, before, len(tuples), lambda: [(t[at[0]], t[at[1]]) for t in tuples])


def _max_id(conn: Connection, table: Table) -> int:
    return conn.execute(select(table.c.id).order_by(table.c.id.desc()).limit(1)).scalar() or 0


def _new_ids(
    conn: Connection, table: Table, before: int, count: int, keys: Callable[[], list[tuple[Any, Any]]]
) -> list[int]:
    """The ids of the rows just inserted after id ``before``, in the rows' order.

    SQLite gives each new row the table's largest rowid plus one, so under the write lock a page's
    rows get ``before + 1 …``, in order. If the ids found after ``before`` are not exactly that
    range, they are read back by (connection, ledger id), which the unique index answers.
    """
    found = list(conn.scalars(select(table.c.id).where(table.c.id > before).order_by(table.c.id)))
    if found == list(range(before + 1, before + count + 1)):
        return found
    keyed = conn.execute(
        select(table.c.connection_id, table.c.external_id, table.c.id).where(table.c.id > before)
    ).all()
    id_of = {(c, e): i for c, e, i in keyed}
    return [id_of[key] for key in keys()]


def _copy_postgresql(
    conn: Connection, table: Table, columns: list[str], tuples: list[tuple[Any, ...]], *, ids: bool
) -> list[int]:
    """COPY the page in, ids drawn from the table's sequence first when the caller needs them."""
    import psycopg

    new_ids: list[int] = []
    if ids and "id" not in columns:
        new_ids = sorted(
            conn.exec_driver_sql(
                "SELECT nextval(pg_get_serial_sequence(%(table)s, 'id')) FROM generate_series(1, %(n)s)",
                {"table": table.name, "n": len(tuples)},
            ).scalars()
        )
        columns = ["id", *columns]
        tuples = [(i, *t) for i, t in zip(new_ids, tuples, strict=True)]
    sql = f"COPY {table.name} ({', '.join(columns)}) FROM STDIN"
    raw = conn.connection.driver_connection
    try:
        with raw.cursor() as cursor, cursor.copy(sql) as copy:
            write = copy.write_row
            for row in tuples:
                write(row)
    except psycopg.Error as exc:
        # The same exception classes SQLAlchemy raises for an INSERT (IntegrityError, DataError, …).
        raise DBAPIError.instance(sql, None, exc, psycopg.Error, dialect=conn.dialect) from exc
    return new_ids
