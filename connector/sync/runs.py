"""Sync runs (the support view of "what did the last sync do") and the per-connection lock."""

from __future__ import annotations

import os
import socket
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from connector.store.models import Connection, SyncRun
from connector.store.types import utcnow

LOCK_TTL = timedelta(minutes=15)


def lock_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def acquire_lock(session: Session, connection_id: int, owner: str, ttl: timedelta = LOCK_TTL) -> bool:
    """Take the connection's sync lock if it is free or expired: one atomic UPDATE, any database."""
    now = utcnow()
    result = session.execute(
        update(Connection)
        .where(
            Connection.id == connection_id,
            or_(Connection.lock_owner.is_(None), Connection.lock_expires_at < now, Connection.lock_owner == owner),
        )
        .values(lock_owner=owner, lock_expires_at=now + ttl)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_lock(session: Session, connection_id: int, owner: str) -> None:
    session.execute(
        update(Connection)
        .where(Connection.id == connection_id, Connection.lock_owner == owner)
        .values(lock_owner=None, lock_expires_at=None)
        .execution_options(synchronize_session=False)
    )


@dataclass
class RunCounts:
    """What one sync run did, stored as the run's ``counts``."""

    fetched: int = 0
    placed: int = 0
    changed: int = 0
    unchanged: int = 0
    conflicts: int = 0
    quarantined: int = 0
    skipped: int = 0
    pages: int = 0
    pushed: int = 0
    rejected: int = 0
    retrying: int = 0
    held: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def start_run(session: Session, connection_id: int | None, job: str) -> SyncRun:
    run = SyncRun(connection_id=connection_id, job=job, state="running", counts={}, api_calls=0)
    session.add(run)
    session.flush()
    return run


def finish_run(
    session: Session,
    run_id: int,
    counts: RunCounts,
    api_calls: int,
    error: str | None = None,
    finished_at: datetime | None = None,
) -> None:
    run = session.get(SyncRun, run_id)
    assert run is not None
    run.counts = counts.as_dict()
    run.api_calls = api_calls
    run.error = error
    run.state = "failed" if error else "succeeded"
    run.finished_at = finished_at or utcnow()
