"""The jobs, each safe to run at any time and any number of times.

Each takes the runtime and does one thing for every enabled connection; the per-connection
database lock (see :mod:`connector.sync.runs`) keeps two processes off the same connection.
The sync and push jobs work on ``[engine] concurrency`` connections at once (a bounded pool of
threads, :mod:`connector.engine.embedded`), each connection's calls through its tenant's limiter
shared by the whole process (:mod:`connector.engine.ledgers`). On the Celery engine the same
actions run as tasks instead (:mod:`connector.engine.tasks`).
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from typing import Any

from connector.actions.hints import take_due
from connector.actions.notices import collect, send_due
from connector.actions.reconcile import due_for_reconcile, run_reconcile
from connector.actions.sweeps import sweep_overdue
from connector.actions.sync import run_sync
from connector.engine.embedded import connection_names, run_pooled
from connector.engine.ledgers import factory_for
from connector.runtime import Runtime
from connector.sync.runner import SyncResult

log = logging.getLogger("connector.jobs")


def sync_all(rt: Runtime, **kwargs: Any) -> list[SyncResult]:
    """Import then push every connection (the daemon's sync job): the same action as ``connector sync``,
    for several connections at once (``[engine] concurrency``), each still by one job run at a time."""
    kwargs.setdefault("make_ledger", factory_for(rt))
    if kwargs.get("connection"):
        return run_sync(rt, **kwargs)
    return run_pooled(rt, connection_names(rt), lambda name: run_sync(rt, connection=name, **kwargs))


def hinted_syncs(rt: Runtime, now: datetime | None = None, **kwargs: Any) -> list[SyncResult]:
    """The daemon's webhook job: a targeted sync of each connection a ledger webhook asked about,
    once its debounce interval has passed (many hints, one sync)."""
    results = []
    for name in take_due(rt, now):
        if rt.stopping.is_set():
            break
        results.extend(run_sync(rt, connection=name, **kwargs))
    return results


def notices(rt: Runtime, now: datetime | None = None) -> int:
    """The daemon's notices job: store what is worth telling, then mail what is due (digested)."""
    stored = collect(rt, now)
    counts = send_due(rt, now)
    if stored or counts.sent or counts.failed:
        log.info("notices: %d stored, %d sent, %d failed, %d waiting for their digest", stored, counts.sent,
                 counts.failed, counts.waiting)
    return stored


def push_all(rt: Runtime, **kwargs: object) -> list[SyncResult]:
    return sync_all(rt, do_import=False, **kwargs)  # type: ignore[arg-type]


def overdue_sweep(rt: Runtime, today: date | None = None, now: datetime | None = None) -> int:
    """The daemon's overdue job: the same action any shell would call."""
    return sweep_overdue(rt, today=today, now=now)


def reconcile_due(rt: Runtime) -> list[Any]:
    """The daemon's reconcile job: each connection whose ``reconcile_every`` has passed."""
    results = []
    make_ledger = factory_for(rt)
    for name in due_for_reconcile(rt):
        if rt.stopping.is_set():
            break
        results.extend(run_reconcile(rt, connection=name, make_ledger=make_ledger))
    for r in results:
        log.info("reconcile %s: %s", r.connection, r.summary())
    return results
