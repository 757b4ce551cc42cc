"""The jobs, each safe to run at any time and any number of times.

Each takes the runtime and does one thing for every enabled connection; the per-connection
database lock (see :mod:`connector.sync.runs`) keeps two processes off the same connection.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from connector.domain import DueDatePassed
from connector.runtime import Runtime
from connector.store.models import Connection, Invoice
from connector.sync.apply import apply_event
from connector.sync.connect import ledger_for
from connector.sync.runner import LedgerFactory, SyncResult, connection_ids, sync_connection
from connector.sync.runs import RunCounts, finish_run, start_run

log = logging.getLogger("connector.jobs")


def sync_all(
    rt: Runtime,
    *,
    connection: str | None = None,
    make_ledger: LedgerFactory = ledger_for,
    do_import: bool = True,
    do_push: bool = True,
    on_progress: Callable[[str, RunCounts], None] | None = None,
) -> list[SyncResult]:
    """Import then push, connection by connection; one failing never stops the others."""
    results = []
    for connection_id in connection_ids(rt, connection):
        progress = None
        if on_progress:
            with rt.sessions() as session:
                name = session.get(Connection, connection_id).name
            progress = lambda counts, name=name: on_progress(name, counts)  # noqa: E731
        result = sync_connection(
            rt, connection_id, make_ledger, do_import=do_import, do_push=do_push, on_progress=progress
        )
        log.info("sync %s: %s %s", result.connection, result.state, result.error or result.counts.as_dict())
        results.append(result)
    return results


def push_all(rt: Runtime, **kwargs: object) -> list[SyncResult]:
    return sync_all(rt, do_import=False, **kwargs)  # type: ignore[arg-type]


def local_today(connection: Connection | None, now: datetime | None = None) -> date:
    """The organisation's calendar date: due dates are its dates, so "overdue" must be too."""
    now = now or datetime.now(UTC)
    minutes = (connection.settings or {}).get("utc_offset_minutes") if connection else None
    if minutes is None:
        return now.astimezone().date()
    return (now + timedelta(minutes=int(minutes))).date()


def overdue_sweep(rt: Runtime, today: date | None = None, now: datetime | None = None) -> int:
    """Outstanding requests whose due date has passed, in the organisation's own date, become Overdue."""
    moved = 0
    with rt.transaction() as session:
        run_id = start_run(session, None, "overdue_sweep").id
        rows = session.scalars(
            select(Invoice).where(
                Invoice.status == "outstanding", Invoice.due_date.is_not(None), Invoice.deleted_at.is_(None)
            )
        )
        for invoice in rows:
            day = today or local_today(invoice.connection, now)
            if invoice.due_date >= day:
                continue
            apply_event(
                session, invoice, DueDatePassed(occurred_on=day, detail=f"due {invoice.due_date}"), sync_run_id=run_id
            )
            moved += 1
        counts = RunCounts(changed=moved)
        finish_run(session, run_id, counts, 0)
    return moved
