"""One sync of one connection: lock, import, push, and a sync run that says what happened.

A connection that needs reconnecting or has spent its daily allowance is marked so and
skipped; the other connections go on. Two job runs never sync one connection at once, in one
process or in two (the lock belongs to the job run: see :mod:`connector.sync.runs`).

While the run holds the lock it keeps it alive two ways: a background heartbeat thread
(``HEARTBEAT_EVERY``) for the long waits on the ledger, and a renewal at the start of every
page and push transaction, inside that transaction, so a page is written only while the lock
is still ours. A run stops at its next page or push-batch boundary, finishing the batch in
flight, when the runtime is stopping (SIGTERM) or its lock was taken over; the run ends
``interrupted`` with the reason, and the next run picks up from the cursor and the outbox.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from connector.ledgers.base import Ledger
from connector.ledgers.errors import DailyLimitError, LedgerError, ReconnectRequired
from connector.runtime import Runtime
from connector.store.db import WRITE
from connector.store.models import Connection, OutboxEntry, SyncRun
from connector.store.types import utcnow
from connector.sync.importer import import_invoices
from connector.sync.push import StopConnection, push
from connector.sync.runs import (
    HEARTBEAT_EVERY,
    LockOwner,
    RunCounts,
    acquire_lock,
    finish_run,
    interrupt_orphans,
    lock_holder,
    release_lock,
    renew_lock,
    retire,
    start_run,
)

LedgerFactory = Callable[[Runtime, Connection], Ledger]

log = logging.getLogger("connector.sync")


@dataclass
class SyncResult:
    connection: str
    state: str  # succeeded | failed | skipped | interrupted
    counts: RunCounts = field(default_factory=RunCounts)
    api_calls: int = 0
    seconds: float = 0.0
    error: str | None = None
    run_id: int | None = None


class RunStopped(Exception):
    """This run stops at a page or batch boundary: the runtime is stopping, or the lock was lost."""


def sync_connection(
    rt: Runtime,
    connection_id: int,
    make_ledger: LedgerFactory,
    *,
    today: date | None = None,
    do_import: bool = True,
    do_push: bool = True,
    on_progress: Callable[[RunCounts], None] | None = None,
    push_options: dict[str, Any] | None = None,
) -> SyncResult:
    today = today or date.today()
    owner = LockOwner.new()
    started = time.perf_counter()
    with rt.transaction() as session:
        interrupt_orphans(session)
        connection = session.get(Connection, connection_id)
        if connection is None:
            return SyncResult(f"#{connection_id}", "skipped", error="no such connection")
        name = connection.name
        skip = _why_skip(connection)
        if skip is None and rt.stopping.is_set():
            skip = "the connector is stopping"
        if skip is None:
            taken = acquire_lock(session, connection_id, owner)
            if not taken:
                skip = f"being synced by {taken.holder}"
            elif taken.took_over:
                log.warning("connection %s: %s", name, taken.took_over)
        if skip:
            return SyncResult(name, "skipped", error=skip)
        run_id = start_run(session, connection_id, "sync", owner=owner).id
    guard = _RunGuard(rt, connection_id, owner)
    counts = RunCounts()
    guard.progress = (run_id, counts)
    guard.start()
    ledger: Ledger | None = None
    error: str | None = None
    state = "succeeded"
    try:
        with rt.sessions() as session:
            ledger = make_ledger(rt, session.get(Connection, connection_id))
        _learn_organisation(rt, connection_id, ledger)
        if do_import:
            import_invoices(
                guard.page_transaction,
                connection_id,
                ledger,
                today=today,
                run_id=run_id,
                counts=counts,
                on_page=guard.after_page(on_progress),
            )
            _remember_offset(rt, connection_id, getattr(ledger, "utc_offset_minutes", None))
        if do_push:
            guard.check()
            # The lock is ours: no other pusher can be sending this connection's entries, so one left
            # "sending" is a dead run's and is taken up at once (lease 0), not after the sending lease.
            options = {"lease": timedelta(0), **(push_options or {})}
            push(guard.push_transaction, connection_id, ledger, counts=counts, run_id=run_id, **options)
    except RunStopped as exc:
        state, error = "interrupted", f"{exc}; stopped after {_progress(counts)}: the rest comes next run"
    except StopConnection as exc:
        state, error = "failed", _stop(rt, connection_id, exc.cause)
    except (ReconnectRequired, DailyLimitError) as exc:
        state, error = "failed", _stop(rt, connection_id, exc)
    except LedgerError as exc:
        state, error = "failed", f"the ledger did not answer well enough to go on: {exc}"
    except (KeyboardInterrupt, SystemExit) as exc:
        state, error = "interrupted", f"stopped by {type(exc).__name__} after {_progress(counts)}"
        raise
    except BaseException as exc:  # recorded, then raised again: the run never claims a success it did not have
        state, error = "failed", _one_line(f"stopped by an unexpected error: {type(exc).__name__}: {exc}")
        raise
    finally:
        guard.stop()
        retire(owner)
        calls = ledger.calls.total if ledger else 0
        with rt.transaction() as session:
            finish_run(session, run_id, counts, calls, error, state=state)
            release_lock(session, connection_id, owner)
    return SyncResult(name, state, counts, calls, time.perf_counter() - started, error, run_id)


class _RunGuard:
    """Keeps one run's lock alive, and says when the run must stop at its next boundary.

    The heartbeat thread renews the lock every ``HEARTBEAT_EVERY`` through its own session (never
    ``rt.transaction``). Each page or push transaction renews it again, first thing, inside that
    transaction: on PostgreSQL the row stays locked until the page commits, so a takeover waits
    for it; on SQLite the writer lock does the same. A page is never written without the lock.
    """

    def __init__(self, rt: Runtime, connection_id: int, owner: LockOwner, every: timedelta | None = None):
        self.rt = rt
        self.connection_id = connection_id
        self.owner = owner
        self.every = every or HEARTBEAT_EVERY
        self.started_at: datetime = utcnow()
        self.lost: str | None = None
        #: The run and its running counts: each page writes them on the run's row with the page, so
        #: anyone watching (the setup wizard's progress bar, the console) sees the run advance.
        self.progress: tuple[int, RunCounts] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, name=f"lock-heartbeat-{connection_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=1)  # a beat stuck on the database renews nothing once the lock is released

    def _beat(self) -> None:
        while not self._stop.wait(self.every.total_seconds()):
            try:
                with self.rt.sessions() as session, session.begin():
                    session.connection(execution_options=WRITE)
                    if not renew_lock(session, self.connection_id, self.owner):
                        self._lose(session)
                        return
            except Exception as exc:  # the database is away: the next beat tries again; the run's own writes will say
                log.debug("lock heartbeat for connection %s failed: %s", self.connection_id, exc)

    def _lose(self, session: Session) -> None:
        holder = lock_holder(session, self.connection_id) or "nobody (it was released)"
        self.lost = f"lost the connection's lock to {holder}"

    def _why_stop(self) -> str | None:
        if self.lost:
            return self.lost
        if self.rt.stopping.is_set():
            return "the connector is stopping"
        return None

    def after_page(self, on_progress: Callable[[RunCounts], None] | None) -> Callable[[RunCounts], None]:
        """Called when a page has committed: stop here, without waiting for the next page's fetch."""

        def on_page(counts: RunCounts) -> None:
            if on_progress:
                on_progress(counts)
            self.check()

        return on_page

    def check(self) -> None:
        """Between phases: stop now if the run must."""
        why = self._why_stop()
        if why:
            raise RunStopped(why)

    def _renew(self, session: Session) -> None:
        if not renew_lock(session, self.connection_id, self.owner) and not self.lost:
            self._lose(session)

    @contextmanager
    def page_transaction(self) -> Iterator[Session]:
        """One import page: every page is a boundary, so a run that must stop stops before writing it."""
        with self.rt.transaction() as session:
            self._renew(session)
            why = self._why_stop()
            if why:
                raise RunStopped(why)
            yield session
            if self.progress:
                run_id, counts = self.progress
                session.execute(update(SyncRun).where(SyncRun.id == run_id).values(counts=counts.as_dict()))

    @contextmanager
    def push_transaction(self) -> Iterator[Session]:
        """One push step. A batch is claimed, sent and settled in several transactions: a run that must
        stop finishes the batch it claimed (entries of this run still ``sending``) and stops before the next."""
        with self.rt.transaction() as session:
            self._renew(session)
            why = self._why_stop()
            if why and not self._mid_batch(session):
                raise RunStopped(why)
            yield session

    def _mid_batch(self, session: Session) -> bool:
        return (
            session.scalars(
                select(OutboxEntry.id)
                .where(
                    OutboxEntry.connection_id == self.connection_id,
                    OutboxEntry.state == "sending",
                    OutboxEntry.updated_at >= self.started_at,
                )
                .limit(1)
            ).first()
            is not None
        )


def _progress(counts: RunCounts) -> str:
    return f"{counts.pages} page(s) read and {counts.pushed} ledger write(s)"


def _one_line(text: str) -> str:
    return " ".join(text.split())[:500]


def _learn_organisation(rt: Runtime, connection_id: int, ledger: Ledger) -> None:
    """Once per connection: the organisation's base currency and time zone, kept in its settings.

    Placement needs the currency (invoices in another one are never collected) and the overdue
    sweep the organisation's own date. One ledger call the first time, none after.
    """
    read = getattr(ledger, "organisation", None)
    with rt.sessions() as session:
        known = session.get(Connection, connection_id).settings or {}
    if read is None or known.get("base_currency"):
        return
    facts = read()
    learned = {"base_currency": facts.base_currency}
    if facts.timezone:
        learned["timezone"] = facts.timezone
    if facts.utc_offset_minutes is not None:
        learned["utc_offset_minutes"] = facts.utc_offset_minutes
    with rt.transaction() as session:
        connection = session.get(Connection, connection_id)
        connection.settings = {**(connection.settings or {}), **learned}


def _remember_offset(rt: Runtime, connection_id: int, minutes: int | None) -> None:
    """Keep the organisation's UTC offset with the connection, for its local "today" (overdue sweep)."""
    if minutes is None:
        return
    with rt.transaction() as session:
        connection = session.get(Connection, connection_id)
        if (connection.settings or {}).get("utc_offset_minutes") != minutes:
            connection.settings = {**(connection.settings or {}), "utc_offset_minutes": minutes}


def _why_skip(connection: Connection) -> str | None:
    if connection.state == "setup":
        return "its setup is not finished (accounts and settings): finish it at /setup"
    if connection.state == "disconnected":
        return "disconnected: its history is kept, nothing is synced"
    if not (connection.settings or {}).get("enabled", True):
        return "disabled in the config"
    if connection.state == "needs_reconnect":
        return f"needs reconnecting: {connection.state_reason or ''}".strip()
    if connection.paused_until and connection.paused_until > utcnow():
        return f"paused until {connection.paused_until.isoformat(timespec='minutes')}: {connection.state_reason}"
    return None


def _stop(rt: Runtime, connection_id: int, cause: LedgerError) -> str:
    """Mark the connection: needs reconnecting, or paused until the daily window opens (any other cause)."""
    with rt.transaction() as session:
        connection = session.get(Connection, connection_id)
        if isinstance(cause, ReconnectRequired):
            connection.state = "needs_reconnect"
            connection.state_reason = str(cause)
            return f"needs reconnecting: {cause}"
        connection.state = "paused"
        connection.paused_until = utcnow() + timedelta(seconds=getattr(cause, "retry_after", None) or 3600)
        connection.state_reason = str(cause)
        return f"paused until the ledger's daily window opens: {cause}"


def connection_ids(rt: Runtime, name: str | None = None) -> list[int]:
    with rt.transaction() as session:
        query = select(Connection.id).order_by(Connection.name)
        if name:
            query = query.where(Connection.name == name)
        return list(session.scalars(query))
