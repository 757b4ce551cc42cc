"""Support's read-only views: status, an invoice's timeline, what needs attention."""

from __future__ import annotations

import json

import typer

from connector import reports
from connector.actions import lookup
from connector.cli.common import ConnectionOption, InvoiceArg, JsonOption, acting
from connector.config import safe_url
from connector.engine.budget import budgets
from connector.render import console, print_status, print_timeline


def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Which database, invoices per status per connection, what needs attention, and each
    connection's API calls in the last 24 hours against its daily allowance."""
    with acting(ctx) as rt, rt.sessions() as session:
        report = reports.status_report(session)
        report["api_budget"] = [
            {"connection": b.connection, "provider": b.provider, "calls_24h": b.used, "daily_limit": b.limit}
            for b in budgets(session)
        ]
        database = safe_url(rt.config.database_url)
    if as_json:
        typer.echo(json.dumps({"database": database, **report}, indent=2))
        return
    console.print(f"database: {database}", highlight=False, markup=False, soft_wrap=True)
    print_status(report)


def activity(ctx: typer.Context, invoice: InvoiceArg, connection: ConnectionOption = None, as_json: JsonOption = False):
    """The timeline of one invoice: every status change and why."""
    with acting(ctx) as rt, rt.sessions() as session:
        data = reports.timeline(session, lookup.invoice(session, invoice, connection))
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    print_timeline(data)
