"""The connector command: set-up, support views, a person's changes, platform events and sync.

A thin shell over :mod:`connector.actions`: each command parses its options, calls one action
and prints the result through :mod:`connector.render`. Errors a person can fix (a bad config
line, an unknown invoice, a change the status table does not allow) print one line and exit
with code 2, having changed nothing.
"""

from __future__ import annotations

import typer

from connector.cli import connect, engine, invoice, platform, queues, reconcile, sync, views, web
from connector.cli.common import ConfigOption

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.splitlines()[0])
app.add_typer(invoice.app, name="invoice")
app.add_typer(platform.app, name="platform")
app.add_typer(queues.outbox_app, name="outbox")
app.add_typer(queues.quarantine_app, name="quarantine")
app.add_typer(reconcile.findings_app, name="findings")
app.add_typer(web.user_app, name="user")
app.command("init-db")(sync.init_db)
app.command()(views.status)
app.command()(views.activity)
app.command()(sync.sync)
app.command()(reconcile.reconcile)
app.command()(sync.daemon)
app.command()(web.web)
app.command()(connect.connect)
app.command()(engine.worker)
app.command()(engine.scheduler)


@app.callback()
def _root(ctx: typer.Context, config: ConfigOption = None) -> None:
    ctx.obj = {"config": config}


def main() -> None:
    """The installed command: a config, database or key problem is one line and exit code 2."""
    from connector.cli.common import run_cli

    run_cli(app)


def _register_demo_and_sandboxes() -> None:
    """The demo and the local ledgers: shells of their own, registered here as subcommands."""
    from connector import demo
    from connector.sandbox.quickbooks.cli import serve as serve_quickbooks
    from connector.sandbox.xero.cli import serve as serve_xero

    app.command("demo")(demo.demo)
    sandbox_app = typer.Typer(no_args_is_help=True, help="Local ledger servers for demos and tests.")
    sandbox_app.command("xero", help="A local Xero (identity + Accounting API).")(serve_xero)
    sandbox_app.command("quickbooks", help="A local QuickBooks Online (OAuth + API v3).")(serve_quickbooks)
    app.add_typer(sandbox_app, name="sandbox")


_register_demo_and_sandboxes()
