"""``connector scheduler``: puts the periodic jobs on the queues, one scheduler at a time.

Every ``tick`` seconds the leader enqueues what is due:

- per connection: **import** (``import_every``, which pushes too), **push** (``push_every``, not in
  a tick that already queued the import) and **reconcile** (``reconcile_every``), each at its own
  interval from the connection's schedule in the config;
- the **targeted syncs** ledger webhooks asked for, once their debounce interval has passed
  (:func:`connector.actions.hints.take_due`: the same hints the embedded daemon reads);
- cluster-wide: **notify** every minute and the **overdue sweep** every hour.

Connections that are disabled, being set up, disconnected, waiting to be reconnected or paused
(their daily allowance spent) get nothing queued: the worker would only skip them.

**No pile-up.** A job is queued only if the same job for the same connection is not already
waiting or running (a marker in Redis that the task clears when it ends): a backlog of slow
workers never grows the queue past one message per connection and job.

**One leader.** Only the holder of the ``scheduler`` lease in Redis (``SET NX PX``, renewed every
tick, ``lease`` seconds, 30 by default) enqueues. A second scheduler says who leads and waits; if
the leader stops (SIGTERM gives the lease back at once) or dies (``kill -9``: the lease runs out
within ``lease`` seconds), the waiting one takes over. A timetable kept in Redis lets the new leader
carry on where the old one stopped, without queueing everything again.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, timedelta

from celery import Celery
from sqlalchemy import func, select

from connector.actions.hints import take_due
from connector.engine import state
from connector.engine.celery_app import ROUTES, queue_name
from connector.runtime import Runtime
from connector.store.models import Connection, SyncRun
from connector.store.types import utcnow

log = logging.getLogger("connector.scheduler")

#: Per-connection jobs: the task, the schedule key in the connection's settings, its default seconds.
CONNECTION_JOBS = {
    "import": ("connector.import", "import_every", 900),
    "push": ("connector.push", "push_every", 60),
    "reconcile": ("connector.reconcile", "reconcile_every", 86_400),
}
#: Cluster-wide jobs: the task and its interval in seconds.
GLOBAL_JOBS = {"notify": ("connector.notify", 60), "overdue_sweep": ("connector.overdue_sweep", 3600)}
SKIP_STATES = frozenset({"setup", "disconnected", "needs_reconnect"})


def marker_ttl(rt: Runtime, interval: float) -> float:
    """How long a "queued" marker lives if its task never clears it: a message lost for good."""
    return interval + rt.config.engine.task_time_limit.total_seconds() + 60


def enqueue(rt: Runtime, app: Celery, job: str, connection: str = "-", *, ttl: float | None = None) -> bool:
    """Queue ``job`` (a key of CONNECTION_JOBS/GLOBAL_JOBS, or "targeted_sync") unless already queued.

    The one path every producer takes: the scheduler, and ``connector web`` (a "sync now" button)
    with ``enqueue(rt, app, "targeted_sync", name)``. False when it was already waiting.
    """
    task = _task_name(job)
    url = rt.config.engine.redis_url
    if not state.mark_queued(url, job, connection, ttl or marker_ttl(rt, 900)):
        return False
    kwargs = {} if connection == "-" else {"connection": connection}
    try:
        app.send_task(task, kwargs=kwargs, queue=queue_name(ROUTES[task]), routing_key=ROUTES[task])
    except Exception:
        state.clear_queued(url, job, connection)
        raise
    return True


def _task_name(job: str) -> str:
    if job in CONNECTION_JOBS:
        return CONNECTION_JOBS[job][0]
    if job in GLOBAL_JOBS:
        return GLOBAL_JOBS[job][0]
    if job == "targeted_sync":
        return "connector.targeted_sync"
    raise ValueError(f"no such job: {job}")


@dataclass
class TickCounts:
    """What one tick queued, per job; ``waiting``: due but still queued from before."""

    queued: dict[str, int] = field(default_factory=dict)
    waiting: int = 0

    def add(self, job: str) -> None:
        self.queued[job] = self.queued.get(job, 0) + 1

    def total(self) -> int:
        return sum(self.queued.values())


class Scheduler:
    """The leader's loop: hold the lease, queue what is due, sleep ``tick`` seconds."""

    def __init__(
        self,
        rt: Runtime,
        app: Celery,
        *,
        tick: float = 5.0,
        lease: float = 30.0,
        clock: Callable[[], float] = time.time,
        say: Callable[[str], None] | None = None,
    ) -> None:
        self.rt = rt
        self.app = app
        self.tick_seconds = tick
        self.lease = state.Lease(rt.config.engine.redis_url, "scheduler", lease)
        self.clock = clock
        self.say = say or log.info
        self.leading = False
        self._told_waiting: str | None = None

    # --- leadership -------------------------------------------------------------------------------

    def hold(self) -> bool:
        """Take or renew the lease; says so once when leadership is won, lost, or held by another."""
        leading = self.lease.hold()
        if leading and not self.leading:
            self.say(f"scheduler {self.lease.holder}: leading (lease of {self.lease.seconds:g} s in Redis)")
            self._told_waiting = None
        elif not leading:
            holder = self.lease.current() or "another scheduler"
            if self.leading:
                self.say(f"scheduler {self.lease.holder}: lost the lease to {holder}; waiting")
            elif self._told_waiting != holder:
                self.say(
                    f"scheduler {self.lease.holder}: another scheduler leads ({holder}); waiting to take over "
                    f"if it stops (within {self.lease.seconds:g} s of its last renewal)"
                )
            self._told_waiting = holder
        self.leading = leading
        return leading

    def run(self, stop: threading.Event, *, once: bool = False) -> None:
        """Until ``stop`` is set: lead and tick, or wait for the lease. ``once``: one tick as leader, then return."""
        try:
            while not stop.is_set():
                try:
                    if self.hold():
                        counts = self.tick()
                        if counts.total():
                            self.say(
                                "queued "
                                + ", ".join(f"{job} {n}" for job, n in sorted(counts.queued.items()))
                                + (f" ({counts.waiting} due but still queued)" if counts.waiting else "")
                            )
                        if once:
                            return
                except Exception as exc:  # the broker, Redis or the database away: say it, try next tick
                    log.warning("scheduler tick failed: %s: %s", type(exc).__name__, str(exc).splitlines()[:1])
                stop.wait(self.tick_seconds)
        finally:
            if self.leading:
                try:
                    self.lease.release()
                    self.say(f"scheduler {self.lease.holder}: stopped; lease given back")
                except Exception:
                    log.warning("scheduler: could not give the lease back; it ends by itself")

    # --- one tick ---------------------------------------------------------------------------------

    def tick(self) -> TickCounts:
        counts = TickCounts()
        url = self.rt.config.engine.redis_url
        for name in take_due(self.rt):
            # a hint's sync: its marker is cleared when the task starts, so a hint during a run queues another
            if enqueue(self.rt, self.app, "targeted_sync", name, ttl=marker_ttl(self.rt, 60)):
                counts.add("targeted_sync")
        now = self.clock()
        rows = self._connections()
        names = [r[0] for r in rows]
        imported: set[str] = set()
        for job, (_task, key, default) in CONNECTION_JOBS.items():
            due = state.due_times(url, job)
            gone = [n for n in due if n not in names]
            state.forget_due(url, job, gone)
            first = self._first_due(job, key, default, [r for r in rows if r[0] not in due], now)
            updates: dict[str, float] = {}
            for name, settings in rows:
                every = float(((settings or {}).get("schedule_seconds") or {}).get(key, default))
                when = due.get(name, first.get(name, now))
                if when > now:
                    if name not in due:
                        updates[name] = when
                    continue
                if job == "push" and name in imported:  # the import just queued pushes too
                    updates[name] = now + every
                    continue
                if enqueue(self.rt, self.app, job, name, ttl=marker_ttl(self.rt, every)):
                    counts.add(job)
                    updates[name] = now + every
                    if job == "import":
                        imported.add(name)
                else:
                    counts.waiting += 1
            state.set_due(url, job, updates)
            self.lease.hold()  # a long tick (thousands of connections) keeps its lease
        global_due = state.due_times(url, "global")
        updates = {}
        for job, (_task, every) in GLOBAL_JOBS.items():
            if global_due.get(job, now) <= now:
                if enqueue(self.rt, self.app, job, "-", ttl=marker_ttl(self.rt, every)):
                    counts.add(job)
                    updates[job] = now + every
                else:
                    counts.waiting += 1
        state.set_due(url, "global", updates)
        return counts

    def _connections(self) -> list[tuple[str, dict]]:
        """The connections a worker would sync now: not disabled, set up, connected, not paused."""
        now = utcnow()
        with self.rt.sessions() as session:
            rows = session.execute(
                select(Connection.name, Connection.settings, Connection.state, Connection.paused_until).order_by(
                    Connection.name
                )
            ).all()
        return [
            (name, settings or {})
            for name, settings, conn_state, paused in rows
            if conn_state not in SKIP_STATES
            and (settings or {}).get("enabled", True)
            and not (paused is not None and paused > now)
        ]

    def _first_due(
        self, job: str, key: str, default: int, rows: list[tuple[str, dict]], now: float
    ) -> dict[str, float]:
        """When a connection the timetable does not know yet is first due: its last such run plus its
        interval (a restarted cluster does not sync everything at once); if it never ran, now for the
        import, one ``reconcile_every`` from now for the reconciliation (there is nothing to reconcile yet)."""
        if not rows or job == "push":
            return {}
        job_name = "sync" if job == "import" else "reconcile"
        with self.rt.sessions() as session:
            last = dict(
                session.execute(
                    select(Connection.name, func.max(SyncRun.started_at))
                    .join(SyncRun, SyncRun.connection_id == Connection.id)
                    .where(SyncRun.job == job_name, SyncRun.state == "succeeded")
                    .group_by(Connection.name)
                ).all()
            )
        out = {}
        for name, settings in rows:
            every = timedelta(seconds=float(((settings or {}).get("schedule_seconds") or {}).get(key, default)))
            started = last.get(name)
            if started is not None:
                then = started + every
                out[name] = (then if then.tzinfo else then.replace(tzinfo=UTC)).timestamp()
            elif job == "reconcile":  # never reconciled: one interval after it is first seen (after its imports)
                out[name] = now + every.total_seconds()
        return out
