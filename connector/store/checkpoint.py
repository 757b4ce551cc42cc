"""SQLite WAL checkpoints in a background thread, so a writer never waits for one.

Why: in WAL mode SQLite's own (automatic) checkpoint runs inside the ``COMMIT`` that pushes the
write-ahead log past ``wal_autocheckpoint`` pages: that commit copies the log back into the
database file and syncs both to disk while the writer waits. An import page dirties a few thousand
pages of the random-keyed indexes (ledger id, fingerprint), more as the table grows, so with the
default of 1,000 pages every page's commit paid a checkpoint and its fsyncs, and a 300k import took
4.4× the time of 100k. SQLite's documentation suggests exactly this instead: raise the automatic
threshold (kept as a safety net) and checkpoint from another thread. Here each commit nudges a
thread that runs ``PRAGMA wal_checkpoint(PASSIVE)`` on its own connection: PASSIVE never waits for
readers or writers, it copies what it can, and the next writer restarts the log from the beginning
once everything was copied.

Durability is unchanged: a commit is in the WAL either way (``synchronous=NORMAL``), and the
checkpoint only moves it into the main file. The thread is started by the first commit and ends
after :data:`IDLE_SECONDS` without one, so an idle process (or a test's throwaway engine) keeps no
thread and no connection open.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
from pathlib import Path

log = logging.getLogger(__name__)

#: The thread ends after this long without a commit (a new commit starts it again).
IDLE_SECONDS = 2.0
#: At most one checkpoint per this interval: a burst of small commits costs one fsync, not one each.
MIN_INTERVAL = 0.05


class WalCheckpointer:
    """Checkpoints one SQLite database file in the background, when nudged after a commit."""

    def __init__(self, database: Path) -> None:
        self.database = database
        #: Checkpoints run so far (tests count them).
        self.checkpoints = 0
        self._stopped = threading.Event()
        self._fresh()

    def _fresh(self) -> None:
        """New lock, event and no thread: at creation, and in a child process after a fork (threads
        do not survive one, and a lock held by another thread at that moment never comes free)."""
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    def nudge(self) -> None:
        """A transaction committed: checkpoint soon (starting the thread if it has ended)."""
        if self._pid != os.getpid():
            self._fresh()
        with self._lock:
            self._wake.set()
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="sqlite-checkpoint", daemon=True)
                self._thread.start()

    def stop(self) -> None:
        """End the thread after its current checkpoint and close its connection (the engine is
        being disposed of). A later commit starts a new one."""
        with self._lock:
            thread = self._thread
            if thread is None:
                return
            self._stopped.set()
            self._wake.set()
        if thread is not threading.current_thread():
            thread.join(timeout=30)
        self._stopped.clear()

    @property
    def running(self) -> bool:
        with self._lock:
            return self._thread is not None

    def _run(self) -> None:
        try:
            conn = sqlite3.connect(self.database, timeout=0, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:  # the automatic checkpoint still runs at the safety-net size
            log.warning("background checkpoints are off: %s", exc)
            with self._lock:
                self._thread = None
            return
        try:
            while True:
                if not self._wake.wait(IDLE_SECONDS):
                    with self._lock:
                        if not self._wake.is_set():  # idle: end; a later nudge starts a new thread
                            self._thread = None
                            return
                if self._stopped.is_set():
                    with self._lock:
                        self._thread = None
                    return
                self._wake.clear()
                try:
                    conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                    self.checkpoints += 1
                except sqlite3.Error as exc:  # busy or locked: the next nudge tries again
                    log.debug("background checkpoint skipped: %s", exc)
                self._stopped.wait(MIN_INTERVAL)
        finally:
            conn.close()
