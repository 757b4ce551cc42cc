"""``connector daemon``: every job on its interval, in one process, stopping cleanly on SIGTERM.

APScheduler runs each job with ``max_instances=1`` and ``coalesce=True``, so a slow sync is
never overlapped by the next one of the same job; across processes the database lock keeps
two daemons off one connection.
"""

from __future__ import annotations

import logging
import signal
import threading
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from sqlalchemy import select

from connector.runtime import Runtime
from connector.store.models import Connection
from jobs.tasks import overdue_sweep, push_all, sync_all

log = logging.getLogger("connector.daemon")


def _interval(rt: Runtime, key: str, default: timedelta) -> timedelta:
    """The shortest interval any connection asks for (each connection's lock keeps it safe)."""
    with rt.sessions() as session:
        seconds = [(c.settings or {}).get("schedule_seconds", {}).get(key) for c in session.scalars(select(Connection))]
    values = [s for s in seconds if s]
    return timedelta(seconds=min(values)) if values else default


def build_scheduler(rt: Runtime, **scheduler_options: Any) -> BlockingScheduler:
    scheduler = BlockingScheduler(**scheduler_options)
    common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 300}
    scheduler.add_job(
        sync_all,
        "interval",
        args=[rt],
        id="sync",
        next_run_time=_now(),
        seconds=_interval(rt, "import_every", timedelta(minutes=15)).total_seconds(),
        **common,
    )
    scheduler.add_job(
        push_all,
        "interval",
        args=[rt],
        id="push",
        seconds=_interval(rt, "push_every", timedelta(minutes=1)).total_seconds(),
        **common,
    )
    scheduler.add_job(overdue_sweep, "interval", args=[rt], id="overdue_sweep", next_run_time=_now(), hours=1, **common)
    return scheduler


def _now() -> Any:
    from datetime import datetime

    return datetime.now().astimezone()


def run_daemon(rt: Runtime, stop: threading.Event | None = None) -> None:
    """Run until SIGTERM/SIGINT (or ``stop`` is set); jobs in flight finish before it returns."""
    scheduler = build_scheduler(rt)

    def shutdown(signum: int, _frame: object) -> None:
        log.info("signal %s: finishing running jobs, then stopping", signum)
        scheduler.shutdown(wait=True)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, shutdown)
        signal.signal(signal.SIGINT, shutdown)
    if stop is not None:
        threading.Thread(target=lambda: (stop.wait(), scheduler.shutdown(wait=True)), daemon=True).start()
    log.info("daemon started: %s", ", ".join(job.id for job in scheduler.get_jobs()))
    scheduler.start()
