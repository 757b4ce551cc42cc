"""``connector init-db``, ``sync`` and ``daemon``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from connector.actions.sync import run_sync
from connector.cli.common import JsonOption, acting, open_rt
from connector.config import ConfigError
from connector.render import console, fail, print_sync_summary, sync_result_dict, with_progress


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
    before = current_revision(engine)
    upgrade(engine)
    after = current_revision(engine)
    engine.dispose()
    console.print(f"database at revision {after}" + (f" (was {before})" if before != after else " (up to date)"))


def sync(
    ctx: typer.Context,
    connection: Annotated[str | None, typer.Option("--connection", help="only this connection")] = None,
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit (the default)")] = True,
    as_json: JsonOption = False,
) -> None:
    """Import from each ledger, then push payments and payouts back: once, with a summary."""
    with acting(ctx) as rt:
        results = with_progress(lambda **kw: run_sync(rt, connection=connection, **kw), quiet=as_json)
    if as_json:
        typer.echo(json.dumps([sync_result_dict(r) for r in results], indent=2))
    else:
        print_sync_summary(results)
    if any(r.state == "failed" for r in results):
        raise typer.Exit(1)


def daemon(ctx: typer.Context) -> None:
    """Run every job on its schedule until stopped (SIGTERM or Ctrl-C stop it cleanly)."""
    import logging

    from jobs.daemon import run_daemon

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rt = open_rt(ctx)
    try:
        run_daemon(rt)
    finally:
        rt.close()
