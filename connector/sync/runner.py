"""One sync of one connection: lock, import, push, and a sync run that says what happened.

A connection that needs reconnecting or has spent its daily allowance is marked so and
skipped; the other connections go on. Two processes never sync one connection at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import select

from connector.ledgers.base import Ledger
from connector.ledgers.errors import DailyLimitError, LedgerError, ReconnectRequired
from connector.runtime import Runtime
from connector.store.models import Connection
from connector.store.types import utcnow
from connector.sync.importer import import_invoices
from connector.sync.push import StopConnection, push
from connector.sync.runs import RunCounts, acquire_lock, finish_run, lock_owner, release_lock, start_run

LedgerFactory = Callable[[Runtime, Connection], Ledger]


@dataclass
class SyncResult:
    connection: str
    state: str  # succeeded | failed | skipped
    counts: RunCounts = field(default_factory=RunCounts)
    api_calls: int = 0
    seconds: float = 0.0
    error: str | None = None
    run_id: int | None = None


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
    owner = lock_owner()
    started = time.perf_counter()
    with rt.transaction() as session:
        connection = session.get(Connection, connection_id)
        name = connection.name
        skip = _why_skip(connection)
        if skip is None and not acquire_lock(session, connection_id, owner):
            skip = f"being synced by {connection.lock_owner}"
        if skip:
            return SyncResult(name, "skipped", error=skip)
        run_id = start_run(session, connection_id, "sync").id
    counts = RunCounts()
    ledger: Ledger | None = None
    error: str | None = None
    try:
        with rt.sessions() as session:
            ledger = make_ledger(rt, session.get(Connection, connection_id))
        _learn_organisation(rt, connection_id, ledger)
        if do_import:
            import_invoices(
                rt.transaction, connection_id, ledger, today=today, run_id=run_id, counts=counts, on_page=on_progress
            )
            _remember_offset(rt, connection_id, getattr(ledger, "utc_offset_minutes", None))
        if do_push:
            push(rt.transaction, connection_id, ledger, counts=counts, run_id=run_id, **(push_options or {}))
    except StopConnection as exc:
        error = _stop(rt, connection_id, exc.cause)
    except (ReconnectRequired, DailyLimitError) as exc:
        error = _stop(rt, connection_id, exc)
    except LedgerError as exc:
        error = f"the ledger did not answer well enough to go on: {exc}"
    finally:
        calls = ledger.calls.total if ledger else 0
        with rt.transaction() as session:
            finish_run(session, run_id, counts, calls, error)
            release_lock(session, connection_id, owner)
    return SyncResult(
        name, "failed" if error else "succeeded", counts, calls, time.perf_counter() - started, error, run_id
    )


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
    if not (connection.settings or {}).get("enabled", True):
        return "disabled in the config"
    if connection.state == "needs_reconnect":
        return f"needs reconnecting: {connection.state_reason or ''}".strip()
    if connection.paused_until and connection.paused_until > utcnow():
        return f"paused until {connection.paused_until.isoformat(timespec='minutes')}: {connection.state_reason}"
    return None


def _stop(rt: Runtime, connection_id: int, cause: LedgerError) -> str:
    with rt.transaction() as session:
        connection = session.get(Connection, connection_id)
        if isinstance(cause, ReconnectRequired):
            connection.state = "needs_reconnect"
            connection.state_reason = str(cause)
            return f"needs reconnecting: {cause}"
        assert isinstance(cause, DailyLimitError)
        connection.state = "paused"
        connection.paused_until = utcnow() + timedelta(seconds=cause.retry_after or 3600)
        connection.state_reason = str(cause)
        return f"paused until the ledger's daily window opens: {cause}"


def connection_ids(rt: Runtime, name: str | None = None) -> list[int]:
    with rt.transaction() as session:
        query = select(Connection.id).order_by(Connection.name)
        if name:
            query = query.where(Connection.name == name)
        return list(session.scalars(query))
