"""Sync runs (the support view of "what did the last sync do") and the per-connection lock.

**The lock belongs to one job run**, named by a random token, never to a whole process: the
daemon's sync and push jobs share a process but not a lock. The row also keeps the holder's
host, pid and heartbeat. The holder renews the heartbeat while it runs (``renew_lock``: a
background thread every ``HEARTBEAT_EVERY`` and at the start of every page or push
transaction, see :mod:`connector.sync.runner`). A lock is free, or taken over at once, when:

- nobody holds it;
- its heartbeat is older than ``STALE_AFTER`` (``lock_expires_at`` has passed), wherever the
  holder runs (another machine that died or lost the network);
- its holder ran on this host and its pid is gone (a crash, SIGKILL, an OOM kill);
- its holder ran in this very process but its job run is over (it could not release the lock,
  e.g. the database was away at that moment).

Taking a lock over ends the runs its dead holder left ``running``: they become
``interrupted``, with a one-line reason. A run that is stopped on purpose (SIGTERM, a lost
lock) is ``interrupted`` too.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import uuid
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from connector.store.models import Connection, SyncRun
from connector.store.types import utcnow

#: How often a running sync renews its heartbeat (background thread).
HEARTBEAT_EVERY = timedelta(seconds=30)
#: A heartbeat older than this is stale: the lock is taken over. Four missed beats.
STALE_AFTER = timedelta(minutes=2)
#: Kept for callers of the old name: a lock lives this long without a heartbeat.
LOCK_TTL = STALE_AFTER

#: Tokens of the job runs of this process that hold (or are taking) a lock.
_live: set[str] = set()
_live_guard = threading.Lock()


def this_host() -> str:
    return socket.gethostname()


@dataclass(frozen=True)
class LockOwner:
    """One job run that may hold connection locks: a unique token, with its host and pid."""

    token: str
    host: str
    pid: int

    @classmethod
    def new(cls) -> LockOwner:
        return cls(uuid.uuid4().hex, this_host(), os.getpid())

    def __str__(self) -> str:
        return f"{self.host}:{self.pid}"


def lock_owner() -> LockOwner:
    """A new owner for one job run (each call is a different owner, even in one process)."""
    return LockOwner.new()


def _as_owner(owner: LockOwner | str) -> LockOwner:
    return owner if isinstance(owner, LockOwner) else LockOwner(owner, this_host(), os.getpid())


def retire(owner: LockOwner | str) -> None:
    """This job run is over: a lock it could not release is free to take at once, in this process."""
    with _live_guard:
        _live.discard(_as_owner(owner).token)


@dataclass(frozen=True)
class LockResult:
    """What ``acquire_lock`` found; true when the lock is now ours."""

    acquired: bool
    #: Who holds it (when refused): "host:pid, heartbeat 12 s ago".
    holder: str | None = None
    #: Why the previous holder's runs were interrupted (when the lock was taken over).
    took_over: str | None = None

    def __bool__(self) -> bool:
        return self.acquired


def acquire_lock(
    session: Session, connection_id: int, owner: LockOwner | str, stale_after: timedelta = STALE_AFTER
) -> LockResult:
    """Take the connection's lock if it is free, stale, or its holder is dead; ours again if we hold it.

    The row is read ``FOR UPDATE`` (PostgreSQL; SQLite's writer already holds ``BEGIN IMMEDIATE``),
    so two processes deciding at once cannot both win. Runs a dead holder left ``running`` end
    ``interrupted`` in the same transaction.
    """
    owner = _as_owner(owner)
    now = utcnow()
    row = session.execute(
        select(
            Connection.lock_owner,
            Connection.lock_host,
            Connection.lock_pid,
            Connection.lock_heartbeat_at,
            Connection.lock_expires_at,
        )
        .where(Connection.id == connection_id)
        .with_for_update()
    ).one_or_none()
    if row is None:
        return LockResult(False, holder="nobody: there is no such connection")
    token, host, pid, heartbeat, expires = row
    if token is not None and token != owner.token:
        dead = _why_dead(token, host, pid, heartbeat, expires, now)
        if dead is None:
            return LockResult(False, holder=_describe(token, host, pid, heartbeat, now))
        took_over = f"{dead}; taken over by {owner}"
    else:
        took_over = None
    with _live_guard:
        _live.add(owner.token)
    session.execute(
        update(Connection)
        .where(Connection.id == connection_id)
        .values(
            lock_owner=owner.token,
            lock_host=owner.host,
            lock_pid=owner.pid,
            lock_heartbeat_at=now,
            lock_expires_at=now + stale_after,
            updated_at=Connection.updated_at,  # a lock is not an edit of the connection
        )
        .execution_options(synchronize_session=False)
    )
    if token != owner.token:
        _interrupt_left_running(
            session,
            connection_id,
            owner,
            took_over or "interrupted: found still running when the next sync began (its process did not finish it)",
        )
    return LockResult(True, took_over=took_over)


def renew_lock(
    session: Session, connection_id: int, owner: LockOwner | str, stale_after: timedelta = STALE_AFTER
) -> bool:
    """The heartbeat: false when the lock is no longer ours (taken over, released)."""
    owner = _as_owner(owner)
    now = utcnow()
    result = session.execute(
        update(Connection)
        .where(Connection.id == connection_id, Connection.lock_owner == owner.token)
        .values(lock_heartbeat_at=now, lock_expires_at=now + stale_after, updated_at=Connection.updated_at)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount == 1


def release_lock(session: Session, connection_id: int, owner: LockOwner | str) -> None:
    """Free the lock if ``owner`` holds it; a lock taken over meanwhile stays with its new holder."""
    owner = _as_owner(owner)
    retire(owner)
    session.execute(
        update(Connection)
        .where(Connection.id == connection_id, Connection.lock_owner == owner.token)
        .values(
            lock_owner=None,
            lock_host=None,
            lock_pid=None,
            lock_heartbeat_at=None,
            lock_expires_at=None,
            updated_at=Connection.updated_at,
        )
        .execution_options(synchronize_session=False)
    )


def lock_holder(session: Session, connection_id: int) -> str | None:
    """Who holds the connection's lock now, for a person: "host:pid, heartbeat 12 s ago"."""
    row = session.execute(
        select(Connection.lock_owner, Connection.lock_host, Connection.lock_pid, Connection.lock_heartbeat_at).where(
            Connection.id == connection_id
        )
    ).one_or_none()
    if row is None or row[0] is None:
        return None
    return _describe(*row, utcnow())


def _legacy_holder(token: str, host: str | None, pid: int | None) -> tuple[str | None, int | None]:
    """Locks written before 0005 kept only ``host:pid`` in ``lock_owner``."""
    if host is None and pid is None and ":" in token:
        legacy_host, _, legacy_pid = token.rpartition(":")
        if legacy_pid.isdigit():
            return legacy_host, int(legacy_pid)
    return host, pid


def _why_dead(
    token: str,
    host: str | None,
    pid: int | None,
    heartbeat: datetime | None,
    expires: datetime | None,
    now: datetime,
) -> str | None:
    """Why the holder can no longer be running, or None while it may be."""
    host, pid = _legacy_holder(token, host, pid)
    who = f"{host}:{pid}" if host else "its holder"
    if expires is None or expires < now:
        since = f" since {heartbeat:%Y-%m-%d %H:%M:%S} UTC" if heartbeat else ""
        return f"interrupted: no heartbeat from {who}{since}"
    if host == this_host() and pid is not None:
        if pid == os.getpid():
            with _live_guard:
                live = token in _live
            if not live:
                return f"interrupted: its job in process {who} ended without finishing it"
        elif not pid_alive(pid):
            return f"interrupted: its process {who} is gone"
    return None


def _describe(token: str, host: str | None, pid: int | None, heartbeat: datetime | None, now: datetime) -> str:
    host, pid = _legacy_holder(token, host, pid)
    who = f"{host}:{pid}" if host else token
    if heartbeat is None:
        return who
    return f"{who} (heartbeat {max(0, int((now - heartbeat).total_seconds()))} s ago)"


def pid_alive(pid: int) -> bool:
    """Is process ``pid`` running on this host? A zombie (dead, not yet reaped) counts as gone."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return True  # cannot tell (e.g. no kill() here): keep waiting for the heartbeat
    with contextlib.suppress(OSError, IndexError):
        stat = open(f"/proc/{pid}/stat").read()  # noqa: SIM115 - one short read
        return stat.rpartition(")")[2].split()[0] not in ("Z", "X")
    return True


def _interrupt_left_running(session: Session, connection_id: int, owner: LockOwner, reason: str) -> int:
    """Runs of this connection still ``running`` under another lock holder: they cannot be running."""
    result = session.execute(
        update(SyncRun)
        .where(
            SyncRun.connection_id == connection_id,
            SyncRun.state == "running",
            or_(
                and_(SyncRun.lock_owner.is_not(None), SyncRun.lock_owner != owner.token),
                and_(SyncRun.lock_owner.is_(None), SyncRun.job == "sync"),  # runs from before 0005
            ),
        )
        .values(state="interrupted", error=_one_line(reason), finished_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return result.rowcount


def interrupt_orphans(session: Session) -> int:
    """Runs left ``running`` by a process of this host that is gone (any job, any connection)."""
    host = this_host()
    found = 0
    rows = session.execute(
        select(SyncRun.id, SyncRun.pid, SyncRun.lock_owner).where(
            SyncRun.state == "running", SyncRun.host == host, SyncRun.pid.is_not(None)
        )
    ).all()
    for run_id, pid, token in rows:
        if pid == os.getpid():
            with _live_guard:
                gone = token is not None and token not in _live
            reason = f"interrupted: its job in process {host}:{pid} ended without finishing it"
        else:
            gone = not pid_alive(pid)
            reason = f"interrupted: its process {host}:{pid} is gone"
        if gone:
            found += session.execute(
                update(SyncRun)
                .where(SyncRun.id == run_id, SyncRun.state == "running")
                .values(state="interrupted", error=reason, finished_at=utcnow())
                .execution_options(synchronize_session=False)
            ).rowcount
    return found


def _one_line(text: str) -> str:
    return " ".join(text.split())


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


class RunNotFound(LookupError):
    """A sync run that should exist does not (deleted under us)."""


def start_run(session: Session, connection_id: int | None, job: str, *, owner: LockOwner | None = None) -> SyncRun:
    """A ``running`` run, with who runs it: the lock owner's token when it holds one, else this process."""
    run = SyncRun(
        connection_id=connection_id,
        job=job,
        state="running",
        counts={},
        api_calls=0,
        lock_owner=owner.token if owner else None,
        host=owner.host if owner else this_host(),
        pid=owner.pid if owner else os.getpid(),
    )
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
    *,
    state: str | None = None,
) -> None:
    """Record what the run did; ``state`` defaults to failed (with an error) or succeeded."""
    run = session.get(SyncRun, run_id)
    if run is None:
        raise RunNotFound(f"sync run {run_id} is gone; cannot record how it ended")
    run.counts = counts.as_dict()
    run.api_calls = api_calls
    run.error = error
    run.state = state or ("failed" if error else "succeeded")
    run.finished_at = finished_at or utcnow()
