"""What every command group shares: the options, opening the runtime, the acting person."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from connector.actions import Actor
from connector.config import ConfigError
from connector.render import action_errors, fail
from connector.runtime import Runtime, open_runtime

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config file (default: $CONNECTOR_CONFIG or ./connector.toml)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
ConnectionOption = Annotated[str | None, typer.Option("--connection", help="connection name, when numbers clash")]
InvoiceArg = Annotated[str, typer.Argument(help="invoice number, ledger id or #id")]
InvoicesArg = Annotated[list[str], typer.Argument(help="invoice numbers, ledger ids or #ids")]
DateOption = Annotated[str | None, typer.Option("--date", help="when it happened (YYYY-MM-DD; default today)")]
ReasonOption = Annotated[str, typer.Option("--reason", help="why: kept in the activity log")]
AsOption = Annotated[
    str | None, typer.Option("--as", help="who is acting, for the timeline (default: your login name)")
]


def open_rt(ctx: typer.Context) -> Runtime:
    """The runtime for this command; a bad config is one line and exit code 2."""
    try:
        return open_runtime(ctx.obj.get("config") if ctx.obj else None)
    except ConfigError as exc:
        raise fail(str(exc)) from None


@contextmanager
def acting(ctx: typer.Context) -> Iterator[Runtime]:
    """The runtime for one command, with an action's typed error shown as one line (exit code 2)."""
    rt = open_rt(ctx)
    try:
        with action_errors():
            yield rt
    finally:
        rt.close()


def person(name: str | None) -> Actor:
    """Who acts from this terminal: ``--as NAME``, or the login name."""
    return Actor.person(name) if name else Actor.terminal_user()
