"""``connector worker`` and ``connector scheduler``: the Celery engine's two processes.

Both need ``[engine] kind = "celery"`` with a ``broker_url`` (RabbitMQ) and a ``redis_url`` (the
shared limits, the scheduler's lease). Before anything starts, each checks that the broker and
Redis answer: a bad URL or one that does not answer is one line naming it (password hidden) and
exit code 2, like every other setup problem of the CLI.

Also runnable on its own, ``python -m connector.cli.engine [--config FILE] worker|scheduler``.
"""

from __future__ import annotations

import os
import signal
import threading
from typing import Annotated

import typer

from connector import logs
from connector.cli.common import ConfigOption, one_line, open_rt
from connector.config import Config
from connector.engine.celery_app import QUEUES, make_app, queue_name, safe_broker_url
from connector.runtime import Runtime

CONNECT_TIMEOUT = 5.0


def broker_problem(config: Config) -> str | None:
    """Why the broker cannot be used (one line, password hidden), or None when it answers."""
    url = config.engine.broker_url
    app = make_app(config)
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=CONNECT_TIMEOUT)
    except Exception as exc:  # a bad URL raises anything from ValueError to socket errors: all are one line here
        return f"[engine] broker_url {safe_broker_url(url)}: cannot reach the broker: {_first_line(exc)}"
    return None


def redis_problem(config: Config) -> str | None:
    """Why the limits' Redis cannot be used, or None when it answers."""
    from connector.ledgers.shared_limits import ping

    url = config.engine.redis_url
    try:
        ping(url)
    except Exception as exc:
        return f"[engine] redis_url {safe_broker_url(url)}: cannot reach Redis: {_first_line(exc)}"
    return None


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}"[:300] if text else type(exc).__name__


def _celery_runtime(ctx: typer.Context) -> Runtime:
    """The runtime (config checked, schema migrated, connections registered), refusing anything but celery."""
    rt = open_rt(ctx)
    logs.configure(rt.config)
    engine = rt.config.engine
    if engine.kind != "celery":
        rt.close()
        raise one_line(
            f'[engine] kind is "{engine.kind}" in {rt.config.source}: workers and the scheduler need kind = "celery" '
            "with broker_url and redis_url (one machine: `connector daemon` instead)"
        )
    for problem in (broker_problem(rt.config), redis_problem(rt.config)):
        if problem:
            rt.close()
            raise one_line(problem)
    return rt


def worker(
    ctx: typer.Context,
    concurrency: Annotated[
        int | None,
        typer.Option(
            "--concurrency", "-n", min=1, max=256, help="tasks at once in this worker (default: [engine] concurrency)"
        ),
    ] = None,
    queues: Annotated[
        str | None,
        typer.Option("--queues", "-Q", help=f"comma-separated, of: {', '.join(QUEUES)} (default: all)"),
    ] = None,
    pool: Annotated[str, typer.Option("--pool", help="Celery pool: prefork (enforces the time limit) or threads")] = (
        "prefork"
    ),
) -> None:
    """Run a Celery worker: syncs, pushes, reconciliations and notices from the queues."""
    wanted = [q.strip() for q in (queues or ",".join(QUEUES)).split(",") if q.strip()]
    unknown = sorted(set(wanted) - set(QUEUES))
    if unknown:
        raise one_line(f"--queues: no queue named {', '.join(unknown)}; the queues are {', '.join(QUEUES)}")
    if pool not in ("prefork", "threads", "solo"):
        raise one_line(f"--pool: expected prefork, threads or solo, got {pool!r}")
    rt = _celery_runtime(ctx)
    config = rt.config
    rt.close()  # each worker process opens its own pool of database connections (a fork never shares one)
    app = make_app(config)
    argv = [
        "worker",
        f"--concurrency={concurrency or config.engine.concurrency}",
        f"--queues={','.join(queue_name(q) for q in wanted)}",
        f"--pool={pool}",
        f"--loglevel={config.logging.level}",
        f"--hostname=connector-{os.getpid()}@%h",  # unique per worker, several may share a machine
        "--without-mingle",
        "--without-gossip",
    ]
    app.worker_main(argv)


def scheduler(
    ctx: typer.Context,
    tick: Annotated[float, typer.Option("--tick", min=0.2, help="seconds between two looks at what is due")] = 5.0,
    lease: Annotated[
        float, typer.Option("--lease", min=1.0, help="seconds the leader's lease lasts without renewal")
    ] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="queue what is due now (as leader), then exit")] = False,
) -> None:
    """Queue the periodic jobs and the webhook-hinted syncs; only one scheduler leads at a time."""
    from connector.engine.scheduler import Scheduler

    if lease < 3 * tick:
        raise one_line(
            f"--lease ({lease:g} s) must be at least three ticks ({3 * tick:g} s): the leader renews every tick"
        )
    rt = _celery_runtime(ctx)
    stop = threading.Event()
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda _signum, _frame: stop.set())
    try:
        Scheduler(rt, make_app(rt.config), tick=tick, lease=lease).run(stop, once=once)
    finally:
        rt.close()


app = typer.Typer(no_args_is_help=True, add_completion=False, help="The Celery engine's processes.")
app.command()(worker)
app.command()(scheduler)


@app.callback()
def _root(ctx: typer.Context, config: ConfigOption = None) -> None:
    ctx.obj = {"config": config}


if __name__ == "__main__":
    from connector.cli.common import run_cli

    run_cli(app)
