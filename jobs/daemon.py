"""``connector daemon``: every job on its interval, in one process, stopping within a bound on SIGTERM.

APScheduler runs each job with ``max_instances=1`` and ``coalesce=True``, so a slow sync is
never overlapped by the next one of the same job. Within a job, ``[engine] concurrency``
connections are synced at once (a bounded pool of threads, see :mod:`jobs.tasks`). The sync and
push jobs may meet on one connection; its lock belongs to one job run, so the second one skips it
(see :mod:`connector.sync.runs`), in this process or another. This is the ``embedded`` engine; with
``[engine] kind = "celery"`` the same jobs run as Celery tasks (:mod:`connector.engine`).

**Stopping.** SIGTERM or SIGINT (or ``stop``): no job and no connection starts any more; a
sync in flight stops after its current page or push batch (``Runtime.stopping``); the daemon
waits up to ``stop_grace`` seconds (30 by default) for that, then returns anyway, and
``connector daemon`` exits: the locks of what was left are taken over at once at the next start
(the pid is gone), its outbox entries after their sending lease. Nothing is lost or doubled.

**Database outages.** A job that cannot reach the database logs one line when the outage
begins and one when it ends, never a traceback per attempt; meanwhile jobs try again with
backoff (5 s doubling to 5 min), skipping their turns in between (:class:`DatabaseWatch`).
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from apscheduler.schedulers import SchedulerNotRunningError
from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

from connector.runtime import Runtime
from connector.store.models import Connection
from jobs.tasks import hinted_syncs, notices, overdue_sweep, push_all, reconcile_due, sync_all

log = logging.getLogger("connector.daemon")

#: Seconds SIGTERM waits for the jobs in flight (their current page or batch) before giving up on them.
DEFAULT_STOP_GRACE = 30
FIRST_BACKOFF = timedelta(seconds=5)
MAX_BACKOFF = timedelta(minutes=5)


def is_outage(exc: BaseException) -> bool:
    """The database cannot be reached or used right now (as opposed to a bug in a query)."""
    if isinstance(exc, OperationalError | InterfaceError):
        return True
    return isinstance(exc, DBAPIError) and bool(exc.connection_invalidated)


def _first_line(exc: BaseException) -> str:
    cause = getattr(exc, "orig", None) or exc
    text = str(cause).strip().splitlines()
    return f"{type(cause).__name__}: {text[0] if text else ''}".strip()


class DatabaseWatch:
    """One log line when the database goes away, one when it is back, and backoff in between.

    Shared by every job of the daemon. While the database is away a job's turn before the next
    try is skipped (it returns None without touching the database); the turn after it tries.
    """

    def __init__(
        self,
        first: timedelta = FIRST_BACKOFF,
        most: timedelta = MAX_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.first = first.total_seconds()
        self.most = most.total_seconds()
        self.clock = clock
        self._lock = threading.Lock()
        self.down_since: float | None = None
        self.failures = 0
        self.next_try = 0.0
        self.delay = self.first

    def run(self, name: str, job: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        with self._lock:
            if self.down_since is not None and self.clock() < self.next_try:
                return None
        try:
            result = job(*args, **kwargs)
        except Exception as exc:
            if not is_outage(exc):
                raise
            self._failed(name, exc)
            return None
        self._succeeded(name)
        return result

    def _failed(self, name: str, exc: BaseException) -> None:
        with self._lock:
            now = self.clock()
            self.failures += 1
            if self.down_since is None:
                self.down_since = now
                self.delay = self.first
                log.warning(
                    "database unreachable (%s job): %s; jobs try again with backoff (%d s doubling to %d s)",
                    name,
                    _first_line(exc),
                    self.first,
                    self.most,
                )
            else:
                self.delay = min(self.delay * 2, self.most)
                log.debug("database still unreachable (%s job): %s", name, _first_line(exc))
            self.next_try = now + self.delay

    def _succeeded(self, name: str) -> None:
        with self._lock:
            if self.down_since is None:
                return
            log.warning(
                "database reachable again (%s job) after %d failed attempt(s) over %d s",
                name,
                self.failures,
                self.clock() - self.down_since,
            )
            self.down_since = None
            self.failures = 0
            self.delay = self.first


class _Jobs:
    """Wraps every job: skipped once stopping, guarded by the database watch, counted while running."""

    def __init__(self, rt: Runtime, watch: DatabaseWatch) -> None:
        self.rt = rt
        self.watch = watch
        self.running = 0
        self._idle = threading.Condition()

    def wrap(self, name: str, job: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            if self.rt.stopping.is_set():
                return None
            with self._idle:
                self.running += 1
            try:
                return self.watch.run(name, job, *args, **kwargs)
            finally:
                with self._idle:
                    self.running -= 1
                    self._idle.notify_all()

        run.__name__ = run.__qualname__ = getattr(job, "__name__", name)
        return run

    def wait_idle(self, seconds: float) -> bool:
        """Wait until no job runs, for at most ``seconds``; true if none is left."""
        deadline = time.monotonic() + seconds
        with self._idle:
            while self.running:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True


def _interval(rt: Runtime, key: str, default: timedelta) -> timedelta:
    """The shortest interval any connection asks for (each connection's lock keeps it safe)."""
    with rt.sessions() as session:
        seconds = [(c.settings or {}).get("schedule_seconds", {}).get(key) for c in session.scalars(select(Connection))]
    values = [s for s in seconds if s]
    return timedelta(seconds=min(values)) if values else default


def build_scheduler(rt: Runtime, *, watch: DatabaseWatch | None = None, **scheduler_options: Any) -> BlockingScheduler:
    jobs = _Jobs(rt, watch or DatabaseWatch())
    scheduler = BlockingScheduler(**scheduler_options)
    scheduler._connector_jobs = jobs  # type: ignore[attr-defined]  # run_daemon waits on it
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}
    scheduler.add_job(
        jobs.wrap("sync", sync_all),
        "interval",
        args=[rt],
        id="sync",
        next_run_time=_now(),
        seconds=_interval(rt, "import_every", timedelta(minutes=15)).total_seconds(),
        **common,
    )
    scheduler.add_job(
        jobs.wrap("push", push_all),
        "interval",
        args=[rt],
        id="push",
        seconds=_interval(rt, "push_every", timedelta(minutes=1)).total_seconds(),
        **common,
    )
    scheduler.add_job(  # the syncs ledger webhooks asked for, once their debounce interval has passed
        jobs.wrap("hinted_syncs", hinted_syncs),
        "interval",
        args=[rt],
        id="hinted_syncs",
        seconds=max(1.0, min(10.0, rt.config.webhooks.debounce.total_seconds() / 3)),
        **common,
    )
    scheduler.add_job(  # notices to customers and support: in their own job, so mail never holds up a sync
        jobs.wrap("notices", notices),
        "interval",
        args=[rt],
        id="notices",
        minutes=1,
        **common,
    )
    scheduler.add_job(  # checks every 15 minutes which connections' reconcile_every has passed
        jobs.wrap("reconcile", reconcile_due),
        "interval",
        args=[rt],
        id="reconcile",
        minutes=15,
        **common,
    )
    scheduler.add_job(
        jobs.wrap("overdue_sweep", overdue_sweep),
        "interval",
        args=[rt],
        id="overdue_sweep",
        next_run_time=_now(),
        hours=1,
        **common,
    )
    return scheduler


def _now() -> datetime:
    return datetime.now().astimezone()


def run_daemon(
    rt: Runtime,
    stop: threading.Event | None = None,
    *,
    stop_grace: float = DEFAULT_STOP_GRACE,
    watch: DatabaseWatch | None = None,
) -> bool:
    """Run until SIGTERM/SIGINT (or ``stop`` is set); true if every job had finished when it returned.

    A stop request lets the jobs in flight finish their current page or push batch, for at most
    ``stop_grace`` seconds; a job still running after that is left behind (false).
    """
    scheduler = build_scheduler(rt, watch=watch)
    jobs: _Jobs = scheduler._connector_jobs  # type: ignore[attr-defined]
    asked = threading.Event()

    def request_stop(why: str) -> None:
        if asked.is_set():
            return
        asked.set()
        log.info("%s: stopping; jobs in flight finish their current page or batch (at most %d s)", why, stop_grace)
        rt.stopping.set()
        with contextlib.suppress(SchedulerNotRunningError):  # not started yet: start() is skipped below
            scheduler.shutdown(wait=False)

    def stop_when_set(event: threading.Event) -> None:
        event.wait()
        while not scheduler.running and not started.is_set():
            time.sleep(0.01)  # a stop before start() must reach the running scheduler
        request_stop("stop requested")

    started = threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, _frame: request_stop(signal.Signals(signum).name))
        signal.signal(signal.SIGINT, lambda signum, _frame: request_stop(signal.Signals(signum).name))
    if stop is not None:
        threading.Thread(target=stop_when_set, args=(stop,), name="daemon-stop", daemon=True).start()
    log.info("daemon started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    if not asked.is_set():
        scheduler.start()  # returns once shut down
    started.set()
    clean = jobs.wait_idle(stop_grace)
    if clean:
        log.info("daemon stopped: no job left running")
    else:
        log.warning(
            "daemon stopping with %d job(s) still running after %d s: their connections are taken over at "
            "the next start, their outbox entries after the sending lease",
            jobs.running,
            stop_grace,
        )
    return clean
