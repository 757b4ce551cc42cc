"""The Celery tasks: each a thin, idempotent call into one action.

| task | action | queue |
|---|---|---|
| ``connector.import`` | ``run_sync(connection=…)``: import, then push | sync |
| ``connector.targeted_sync`` | the same, asked for by a ledger webhook | sync |
| ``connector.push`` | ``run_sync(connection=…, do_import=False)`` | push |
| ``connector.reconcile`` | ``run_reconcile(connection=…)`` | reconcile |
| ``connector.notify`` | notices ``collect`` + ``send_due`` | notify |
| ``connector.overdue_sweep`` | ``sweep_overdue`` | notify |

**Idempotent, so redelivery is safe.** A message is acknowledged only after its task ends (late
ack), so a worker killed mid-task means the task runs again elsewhere. That is harmless by
construction: the sync takes the connection's lease first (the dead worker's lease is taken over at
once on its own host, after ``STALE_AFTER`` from another), imports from the stored cursor (pages
are upserts keyed by ledger id), and pushes only outbox entries it claims with a conditional
update, each write carrying its idempotency key and ``cx:`` marker. Reconciliation only reads the
ledger and upserts findings. Notices are keyed by the fact they are about, and run one at a time in
the cluster (a single-flight lease).

**Busy connection.** A scheduled import or push that finds the connection's lease held skips: the
holder is doing that very work, and the next round comes anyway. A *targeted* sync that finds it
busy tries again 30 s later (at most 6 times, past the 2-minute lease expiry), because the hint it
carries may be about a change the running sync already read past.

**Transient trouble** (the database or Redis unreachable) makes the task retry with exponential
backoff and jitter (5 s doubling, at most 5 min, 8 tries); ledger errors are not retried here, the
adapters already did, and the run records them.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

import redis
from celery import Celery, Task
from sqlalchemy.exc import InterfaceError, OperationalError

from connector import logs
from connector.actions.errors import NotFound
from connector.actions.notices import collect, send_due
from connector.actions.reconcile import run_reconcile
from connector.actions.sweeps import sweep_overdue
from connector.actions.sync import run_sync
from connector.config import Config
from connector.engine import state
from connector.engine.ledgers import shared_factory
from connector.runtime import Runtime
from connector.store.db import make_engine, make_sessionmaker
from connector.sync.runner import SyncResult

log = logging.getLogger("connector.engine")

#: Errors after which the same task, run again a little later, may well succeed.
TRANSIENT = (OperationalError, InterfaceError, redis.ConnectionError, redis.TimeoutError)
#: How many times a targeted sync that found its connection busy tries again, and how long it waits.
BUSY_RETRIES = 6
BUSY_COUNTDOWN = 30

_config: Config | None = None
_runtime: tuple[int, Runtime] | None = None
_runtime_lock = threading.Lock()


def runtime() -> Runtime:
    """This worker process's runtime, opened on first use (a prefork child never shares its parent's pool).

    The schema was migrated and the configured connections registered when the worker started
    (``connector worker`` opens the runtime first), so a child only connects.
    """
    global _runtime
    if _config is None:
        raise RuntimeError("the connector's tasks were not registered with a config (connector.engine.tasks.register)")
    with _runtime_lock:
        if _runtime is None or _runtime[0] != os.getpid():
            engine = make_engine(_config.database_url)
            _runtime = (os.getpid(), Runtime(_config, engine, make_sessionmaker(engine)))
        return _runtime[1]


def _summary(result: SyncResult) -> dict[str, Any]:
    return {
        "connection": result.connection,
        "state": result.state,
        "run": result.run_id,
        "api_calls": result.api_calls,
        "error": result.error,
    }


def _sync(task: Task, job: str, connection: str, *, do_import: bool = True) -> dict[str, Any]:
    rt = runtime()
    url = rt.config.engine.redis_url
    with logs.context(connection=connection, task=task.request.id, job=job):
        if job == "targeted_sync":  # a hint arriving during this run must queue another sync
            state.clear_queued(url, job, connection)
        try:
            results = run_sync(rt, connection=connection, make_ledger=shared_factory(), do_import=do_import)
        except NotFound:
            log.warning("%s %s: no such connection (removed from the config?)", job, connection)
            state.clear_queued(url, job, connection)
            return {"connection": connection, "state": "skipped", "error": "no such connection"}
        except TRANSIENT:
            raise  # retried with backoff; the queued mark stays, so the scheduler does not add another
        except BaseException:
            state.clear_queued(url, job, connection)
            raise
        result = results[0]
        logs.bind(run=result.run_id)
        log.info("%s %s: %s%s", job, connection, result.state, f" ({result.error})" if result.error else "")
        busy = result.state == "skipped" and (result.error or "").startswith("being synced by")
        if busy and job == "targeted_sync" and task.request.retries < BUSY_RETRIES:
            raise task.retry(countdown=BUSY_COUNTDOWN, max_retries=BUSY_RETRIES)
        state.clear_queued(url, job, connection)
        return _summary(result)


def import_task(self: Task, connection: str) -> dict[str, Any]:
    """Import then push one connection (the scheduled sync)."""
    return _sync(self, "import", connection)


def targeted_sync(self: Task, connection: str) -> dict[str, Any]:
    """A sync a ledger webhook asked for (the scheduler takes due hints and queues these)."""
    return _sync(self, "targeted_sync", connection)


def push_task(self: Task, connection: str) -> dict[str, Any]:
    """Send one connection's waiting ledger writes, without importing."""
    return _sync(self, "push", connection, do_import=False)


def reconcile_task(self: Task, connection: str) -> dict[str, Any]:
    """Reconcile one connection (it takes the connection's lease too: never beside a sync)."""
    rt = runtime()
    url = rt.config.engine.redis_url
    with logs.context(connection=connection, task=self.request.id, job="reconcile"):
        try:
            results = run_reconcile(rt, connection=connection, make_ledger=shared_factory())
        except NotFound:
            state.clear_queued(url, "reconcile", connection)
            return {"connection": connection, "state": "skipped", "error": "no such connection"}
        except TRANSIENT:
            raise
        except BaseException:
            state.clear_queued(url, "reconcile", connection)
            raise
        result = results[0]
        logs.bind(run=getattr(result, "run_id", None))
        log.info("reconcile %s: %s", connection, result.summary())
        state.clear_queued(url, "reconcile", connection)
        return {"connection": connection, "state": result.state, "error": result.error}


def notify(self: Task) -> dict[str, Any]:
    """Store what is worth telling and mail what is due; one runner in the whole cluster at a time."""
    rt = runtime()
    url = rt.config.engine.redis_url
    with logs.context(task=self.request.id, job="notify"):
        try:
            with state.SingleFlight(url, "notify", seconds=600) as mine:
                if not mine:
                    log.info("notices: another worker is sending them; skipped")
                    return {"state": "skipped"}
                stored = collect(rt)
                counts = send_due(rt)
        finally:
            state.clear_queued(url, "notify", "-")
        if stored or counts.sent or counts.failed:
            log.info("notices: %d stored, %d sent, %d failed", stored, counts.sent, counts.failed)
        return {"state": "succeeded", "stored": stored, "sent": counts.sent, "failed": counts.failed}


def overdue_sweep(self: Task) -> dict[str, Any]:
    """Move outstanding requests past their due date (in each organisation's own date) to overdue."""
    rt = runtime()
    with logs.context(task=self.request.id, job="overdue_sweep"):
        try:
            moved = sweep_overdue(rt)
        finally:
            state.clear_queued(rt.config.engine.redis_url, "overdue_sweep", "-")
        return {"state": "succeeded", "moved": moved}


TASKS = {
    "connector.import": import_task,
    "connector.targeted_sync": targeted_sync,
    "connector.push": push_task,
    "connector.reconcile": reconcile_task,
    "connector.notify": notify,
    "connector.overdue_sweep": overdue_sweep,
}


def register(app: Celery, config: Config) -> None:
    """Attach the tasks to ``app``; workers run them with ``config``."""
    global _config
    _config = config
    for name, fn in TASKS.items():
        app.task(
            name=name,
            bind=True,
            acks_late=True,
            reject_on_worker_lost=True,
            autoretry_for=TRANSIENT,
            retry_backoff=5,
            retry_backoff_max=300,
            retry_jitter=True,
            max_retries=8,
        )(fn)
