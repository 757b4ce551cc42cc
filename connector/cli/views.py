"""Support's read-only views: status, an invoice's timeline, what needs attention."""

from __future__ import annotations

import json

import typer

from connector import reports
from connector.actions import lookup
from connector.cli.common import ConnectionOption, InvoiceArg, JsonOption, open_rt
from connector.render import action_errors, print_status, print_timeline


def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Invoices per status per connection, and what needs attention."""
    rt = open_rt(ctx)
    try:
        with rt.transaction() as session:
            report = reports.status_report(session)
    finally:
        rt.close()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    print_status(report)


def activity(ctx: typer.Context, invoice: InvoiceArg, connection: ConnectionOption = None, as_json: JsonOption = False):
    """The timeline of one invoice: every status change and why."""
    rt = open_rt(ctx)
    try:
        with action_errors(), rt.transaction() as session:
            data = reports.timeline(session, lookup.invoice(session, invoice, connection))
    finally:
        rt.close()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    print_timeline(data)
