"""The console's history of sync and reconcile runs (and the row the dashboard shows for one)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.reports.common import PAGE_SIZE, _keyset, _names
from connector.store.models import Connection, SyncRun


def _run_row(run: SyncRun, connection: str | None) -> dict[str, Any]:
    counts = run.counts or {}
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "id": run.id,
        "connection": connection or "",
        "job": run.job,
        "state": run.state,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "seconds": seconds,
        "api_calls": run.api_calls,
        "error": run.error,
        "counts": {k: v for k, v in counts.items() if isinstance(v, int)},
        "summary": counts.get("summary"),
    }


def sync_runs(
    session: Session, *, connection_id: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    """The history of sync and reconcile runs, newest first, optionally for one connection (two queries)."""
    query = select(SyncRun, Connection.name).outerjoin(Connection, Connection.id == SyncRun.connection_id)
    if connection_id:
        query = query.where(SyncRun.connection_id == connection_id)
    page = _keyset(
        session,
        query,
        SyncRun.id,
        after=after,
        before=None,
        descending=True,
        limit=limit,
        row=lambda found: _run_row(*found),
    )
    return {"page": page, "connections": _names(session)}
