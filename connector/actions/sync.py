"""Run a sync now, for one connection or all: the same entry for the CLI, the console and the daemon."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date

from sqlalchemy import select

from connector.actions.errors import NotFound
from connector.runtime import Runtime
from connector.store.models import Connection
from connector.sync.connect import ledger_for
from connector.sync.runner import LedgerFactory, SyncResult, connection_ids, sync_connection
from connector.sync.runs import RunCounts

log = logging.getLogger("connector.sync")


def run_sync(
    rt: Runtime,
    *,
    connection: str | None = None,
    make_ledger: LedgerFactory = ledger_for,
    do_import: bool = True,
    do_push: bool = True,
    today: date | None = None,
    on_progress: Callable[[str, RunCounts], None] | None = None,
) -> list[SyncResult]:
    """Import then push, connection by connection; one failing never stops the others."""
    ids = connection_ids(rt, connection)
    if connection and not ids:
        raise NotFound(f"no connection named {connection!r}", field="connection")
    results = []
    for connection_id in ids:
        progress = None
        if on_progress:
            with rt.sessions() as session:
                name = session.scalars(select(Connection.name).where(Connection.id == connection_id)).one()
            progress = lambda counts, name=name: on_progress(name, counts)  # noqa: E731
        result = sync_connection(
            rt, connection_id, make_ledger, today=today, do_import=do_import, do_push=do_push, on_progress=progress
        )
        log.info("sync %s: %s %s", result.connection, result.state, result.error or result.counts.as_dict())
        results.append(result)
    return results
