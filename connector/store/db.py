"""Engines and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import contextlib
import os
import weakref
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from connector.store.checkpoint import WalCheckpointer

#: The background checkpointer of each SQLite-file engine (see :mod:`connector.store.checkpoint`).
_CHECKPOINTERS: weakref.WeakKeyDictionary[Engine, WalCheckpointer] = weakref.WeakKeyDictionary()


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
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            _checkpoint_in_background(engine, WalCheckpointer(Path(database).expanduser()))
        return engine
    return create_engine(url, echo=echo, pool_pre_ping=True)


def _checkpoint_in_background(engine: Engine, checkpointer: WalCheckpointer) -> None:
    """Nudge the checkpointer after every commit on this engine; stop it when the engine is disposed.

    After, not before: SQLAlchemy's ``commit`` event fires before the driver's COMMIT, and a
    checkpoint that ran first would leave that commit's pages in the log. So the dialect instance's
    ``do_commit`` (each engine has its own) is wrapped instead. ``dispose`` stops the thread first,
    so the engine's connections are then the file's last and closing them checkpoints and removes
    the log, as it always did (a file copied after ``dispose`` is whole).
    """
    dialect = engine.dialect
    commit = dialect.do_commit
    dispose = engine.dispose

    def do_commit(dbapi_connection: object) -> None:
        commit(dbapi_connection)
        checkpointer.nudge()

    def dispose_engine(close: bool = True) -> None:
        checkpointer.stop()
        dispose(close)

    dialect.do_commit = do_commit  # type: ignore[method-assign]
    engine.dispose = dispose_engine  # type: ignore[method-assign]
    _CHECKPOINTERS[engine] = checkpointer


def checkpointer_of(engine: Engine) -> WalCheckpointer | None:
    """The engine's background checkpointer (SQLite files only)."""
    return _CHECKPOINTERS.get(engine)


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

#: The automatic checkpoint's threshold, in pages (4 KiB each): a safety net only. Checkpoints run in
#: a background thread after each commit (:mod:`connector.store.checkpoint`); at SQLite's default of
#: 1,000 pages every import page's commit (a few thousand dirty index pages) ran one itself, fsyncs
#: included. ``journal_size_limit`` gives the disk back once the log has been copied.
SQLITE_AUTOCHECKPOINT_PAGES = 16384
SQLITE_JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024


def _sqlite_pragmas(dbapi_conn: object, _record: object) -> None:
    """Per connection: WAL, foreign keys, ``synchronous=NORMAL``, a 30 s busy wait, a larger cache,
    and the automatic checkpoint as a safety net behind the background one.

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
    cur.execute(f"PRAGMA wal_autocheckpoint={SQLITE_AUTOCHECKPOINT_PAGES}")
    cur.execute(f"PRAGMA journal_size_limit={SQLITE_JOURNAL_SIZE_LIMIT}")
    cur.close()


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
