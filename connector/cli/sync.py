"""``connector init-db``, ``sync`` and ``daemon``."""

from __future__ import annotations

import json
import os
import signal
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Annotated, Any

import typer

from connector.actions.sync import run_sync
from connector.cli.common import JsonOption, acting, one_line, open_rt
from connector.config import ConfigError
from connector.render import console, err_console, fail, print_sync_summary, sync_result_dict, with_progress
from connector.runtime import Runtime


def init_db(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the latest revision."""
    from connector.config import load_config
    from connector.store.db import make_engine
    from connector.store.migrate import current_revision, upgrade

    try:
        config = load_config(ctx.obj.get("config"))
    except ConfigError as exc:
        raise fail(str(exc)) from None
    engine = make_engine(config.database_url)
    before = upgrade(engine)  # under the migration lock: another process migrating is waited for
    after = current_revision(engine)
    engine.dispose()
    console.print(f"database at revision {after}" + (f" (was {before})" if before != after else " (up to date)"))


#: Exit codes of ``connector sync``: something failed or was interrupted; nothing was synced (all skipped).
EXIT_FAILED = 1
EXIT_NOTHING_SYNCED = 3


def sync(
    ctx: typer.Context,
    connection: Annotated[str | None, typer.Option("--connection", help="only this connection")] = None,
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit (the default)")] = True,
    as_json: JsonOption = False,
) -> None:
    """Import from each ledger, then push payments and payouts back: once, with a summary.

    Exit code 0 when every connection synced or some were skipped (disabled, paused, busy) while
    others synced; 1 when one failed or was interrupted; 3 when every one was skipped. SIGTERM stops
    it after the current page or push batch.
    """
    with acting(ctx) as rt, _stop_on_sigterm(rt):
        results = with_progress(lambda **kw: run_sync(rt, connection=connection, **kw), quiet=as_json)
    if as_json:
        typer.echo(json.dumps([sync_result_dict(r) for r in results], indent=2))
    else:
        print_sync_summary(results)
    code = sync_exit_code(results)
    if code == EXIT_NOTHING_SYNCED:
        err_console.print("nothing was synced: every connection was skipped (see above)", highlight=False)
    if code:
        raise typer.Exit(code)


def sync_exit_code(results: Sequence[Any]) -> int:
    """1 if a connection failed or was interrupted; 3 if every requested connection was skipped."""
    if any(r.state in ("failed", "interrupted") for r in results):
        return EXIT_FAILED
    if results and all(r.state == "skipped" for r in results):
        return EXIT_NOTHING_SYNCED
    return 0


@contextmanager
def _stop_on_sigterm(rt: Runtime) -> Iterator[None]:
    """SIGTERM asks the sync to stop after its current page or batch (the main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, lambda _signum, _frame: rt.stopping.set())
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def daemon(
    ctx: typer.Context,
    stop_grace: Annotated[
        int | None,
        typer.Option(
            "--stop-grace",
            min=1,
            help="seconds SIGTERM waits for the jobs' current page or batch before exiting anyway (default 30)",
        ),
    ] = None,
) -> None:
    """Run every job on its schedule until stopped (SIGTERM or Ctrl-C stop it cleanly)."""
    import logging

    from connector import logs
    from jobs.daemon import run_daemon

    rt = open_rt(ctx)
    logs.configure(rt.config)
    if rt.config.engine.kind == "celery":
        rt.close()
        raise one_line(
            '[engine] kind = "celery": the jobs run on Celery workers; start `connector worker` and '
            "`connector scheduler` instead of the embedded daemon (docs/deploy.md)"
        )
    try:
        clean = run_daemon(rt, **({"stop_grace": stop_grace} if stop_grace else {}))
    finally:
        rt.close()
    if not clean:
        # Jobs still in flight past the grace: leave now. Their locks are taken over at the next start
        # (this pid is gone) and their outbox entries after the sending lease; nothing is lost or doubled.
        logging.shutdown()
        os._exit(EXIT_FAILED)
