"""Terminal rendering shared by the CLI and the demo: status tables, timelines, sync summaries.

It only prints what actions and reports return; it decides nothing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from connector.actions import ActionError, InvoiceOutcome, PayoutOutcome
from connector.actions.reconcile import ReconcileResult
from connector.domain.money import format_amount

#: Piped output (CI logs, support tickets) gets a wide table instead of Rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)


def fail(message: str) -> typer.Exit:
    """One line for the person, exit code 2: they can put it right, and nothing changed."""
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


#: An action's field, as the CLI option a person typed (the payout's ``net`` is ``--amount``).
CLI_OPTIONS = {
    "date": "--date",
    "amount": "--amount",
    "fee": "--fee",
    "net": "--amount",
    "reason": "--reason",
    "note": "--note",
    "collect_on": "--collect-on",
}


@contextmanager
def action_errors() -> Any:
    """Turn an action's typed error into the one-line message and exit code 2, naming the option."""
    try:
        yield
    except ActionError as exc:
        message = exc.message
        option = CLI_OPTIONS.get(exc.field or "")
        if option and message.startswith(f"{exc.field}"):
            message = option + message[len(exc.field or "") :]
        raise fail(message) from None


def print_status(report: dict[str, Any]) -> None:
    table = Table(title="Invoices by status")
    table.add_column("connection")
    for s in report["statuses"]:
        table.add_column(s, justify="right")
    table.add_column("total", justify="right", style="bold")
    for conn, by in report["counts"].items():
        table.add_row(conn, *(str(by[s]) if by[s] else "·" for s in report["statuses"]), str(sum(by.values())))
    console.print(table)
    attention = {k: v for k, v in report["needs_attention"].items() if v}
    if not attention:
        console.print("Nothing needs attention.")
    else:
        console.print(
            "[bold yellow]Needs attention:[/] " + ", ".join(f"{k.replace('_', ' ')}: {v}" for k, v in attention.items())
        )
    for item in report.get("attention_items", []):
        refund = f" refund due {item['refund_due']} {item['currency']};" if item.get("refund_due") else ""
        line = f"  {item['number']} (#{item['id']}, {item['status']}):{refund} {item['reason']}"
        console.print(line, highlight=False)
    for c in report["connections"]:
        if c.get("last_reconcile"):
            rec = c["last_reconcile"]
            console.print(
                f"{c['name']}: last reconciled {rec['at']}: {rec.get('summary', rec['state'])}", highlight=False
            )
        if c["state"] != "active":
            console.print(f"[bold yellow]connection {c['name']}:[/] {c['state']} {c['reason'] or ''}")
    print_api_budget(report.get("api_budget", []))


def print_api_budget(rows: list[dict[str, Any]]) -> None:
    """API calls per connection in the last 24 hours against the ledger's daily allowance (Xero: 5,000)."""
    if not rows:
        return
    parts = []
    for row in rows:
        used, limit = row["calls_24h"], row["daily_limit"]
        if limit:
            share = used / limit
            text = f"{row['connection']} {used:,}/{limit:,} ({share:.0%})"
            parts.append(f"[bold yellow]{text}[/]" if share >= 0.8 else text)
        else:
            parts.append(f"{row['connection']} {used:,} (no daily cap)")
    console.print("API calls, last 24 h: " + ", ".join(parts), highlight=False)


def print_timeline(data: dict[str, Any]) -> None:
    inv = data["invoice"]
    console.print(
        f"[bold]{inv['number']}[/] (#{inv['id']}, {inv['connection']}) {inv['contact']}: "
        f"[bold]{inv['status']}[/], {inv['amount_due']} {inv['currency']} due"
        + (f", collect on {inv['collection_date']}" if inv["collection_date"] else "")
        + (f", [yellow]refund due {inv['refund_due']}[/]" if inv.get("refund_due") else "")
        + (f", [yellow]needs attention: {inv.get('attention_reason') or ''}[/]" if inv["needs_attention"] else ""),
        highlight=False,
    )
    table = Table(show_header=True, header_style="bold")
    for col in ("when (UTC)", "source", "what", "status", "detail"):
        table.add_column(col)
    for e in data["events"]:
        move = e["to"] if e["from"] in (None, e["to"]) else f"{e['from']} → {e['to']}"
        what = e["kind"].replace("_", " ") + ("" if e["outcome"] in ("transition", "created") else f" [{e['outcome']}]")
        when = e["at"].replace("+00:00", "").replace("T", " ")
        source = e["source"] + (f" ({e['actor']})" if e.get("actor") and e["actor"] != e["source"] else "")
        table.add_row(when, source, what, move or "", e["detail"])
    console.print(table)


def print_outcome(outcome: InvoiceOutcome) -> bool:
    """One line per invoice; True when it was accepted (a change, or nothing to do)."""
    match outcome.outcome:
        case "transition" | "resolved":
            to = outcome.to_status or "deleted"
            move = f"{outcome.from_status} → {to}" if to != outcome.from_status else to
            console.print(
                f"{outcome.number}: {move}" + (f" ({outcome.message})" if outcome.message else ""), highlight=False
            )
        case "no_change":
            console.print(f"{outcome.number}: no change ({outcome.message})", highlight=False)
        case "conflict":
            err_console.print(f"[yellow]{outcome.number}: conflict, flagged for support:[/] {outcome.message}")
        case "refused":
            err_console.print(f"[red]{outcome.number}: refused, logged:[/] {outcome.message}", highlight=False)
    return outcome.accepted


def print_payout(result: PayoutOutcome) -> None:
    if result.outbox_entry_id is None:
        return
    console.print(
        f"payout {result.reference or '(no reference)'}: {result.gross} paid − {result.fee} fee = "
        f"{result.net} {result.currency} to the bank",
        highlight=False,
    )
    for note in result.notes:
        console.print(f"  {note}", highlight=False)


def with_progress(run: Callable[..., list[Any]], quiet: bool = False) -> list[Any]:
    """Call ``run(on_progress=...)`` with a live line per connection (pages, invoices read, placed)."""
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    if quiet:
        return run(on_progress=None)
    with Progress(
        SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console, transient=True
    ) as progress:
        tasks: dict[str, Any] = {}

        def on_progress(name: str, counts: Any) -> None:
            if name not in tasks:
                tasks[name] = progress.add_task(name)
            progress.update(
                tasks[name],
                description=f"{name}: {counts.pages} pages, {counts.fetched} invoices read, "
                f"{counts.placed} placed, {counts.changed} changed",
            )

        return run(on_progress=on_progress)


def sync_result_dict(r: Any) -> dict[str, Any]:
    return {
        "connection": r.connection,
        "state": r.state,
        "error": r.error,
        "api_calls": r.api_calls,
        "seconds": round(r.seconds, 3),
        "run_id": r.run_id,
        **r.counts.as_dict(),
    }


SUMMARY_COLUMNS = (
    ("fetched", "fetched"),
    ("placed", "placed"),
    ("changed", "changed"),
    ("conflicts", "conflicts"),
    ("quarantined", "quarantined"),
    ("pushed", "pushed"),
    ("rejected", "rejected"),
    ("held", "held"),
)


def print_sync_summary(results: list[Any]) -> None:
    table = Table(title="Sync")
    table.add_column("connection")
    table.add_column("state")
    for _, title in SUMMARY_COLUMNS:
        table.add_column(title, justify="right")
    table.add_column("API calls", justify="right")
    table.add_column("seconds", justify="right")
    for r in results:
        counts = r.counts.as_dict()
        table.add_row(
            r.connection,
            r.state,
            *(str(counts[key]) for key, _ in SUMMARY_COLUMNS),
            str(r.api_calls),
            f"{r.seconds:.2f}",
        )
    console.print(table)
    for r in results:
        if r.error:
            err_console.print(f"[yellow]{r.connection}:[/] {r.error}", highlight=False)
        for note in r.counts.notes:
            console.print(f"{r.connection}: {note}", highlight=False)


def print_rows(rows: list[dict[str, Any]], columns: tuple[str, ...], as_json: bool, title: str) -> None:
    """A queue as a table (or JSON for scripts); an empty queue says so."""
    if as_json:
        import json

        typer.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        console.print(f"{title}: none.")
        return
    table = Table(title=title)
    for col in columns:
        table.add_column(col)
    for row in rows:
        table.add_row(*(str(row.get(col, "")) for col in columns))
    console.print(table)


def finding_rows(result: ReconcileResult) -> list[dict[str, str]]:
    return [
        {
            "connection": result.connection,
            "kind": d.kind,
            "subject": d.subject,
            "amount": format_amount(d.amount, d.currency or "XXX") if d.amount is not None else "",
            "ledger": d.ledger_value,
            "platform": d.platform_value,
            "explanation": d.explanation,
            "fix": d.suggested_fix,
        }
        for d in result.findings
    ]


def print_reconciliation(results: list[ReconcileResult]) -> None:
    for r in results:
        if r.error:
            err_console.print(f"[red]{r.connection}:[/] {r.error}", highlight=False)
            continue
        console.print(
            f"[bold]{r.connection}[/]: {r.summary()}; clearing holds {r.clearing_balance}: {r.in_transit} in "
            f"transit"
            + (f" + {r.clearing_opening} held before the connection" if Decimal(r.clearing_opening) else "")
            + f"; {r.api_calls} API calls",
            highlight=False,
        )
        if r.payouts:
            moves = Table(title="Payouts through clearing", show_header=True, header_style="bold")
            for col in ("payout", "paid in", "transfer", "fee", "left in clearing"):
                moves.add_column(col, justify="left" if col == "payout" else "right")
            for m in r.payouts:
                amounts = (m.collected, m.transferred, m.fee, m.left)
                moves.add_row(m.reference, *(format_amount(a, m.currency) for a in amounts))
            console.print(moves)
        if not r.findings:
            continue
        table = Table(show_header=True, header_style="bold")
        for col in ("kind", "amount", "ledger", "platform", "explanation", "fix"):
            table.add_column(col)
        for row in finding_rows(r):
            table.add_row(*(row[c] for c in ("kind", "amount", "ledger", "platform", "explanation", "fix")))
        console.print(table)
