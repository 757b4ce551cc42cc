"""The connector command: set-up, support views, a person's changes, platform events and sync.

Errors a person can fix (a bad config line, an unknown invoice, a change the status table
does not allow) print one line and exit with code 2, having changed nothing.
"""

from __future__ import annotations

import json
import sys
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from connector import reports
from connector.config import ConfigError
from connector.domain import (
    CollectionConfirmed,
    CollectionFailed,
    CollectionStarted,
    Conflict,
    EventSource,
    InvoiceStatus,
    Money,
    NoChange,
    PaymentReceived,
    PaymentRequestSent,
    Refused,
    Transition,
)
from connector.domain.events import Event
from connector.domain.transitions import manual_event
from connector.runtime import Runtime, open_runtime
from connector.store.invoices import AmbiguousInvoice, InvoiceNotFound, find_invoice, state_of
from connector.store.migrate import current_revision, upgrade
from connector.sync.apply import PayoutError, apply_event, policy_for, record_payout

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__.splitlines()[0])
invoice_app = typer.Typer(no_args_is_help=True, help="Change one invoice by hand.")
platform_app = typer.Typer(no_args_is_help=True, help="Record what happened on the payments platform.")
app.add_typer(invoice_app, name="invoice")
app.add_typer(platform_app, name="platform")

#: Piped output (CI logs, support tickets) gets a wide table instead of Rich's 80 columns.
console = Console(width=None if sys.stdout.isatty() else 160)
err_console = Console(stderr=True, width=None if sys.stderr.isatty() else 160)

ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", "-c", help="config file (default: $CONNECTOR_CONFIG or ./connector.toml)"),
]
JsonOption = Annotated[bool, typer.Option("--json", help="print JSON for scripts")]
ConnectionOption = Annotated[str | None, typer.Option("--connection", help="connection name, when numbers clash")]


class UserError(Exception):
    """Something the person can put right; shown as one line, exit code 2."""


def fail(message: str) -> typer.Exit:
    err_console.print(f"[bold red]error:[/] {message}", highlight=False, soft_wrap=True)
    return typer.Exit(2)


def _runtime(ctx: typer.Context) -> Runtime:
    try:
        return open_runtime(ctx.obj.get("config") if ctx.obj else None)
    except ConfigError as exc:
        raise fail(str(exc)) from None


@app.callback()
def _root(ctx: typer.Context, config: ConfigOption = None) -> None:
    ctx.obj = {"config": config}


def main() -> None:
    app()


# --- set-up -------------------------------------------------------------------------------


@app.command("init-db")
def init_db(ctx: typer.Context) -> None:
    """Create or upgrade the database schema to the latest revision."""
    from connector.config import load_config
    from connector.store.db import make_engine

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


# --- support views --------------------------------------------------------------------------


@app.command()
def status(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Invoices per status per connection, and what needs attention."""
    rt = _runtime(ctx)
    with rt.transaction() as session:
        report = reports.status_report(session)
    rt.close()
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    print_status(report)


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
    for c in report["connections"]:
        if c["state"] != "active":
            console.print(f"[bold yellow]connection {c['name']}:[/] {c['state']} {c['reason'] or ''}")


@app.command()
def activity(
    ctx: typer.Context,
    invoice: Annotated[str, typer.Argument(help="invoice number, ledger id or #id")],
    connection: ConnectionOption = None,
    as_json: JsonOption = False,
) -> None:
    """The timeline of one invoice: every status change and why."""
    rt = _runtime(ctx)
    with rt.transaction() as session:
        row = _find(session, invoice, connection)
        data = reports.timeline(session, row)
    rt.close()
    if as_json:
        typer.echo(json.dumps(data, indent=2))
        return
    print_timeline(data)


def print_timeline(data: dict[str, Any]) -> None:
    inv = data["invoice"]
    console.print(
        f"[bold]{inv['number']}[/] (#{inv['id']}, {inv['connection']}) {inv['contact']}: "
        f"[bold]{inv['status']}[/], {inv['amount_due']} {inv['currency']} due"
        + (f", collect on {inv['collection_date']}" if inv["collection_date"] else "")
        + (", [yellow]needs attention[/]" if inv["needs_attention"] else ""),
        highlight=False,
    )
    table = Table(show_header=True, header_style="bold")
    for col in ("when (UTC)", "source", "what", "status", "detail"):
        table.add_column(col)
    for e in data["events"]:
        move = e["to"] if e["from"] in (None, e["to"]) else f"{e['from']} → {e['to']}"
        what = e["kind"].replace("_", " ") + ("" if e["outcome"] in ("transition", "created") else f" [{e['outcome']}]")
        when = e["at"].replace("+00:00", "").replace("T", " ")
        table.add_row(when, e["source"], what, move or "", e["detail"])
    console.print(table)


def _find(session: Any, ref: str, connection: str | None) -> Any:
    try:
        return find_invoice(session, ref, connection)
    except (InvoiceNotFound, AmbiguousInvoice) as exc:
        raise fail(str(exc)) from None


# --- a person's change ------------------------------------------------------------------------


@invoice_app.command("set-status")
def set_status(
    ctx: typer.Context,
    invoice: Annotated[str, typer.Argument(help="invoice number, ledger id or #id")],
    target: Annotated[InvoiceStatus, typer.Argument(help="the status to move it to")],
    reason: Annotated[str, typer.Option("--reason", help="why: kept in the activity log")],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    connection: ConnectionOption = None,
    on: Annotated[str | None, typer.Option("--date", help="when it happened (YYYY-MM-DD; default today)")] = None,
) -> None:
    """Move an invoice to another status, if the status table allows it."""
    if not reason.strip():
        raise fail("--reason must say why")
    today = _date(on)
    rt = _runtime(ctx)
    with rt.transaction() as session:
        row = _find(session, invoice, connection)
        state = state_of(row)
        event = manual_event(state, target, today, reason.strip(), policy_for(row.connection))
        if isinstance(event, Refused):
            raise fail(f"{row.number}: {event.reason}")
        if not yes and not typer.confirm(f"Move {row.number} from {state.status} to {target}?"):
            raise fail("not confirmed; nothing changed")
        outcome = apply_event(session, row, event, source=EventSource.PERSON)
        _report(row.number, outcome)
    rt.close()


# --- platform events --------------------------------------------------------------------------

InvoicesArg = Annotated[list[str], typer.Argument(help="invoice numbers, ledger ids or #ids")]
DateOption = Annotated[str | None, typer.Option("--date", help="when it happened (YYYY-MM-DD; default today)")]
AmountOption = Annotated[str | None, typer.Option("--amount", help="amount collected (one invoice only)")]
ReferenceOption = Annotated[str, typer.Option("--reference", help="the platform's reference")]


def _date(value: str | None) -> date:
    if value is None:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"--date: expected YYYY-MM-DD, got {value!r}") from None


def _decimal(option: str, value: str) -> Decimal:
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise fail(f"{option}: expected an amount such as 120.50, got {value!r}") from None
    if not amount.is_finite() or amount < 0:
        raise fail(f"{option}: expected a positive amount, got {value!r}")
    return amount


def _report(number: str, outcome: Any) -> bool:
    """Print one outcome; True when it was accepted (a transition or nothing to do)."""
    match outcome:
        case Transition(before=b, after=a):
            to = a.status if a else "deleted"
            console.print(
                f"{number}: {b.status} → {to}" + (f" ({outcome.note})" if outcome.note else ""),
                highlight=False,
            )
            return True
        case NoChange(reason=r):
            console.print(f"{number}: no change ({r})", highlight=False)
            return True
        case Conflict(reason=r):
            err_console.print(f"[yellow]{number}: conflict, logged for support:[/] {r}", highlight=False)
            return False
        case Refused(reason=r):
            err_console.print(f"[red]{number}: refused, logged:[/] {r}", highlight=False)
            return False
    raise AssertionError(outcome)


def _platform_event(ctx: typer.Context, refs: list[str], make: Any, amount: str | None = None) -> None:
    if amount is not None and len(refs) != 1:
        raise fail("--amount applies to one invoice at a time")
    rt = _runtime(ctx)
    ok = True
    with rt.transaction() as session:
        rows = [_find(session, ref, None) for ref in refs]
        for row in rows:
            collected = Money(_decimal("--amount", amount), row.currency) if amount is not None else None
            event: Event = make(row, collected)
            ok &= _report(row.number, apply_event(session, row, event))
    rt.close()
    if not ok:
        raise typer.Exit(2)


@platform_app.command("collection-started")
def collection_started(ctx: typer.Context, invoices: InvoicesArg, on: DateOption = None) -> None:
    """A direct debit was initiated (scheduled → submitted)."""
    d = _date(on)
    _platform_event(ctx, invoices, lambda row, _: CollectionStarted(occurred_on=d))


@platform_app.command("collection-failed")
def collection_failed(
    ctx: typer.Context,
    invoices: InvoicesArg,
    on: DateOption = None,
    reason: Annotated[str, typer.Option("--reason", help="the bank's reason")] = "",
) -> None:
    """The direct debit failed (submitted → scheduled, retried per the policy)."""
    d = _date(on)
    _platform_event(ctx, invoices, lambda row, _: CollectionFailed(occurred_on=d, detail=reason))


@platform_app.command("collection-confirmed")
def collection_confirmed(
    ctx: typer.Context,
    invoices: InvoicesArg,
    amount: AmountOption = None,
    on: DateOption = None,
    reference: ReferenceOption = "",
) -> None:
    """The bank confirmed the direct debit (submitted → paid)."""
    _money_in(ctx, CollectionConfirmed, invoices, amount, on, reference)


@platform_app.command("request-sent")
def request_sent(ctx: typer.Context, invoices: InvoicesArg, on: DateOption = None) -> None:
    """A payment request went to the customer (draft → outstanding)."""
    d = _date(on)
    _platform_event(ctx, invoices, lambda row, _: PaymentRequestSent(occurred_on=d))


@platform_app.command("payment-received")
def payment_received(
    ctx: typer.Context,
    invoices: InvoicesArg,
    amount: AmountOption = None,
    on: DateOption = None,
    reference: ReferenceOption = "",
) -> None:
    """The customer paid a payment request (outstanding/overdue → paid)."""
    _money_in(ctx, PaymentReceived, invoices, amount, on, reference)


def _money_in(
    ctx: typer.Context, kind: Any, invoices: list[str], amount: str | None, on: str | None, reference: str
) -> None:
    """The platform has the money (a confirmed debit or a paid request): the same options, another event."""
    d = _date(on)
    _platform_event(ctx, invoices, lambda row, amt: kind(occurred_on=d, amount=amt, reference=reference), amount)


@platform_app.command("payout")
def payout(
    ctx: typer.Context,
    invoices: InvoicesArg,
    fee: Annotated[str, typer.Option("--fee", help="the platform's fee taken from this payout")] = "0",
    amount: Annotated[str | None, typer.Option("--amount", help="net amount paid out (checked)")] = None,
    on: DateOption = None,
    reference: ReferenceOption = "",
) -> None:
    """The platform paid these invoices out (paid → settled): a transfer and a fee go to the ledger."""
    d = _date(on)
    fee_amount = _decimal("--fee", fee)
    net = _decimal("--amount", amount) if amount is not None else None
    rt = _runtime(ctx)
    ok = True
    try:
        with rt.transaction() as session:
            rows = [_find(session, ref, None) for ref in invoices]
            outcomes, entry = record_payout(session, rows, on=d, fee=fee_amount, reference=reference, net=net)
            for row, outcome in zip(rows, outcomes, strict=True):
                ok &= _report(row.number, outcome)
            if entry is not None:
                p = entry.payload
                console.print(
                    f"payout {reference or '(no reference)'}: {p['gross']} paid − {p['fee']} fee = "
                    f"{p['net']} {p['currency']} to the bank",
                    highlight=False,
                )
    except PayoutError as exc:
        raise fail(str(exc)) from None
    finally:
        rt.close()
    if not ok:
        raise typer.Exit(2)


# --- sync and the daemon -----------------------------------------------------------------------


@app.command()
def sync(
    ctx: typer.Context,
    connection: Annotated[str | None, typer.Option("--connection", help="only this connection")] = None,
    once: Annotated[bool, typer.Option("--once", help="one pass, then exit (the default)")] = True,
    as_json: JsonOption = False,
) -> None:
    """Import from each ledger, then push payments and payouts back: once, with a summary."""
    rt = _runtime(ctx)
    try:
        results = run_sync_with_progress(rt, connection, quiet=as_json)
    finally:
        rt.close()
    if as_json:
        typer.echo(json.dumps([_result_dict(r) for r in results], indent=2))
    else:
        print_sync_summary(results)
    if connection and not results:
        raise fail(f"no connection named {connection!r}")
    if any(r.state == "failed" for r in results):
        raise typer.Exit(1)


def run_sync_with_progress(rt: Runtime, connection: str | None, quiet: bool = False, **kwargs: Any) -> list[Any]:
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from jobs.tasks import sync_all

    if quiet:
        return sync_all(rt, connection=connection, **kwargs)
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

        return sync_all(rt, connection=connection, on_progress=on_progress, **kwargs)


def _result_dict(r: Any) -> dict[str, Any]:
    return {
        "connection": r.connection,
        "state": r.state,
        "error": r.error,
        "api_calls": r.api_calls,
        "seconds": round(r.seconds, 3),
        "run_id": r.run_id,
        **r.counts.as_dict(),
    }


def print_sync_summary(results: list[Any]) -> None:
    table = Table(title="Sync")
    columns = (
        "connection",
        "state",
        "fetched",
        "placed",
        "changed",
        "conflicts",
        "quarantined",
        "pushed",
        "rejected",
        "API calls",
        "seconds",
    )
    for col in columns:
        table.add_column(col, justify="left" if col in ("connection", "state") else "right")
    for r in results:
        c = r.counts
        table.add_row(
            r.connection,
            r.state,
            str(c.fetched),
            str(c.placed),
            str(c.changed),
            str(c.conflicts),
            str(c.quarantined),
            str(c.pushed),
            str(c.rejected),
            str(r.api_calls),
            f"{r.seconds:.2f}",
        )
    console.print(table)
    for r in results:
        if r.error:
            err_console.print(f"[yellow]{r.connection}:[/] {r.error}", highlight=False)
        for note in r.counts.notes:
            console.print(f"{r.connection}: {note}", highlight=False)


@app.command()
def daemon(ctx: typer.Context) -> None:
    """Run every job on its schedule until stopped (SIGTERM or Ctrl-C stop it cleanly)."""
    import logging

    from jobs.daemon import run_daemon

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    rt = _runtime(ctx)
    try:
        run_daemon(rt)
    finally:
        rt.close()


# --- optional commands ------------------------------------------------------------------------


def _register_optional_commands() -> None:
    """Commands whose modules may be absent while the project grows (the sandbox, the demo)."""
    from connector import demo

    app.command("demo")(demo.demo)
    from connector.sandbox.quickbooks.cli import serve as serve_quickbooks
    from connector.sandbox.xero.cli import serve as serve_xero

    sandbox_app = typer.Typer(no_args_is_help=True, help="Local ledger servers for demos and tests.")
    sandbox_app.command("xero", help="A local Xero (identity + Accounting API).")(serve_xero)
    sandbox_app.command("quickbooks", help="A local QuickBooks Online (OAuth + API v3).")(serve_quickbooks)
    app.add_typer(sandbox_app, name="sandbox")


_register_optional_commands()
