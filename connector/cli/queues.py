"""``connector outbox …`` and ``connector quarantine …``: support's queues, one action per command."""

from __future__ import annotations

from typing import Annotated

import typer

from connector import reports
from connector.actions import outbox as outbox_actions
from connector.actions import quarantine as quarantine_actions
from connector.cli.common import AsOption, JsonOption, ReasonOption, acting, person
from connector.render import console, print_rows

outbox_app = typer.Typer(no_args_is_help=True, help="Ledger writes the ledger refused: retry or ignore.")
quarantine_app = typer.Typer(no_args_is_help=True, help="Ledger records the import could not take.")

EntryArg = Annotated[int, typer.Argument(help="outbox entry id (see `connector outbox list`)")]
RecordArg = Annotated[int, typer.Argument(help="quarantined record id (see `connector quarantine list`)")]


@outbox_app.command("list")
def list_pushes(
    ctx: typer.Context,
    waiting: Annotated[bool, typer.Option("--waiting", help="also writes still waiting or held")] = False,
    as_json: JsonOption = False,
) -> None:
    """Writes the ledger refused (the failed-push queue), with their ids and the ledger's reason."""
    with acting(ctx) as rt, rt.sessions() as session:
        rows = reports.failed_pushes(session, include_waiting=waiting)
    print_rows(rows, ("id", "connection", "kind", "state", "invoice", "attempts", "error"), as_json, "Failed pushes")


@quarantine_app.command("list")
def list_quarantine(ctx: typer.Context, as_json: JsonOption = False) -> None:
    """Records waiting in quarantine, with their ids and reasons."""
    with acting(ctx) as rt, rt.sessions() as session:
        rows = reports.open_quarantine(session)
    print_rows(rows, ("id", "connection", "external_id", "reason"), as_json, "Quarantined records")


@outbox_app.command("retry")
def retry(ctx: typer.Context, entry: EntryArg, actor: AsOption = None) -> None:
    """Send a refused write again at the next push."""
    with acting(ctx) as rt:
        console.print(outbox_actions.retry_push(rt, entry, actor=person(actor)).message, highlight=False)


@outbox_app.command("ignore")
def ignore(ctx: typer.Context, entry: EntryArg, reason: ReasonOption, actor: AsOption = None) -> None:
    """Never send this write; kept with who and why."""
    with acting(ctx) as rt:
        console.print(outbox_actions.ignore_push(rt, entry, reason, actor=person(actor)).message, highlight=False)


@quarantine_app.command("release")
def release(ctx: typer.Context, record: RecordArg, actor: AsOption = None) -> None:
    """Re-read the record from the ledger and apply it."""
    with acting(ctx) as rt:
        console.print(quarantine_actions.release_record(rt, record, actor=person(actor)).message, highlight=False)


@quarantine_app.command("dismiss")
def dismiss(ctx: typer.Context, record: RecordArg, reason: ReasonOption, actor: AsOption = None) -> None:
    """The record needs nothing from the connector; kept with who and why."""
    with acting(ctx) as rt:
        result = quarantine_actions.dismiss_record(rt, record, reason, actor=person(actor))
        console.print(result.message, highlight=False)
