"""``connector reconcile``: ledger against platform, every difference, as a table, JSON or CSV.

Exit code 0 when everything agrees, 1 when a difference was found or a reconcile failed
(as ``diff`` does), 2 for a mistake in the command, 3 when every connection was busy (skipped).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Annotated

import typer

from connector import reports
from connector.actions.reconcile import ReconcileResult, repost_payment, run_reconcile
from connector.cli.common import AsOption, JsonOption, acting, person
from connector.render import fail, finding_rows, print_outcome, print_reconciliation, print_rows

COLUMNS = ("connection", "kind", "subject", "amount", "ledger", "platform", "explanation", "fix")


def reconcile(
    ctx: typer.Context,
    connection: Annotated[str | None, typer.Option("--connection", help="only this connection")] = None,
    as_json: JsonOption = False,
    csv_file: Annotated[Path | None, typer.Option("--csv", help="write the findings to this CSV file")] = None,
) -> None:
    """Compare ledger and platform: invoices, payments once each, payouts, and the clearing balance."""
    with acting(ctx) as rt:
        results = run_reconcile(rt, connection=connection)
    rows = [row for r in results for row in finding_rows(r)]
    if csv_file is not None:
        with csv_file.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
    if as_json:
        typer.echo(json.dumps([result_dict(r) for r in results], indent=2, default=str))
    else:
        print_reconciliation(results)
    if any(r.findings or r.state == "failed" for r in results):
        raise typer.Exit(1)
    if results and all(r.state == "skipped" for r in results):
        raise typer.Exit(3)  # nothing was reconciled: every connection was busy (as `connector sync`)


def result_dict(r: ReconcileResult) -> dict[str, object]:
    return {
        "connection": r.connection,
        "state": r.state,
        "error": r.error,
        "findings": finding_rows(r),
        "by_kind": r.by_kind(),
        "new": r.new,
        "resolved": r.resolved,
        "api_calls": r.api_calls,
        "clearing_balance": r.clearing_balance,
        "in_transit": r.in_transit,
        "clearing_opening": r.clearing_opening,
        "run_id": r.run_id,
    }


findings_app = typer.Typer(no_args_is_help=True, help="Reconciliation findings: list the open ones, fix ours.")


@findings_app.command("list")
def list_findings(
    ctx: typer.Context,
    connection: Annotated[str | None, typer.Option("--connection", help="only this connection")] = None,
    as_json: JsonOption = False,
) -> None:
    """Open findings with their ids, first and last seen, and the fix each suggests."""
    with acting(ctx) as rt, rt.sessions() as session:
        rows = reports.open_findings(session, connection)
    print_rows(
        rows,
        ("id", "connection", "kind", "amount", "first_seen", "last_seen", "explanation"),
        as_json,
        "Open reconciliation findings",
    )


@findings_app.command("repost")
def repost(
    ctx: typer.Context,
    finding: Annotated[int, typer.Argument(help="a payment_missing finding's id (see `connector findings list`)")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    actor: AsOption = None,
) -> None:
    """Queue again a payment the ledger lost; the next sync posts it, the next reconcile resolves the finding."""
    if not yes and not typer.confirm(f"This will post finding {finding}'s payment to the ledger again. Are you sure?"):
        raise fail("not confirmed; nothing changed")
    with acting(ctx) as rt:
        print_outcome(repost_payment(rt, finding, actor=person(actor)))
