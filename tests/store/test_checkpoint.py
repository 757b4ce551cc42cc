"""SQLite's WAL is checkpointed by a background thread after commits, never by the committing writer,
and an engine disposed of leaves a whole database file behind (no thread, no log)."""

from __future__ import annotations

import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from connector.store import checkpoint
from connector.store.db import SQLITE_AUTOCHECKPOINT_PAGES, checkpointer_of, make_engine
from tests.conftest import is_postgres

pytestmark = pytest.mark.skipif(is_postgres(), reason="SQLite's write-ahead log")


def _until(condition, what: str) -> None:
    """Wait for a background thread to get somewhere (a bound on waiting, not a timing assertion)."""
    deadline = time.monotonic() + 20
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.01)


def _threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name == "sqlite-checkpoint")


def _write(engine, rows: int, start: int = 0) -> None:
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, pad TEXT)"))
        conn.execute(text("INSERT INTO t VALUES (:i, :p)"), [{"i": start + i, "p": "x" * 500} for i in range(rows)])


def test_a_commit_is_checkpointed_in_the_background(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'c.sqlite'}")
    checkpointer = checkpointer_of(engine)
    assert checkpointer is not None
    with engine.connect() as conn:
        # The writer's own (automatic) checkpoint is only a safety net far above a page's commit.
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == SQLITE_AUTOCHECKPOINT_PAGES
    _write(engine, 2000)
    _until(lambda: checkpointer.checkpoints >= 1, "a background checkpoint")
    # Everything committed is in the main file now: a checkpoint finds nothing left to copy.
    _until(lambda: _backfilled(tmp_path / "c.sqlite"), "the log copied into the database")
    engine.dispose()


def _backfilled(path: Path) -> bool:
    busy, log, done = sqlite3.connect(path).execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return busy == 0 and log == done


def test_dispose_ends_the_thread_and_leaves_a_whole_file(tmp_path: Path) -> None:
    path = tmp_path / "d.sqlite"
    engine = make_engine(f"sqlite:///{path}")
    _write(engine, 500)
    checkpointer = checkpointer_of(engine)
    _until(lambda: checkpointer.checkpoints >= 1, "a background checkpoint")
    assert checkpointer.running
    engine.dispose()
    assert not checkpointer.running
    # The engine's connections were the file's last: closing them removed the log, so a copy of the
    # file alone (how the tests' template database is copied) holds everything.
    assert not Path(f"{path}-wal").exists()
    copy = tmp_path / "copy.sqlite"
    shutil.copyfile(path, copy)
    assert sqlite3.connect(copy).execute("SELECT count(*) FROM t").fetchone()[0] == 500


def test_the_thread_ends_when_idle_and_a_later_commit_starts_another(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(checkpoint, "IDLE_SECONDS", 0.05)
    before = _threads()
    engine = make_engine(f"sqlite:///{tmp_path / 'e.sqlite'}")
    checkpointer = checkpointer_of(engine)
    _write(engine, 10)
    _until(lambda: checkpointer.checkpoints >= 1, "a first checkpoint")
    _until(lambda: not checkpointer.running, "the idle thread ending")
    assert _threads() == before
    _write(engine, 10, start=10)
    _until(lambda: checkpointer.checkpoints >= 2, "a checkpoint by a new thread")
    engine.dispose()
    assert _threads() == before


def test_a_burst_of_commits_makes_one_thread_and_few_checkpoints(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(checkpoint, "MIN_INTERVAL", 30.0)  # at most one checkpoint per 30 s
    before = _threads()
    engine = make_engine(f"sqlite:///{tmp_path / 'f.sqlite'}")
    for n in range(50):
        _write(engine, 5, start=n * 5)
    assert _threads() <= before + 1
    checkpointer = checkpointer_of(engine)
    _until(lambda: checkpointer.checkpoints >= 1, "a checkpoint")
    # The burst cost one checkpoint (maybe two, had the first come mid-burst), not one each.
    assert checkpointer.checkpoints <= 2
    engine.dispose()


def test_an_in_memory_database_has_no_checkpointer() -> None:
    engine = make_engine("sqlite://")
    assert checkpointer_of(engine) is None
    engine.dispose()
