"""Schema migrations, run programmatically so ``connector init-db`` needs no alembic.ini.

Migrations run under a lock, so processes that start together on an empty database migrate
it once, in turn: a PostgreSQL advisory lock (held by a session, so it goes with a process
that dies), or an exclusive ``flock`` on a file next to the SQLite database
(``<database>.migrate.lock``, released by the kernel when its holder dies). Whoever must
wait says so, once, on stderr (``log.warning``), naming what it waits for.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

MIGRATIONS = Path(__file__).with_name("migrations")
#: The PostgreSQL advisory lock key of "the connector is migrating this database" (any fixed bigint).
ADVISORY_LOCK_KEY = 0x636F6E6E6D6967  # "connmig"

log = logging.getLogger("connector.migrate")


def alembic_config() -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> str | None:
    """Bring the database to ``revision`` (an empty database included), under the migration lock.

    Returns the revision it was at before (read under the lock: None for an empty database).
    """
    with migration_lock(engine):
        before = current_revision(engine)
        _upgrade(engine, revision)
        return before


def ensure_current(engine: Engine) -> bool:
    """Bring the database to head if it is not there; true if it had to migrate.

    On SQLite the lock is taken before the first connection (a fresh file is switched to WAL on
    connect, which must not race either); on PostgreSQL a current schema costs one query, no lock.
    """
    if engine.dialect.name != "sqlite" and is_current(engine):
        return False
    with migration_lock(engine):
        if is_current(engine):
            return False  # another process did it while we waited
        _upgrade(engine, "head")
        return True


def _upgrade(engine: Engine, revision: str) -> None:
    cfg = alembic_config()
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


class MigrationsMissing(RuntimeError):
    """The installed package has no migration scripts (a broken install)."""


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    if head is None:
        raise MigrationsMissing(f"no migrations found in {MIGRATIONS}")
    return head


def is_current(engine: Engine) -> bool:
    return current_revision(engine) == head_revision()


@contextmanager
def migration_lock(engine: Engine, say: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the database's migration lock; if another process has it, say so once and wait."""
    say = say or log.warning
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, say):
            yield
        return
    path = sqlite_file(engine)
    if path is None:  # in memory: one process only
        yield
        return
    with _file_lock(path.with_name(path.name + ".migrate.lock"), path, say):
        yield


def sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database).expanduser()


@contextmanager
def _advisory_lock(engine: Engine, say: Callable[[str], None]) -> Iterator[None]:
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        key = {"key": ADVISORY_LOCK_KEY}
        if not conn.execute(text("SELECT pg_try_advisory_lock(:key)"), key).scalar():
            holder = conn.execute(
                text(
                    "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
                    " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
                    " AND ((classid::bigint << 32) | objid::bigint) = :key"
                ),
                key,
            ).scalar()
            who = f" (PostgreSQL backend pid {holder})" if holder else ""
            say(
                f"waiting: another process{who} is migrating database {engine.url.database!r}; "
                "this one goes on when it has finished"
            )
            conn.execute(text("SELECT pg_advisory_lock(:key)"), key)
        try:
            yield
        finally:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), key)


@contextmanager
def _file_lock(lock_path: Path, database: Path, say: Callable[[str], None]) -> Iterator[None]:
    try:
        import fcntl
    except ImportError:  # not POSIX: SQLite's own busy timeout is all there is
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(
                f"waiting: another process is migrating the SQLite database {database}; "
                f"this one goes on when it has finished (lock file {lock_path})"
            )
            fcntl.flock(fd, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
