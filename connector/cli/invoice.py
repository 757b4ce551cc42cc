"""``connector invoice …``: a person's changes to one invoice, each one action."""

from __future__ import annotations

from typing import Annotated

import typer

from connector.actions import invoices as actions
from connector.actions import lookup
from connector.cli.common import AsOption, ConnectionOption, DateOption, InvoiceArg, ReasonOption, acting, person
from connector.domain import InvoiceStatus
from connector.render import fail, print_outcome

app = typer.Typer(no_args_is_help=True, help="Change one invoice by hand.")


@app.command("set-status")
def set_status(
    ctx: typer.Context,
    invoice: InvoiceArg,
    target: Annotated[InvoiceStatus, typer.Argument(help="the status to move it to")],
    reason: ReasonOption,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask for confirmation")] = False,
    notify_customer: Annotated[bool, typer.Option("--notify-customer", help="tell the customer")] = False,
    connection: ConnectionOption = None,
    on: DateOption = None,
    actor: AsOption = None,
) -> None:
    """Move an invoice to another status, if the status table allows it."""
    with acting(ctx) as rt:
        lookup.reason(reason)
        change = actions.check_status_change(rt, invoice, target, connection=connection, on=on)
        if not yes and not typer.confirm(
            f"This will change the status of {change.number} from {change.from_status} to {change.to_status}. "
            "Are you sure?"
        ):
            raise fail("not confirmed; nothing changed")
        outcome = actions.set_status(
            rt,
            invoice,
            target,
            reason,
            actor=person(actor),
            connection=connection,
            on=on,
            notify_customer=notify_customer,
        )
        print_outcome(outcome)


@app.command("mark-original")
def mark_original(
    ctx: typer.Context,
    invoice: InvoiceArg,
    reason: ReasonOption,
    connection: ConnectionOption = None,
    actor: AsOption = None,
) -> None:
    """A duplicate is its own invoice after all: place it and process it."""
    with acting(ctx) as rt:
        print_outcome(actions.mark_original(rt, invoice, reason, actor=person(actor), connection=connection))


@app.command("reenable-collection")
def reenable_collection(
    ctx: typer.Context,
    invoice: InvoiceArg,
    reason: ReasonOption,
    collect_on: Annotated[str | None, typer.Option("--collect-on", help="YYYY-MM-DD (default: per policy)")] = None,
    connection: ConnectionOption = None,
    actor: AsOption = None,
) -> None:
    """Allow collection again once every retry has failed."""
    with acting(ctx) as rt:
        outcome = actions.reenable_collection(
            rt, invoice, reason, actor=person(actor), connection=connection, collect_on=collect_on
        )
        print_outcome(outcome)


@app.command("resolve")
def resolve(
    ctx: typer.Context,
    invoice: InvoiceArg,
    resolution: Annotated[str, typer.Argument(help="keep_platform | accept_ledger | refunded")],
    note: Annotated[str, typer.Option("--note", help="what was done and why: kept in the activity log")],
    connection: ConnectionOption = None,
    actor: AsOption = None,
) -> None:
    """Close what needed attention (a conflict, a refund due), saying how."""
    with acting(ctx) as rt:
        print_outcome(
            actions.resolve_attention(rt, invoice, resolution, note, actor=person(actor), connection=connection)
        )
