"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def normalise_url(url: str) -> str:
    """Use psycopg 3 for ``postgresql://`` URLs; create the folder of a SQLite file."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.drivername.startswith("sqlite") and parsed.database and parsed.database != ":memory:":
        Path(parsed.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
    return parsed.render_as_string(hide_password=False)


def make_engine(url: str, *, echo: bool = False) -> Engine:
    url = normalise_url(url)
    if url.startswith("sqlite"):
        _create_private(make_url(url).database)
        engine = create_engine(url, echo=echo, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; take control (SQLAlchemy docs recipe).
        # A unit of work that will write asks for IMMEDIATE (see write_options): it takes the write
        # lock before its first read, so it never fails to upgrade a read lock half-way. Reads stay
        # deferred and never block behind a writer (WAL).
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _create_private(database: str | None) -> None:
    """Create a new SQLite file readable and writable by its owner only (0600), before SQLite does.

    The database holds encrypted tokens and every invoice; SQLite would create it with the
    umask's mode (usually world-readable). Its ``-wal`` and ``-shm`` files take the database
    file's mode. An existing file is left as its owner set it.
    """
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    # FileExistsError: someone made it first. Any other OSError (a folder we cannot write to):
    # SQLite's own error on connect says so.
    with contextlib.suppress(OSError):
        os.close(os.open(Path(database).expanduser(), os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


#: Execution options for a session that will write: ``session.connection(execution_options=WRITE)``.
WRITE = {"sqlite_immediate": True}


def _sqlite_begin(conn: object) -> None:
    immediate = conn.get_execution_options().get("sqlite_immediate")  # type: ignore[attr-defined]
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")  # type: ignore[attr-defined]


#: SQLite's page cache per connection, in KiB (a negative ``cache_size`` is KiB). The default 2 MiB
#: holds the invoice indexes of a few tens of thousands of invoices; past that every insert into the
#: random-keyed indexes (ledger id, fingerprint) read pages back from the OS and a 300k import took
#: 4.7× the time of 100k. 64 MiB holds them at 300k; it is an upper bound, filled only as used.
SQLITE_CACHE_KIB = 64 * 1024


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    """Per connection: WAL, foreign keys, ``synchronous=NORMAL``, a 30 s busy wait, a larger cache.

    Durability, said plainly: in WAL mode ``synchronous=NORMAL`` syncs the WAL at checkpoints, not
    at every commit. A committed transaction survives the process crashing; a power loss or OS
    crash can lose the last transactions before the next checkpoint, never corrupt the database.
    For the import that is a page read again on the next run (the cursor rolls back with it).
    """
    dbapi_conn.isolation_level = None  # type: ignore[attr-defined]
    cur = dbapi_conn.cursor()  # type: ignore[attr-defined]
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
