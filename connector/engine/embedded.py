"""The embedded daemon's bounded pool: several connections synced at once in one process.

``[engine] concurrency`` threads (4 by default) each take the next connection; a connection is
still synced by one job run at a time (its lease in the database, exactly as across a cluster), and
its calls go through the limiter of its tenant, shared by every thread of the process (or by every
process, when ``[engine] redis_url`` is set: see :mod:`connector.engine.ledgers`). Threads suit the
work: a sync waits on the ledger's HTTP answers and on the database far more than it computes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from sqlalchemy import select

from connector.actions.errors import NotFound
from connector.runtime import Runtime
from connector.store.models import Connection

T = TypeVar("T")

log = logging.getLogger("connector.daemon")


def connection_names(rt: Runtime) -> list[str]:
    with rt.sessions() as session:
        return list(session.scalars(select(Connection.name).order_by(Connection.name)))


def run_pooled(rt: Runtime, names: list[str], job: Callable[[str], list[T]], size: int | None = None) -> list[T]:
    """``job(name)`` for each connection, at most ``size`` at once; results in the order of ``names``.

    Once the runtime is stopping no connection starts (the runs in flight stop at their next page).
    A connection removed meanwhile is left out. If a job raised (the database went away), the
    others still finish, and then the first error is raised for the daemon's outage watch.
    """
    size = max(1, size or rt.config.engine.concurrency)
    if size == 1 or len(names) <= 1:
        return [r for name in names if not rt.stopping.is_set() for r in _one(job, name)]

    def guarded(name: str) -> list[T]:
        if rt.stopping.is_set():
            return []
        return _one(job, name)

    with ThreadPoolExecutor(max_workers=min(size, len(names)), thread_name_prefix="sync") as pool:
        futures: list[Future[list[T]]] = [pool.submit(guarded, name) for name in names]
    results: list[T] = []
    first_error: BaseException | None = None
    for future in futures:
        error = future.exception()
        if error is not None:
            first_error = first_error or error
            continue
        results.extend(future.result())
    if first_error is not None:
        raise first_error
    return results


def _one(job: Callable[[str], list[T]], name: str) -> list[T]:
    try:
        return job(name)
    except NotFound:
        log.info("connection %s is gone; skipped", name)
        return []
