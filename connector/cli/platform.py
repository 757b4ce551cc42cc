"""``connector platform …``: what happened on the payments platform, one action per command."""

from __future__ import annotations

from typing import Annotated

import typer

from connector.actions import Actor
from connector.actions import platform as actions
from connector.cli.common import DateOption, InvoicesArg, acting
from connector.render import print_outcome, print_payout

app = typer.Typer(no_args_is_help=True, help="Record what happened on the payments platform.")

AmountOption = Annotated[str | None, typer.Option("--amount", help="amount collected (one invoice only)")]
ReferenceOption = Annotated[str, typer.Option("--reference", help="the platform's reference")]


def _record(ctx: typer.Context, kind: str, invoices: list[str], **options: object) -> None:
    with acting(ctx) as rt:
        outcomes = actions.record_event(rt, kind, invoices, actor=Actor.platform(), **options)  # type: ignore[arg-type]
    accepted = [print_outcome(o) for o in outcomes]
    if not all(accepted):
        raise typer.Exit(2)


@app.command("collection-started")
def collection_started(ctx: typer.Context, invoices: InvoicesArg, on: DateOption = None) -> None:
    """A direct debit was initiated (scheduled → submitted)."""
    _record(ctx, "collection_started", invoices, on=on)


@app.command("collection-failed")
def collection_failed(
    ctx: typer.Context,
    invoices: InvoicesArg,
    on: DateOption = None,
    reason: Annotated[str, typer.Option("--reason", help="the bank's reason")] = "",
) -> None:
    """The direct debit failed (submitted → scheduled, retried per the policy)."""
    _record(ctx, "collection_failed", invoices, on=on, reason=reason)


@app.command("external-payment")
def external_payment(
    ctx: typer.Context,
    invoices: InvoicesArg,
    on: DateOption = None,
    reference: ReferenceOption = "",
    reason: Annotated[str, typer.Option("--reason", help="how the customer paid")] = "",
) -> None:
    """The customer paid outside the platform (→ paid elsewhere; nothing is collected or posted)."""
    _record(ctx, "external_payment", invoices, on=on, reference=reference, reason=reason)


def _note(kind: str, doc: str) -> None:
    """Register a command for something that changes no status but belongs in the timeline."""

    def command(ctx: typer.Context, invoices: InvoicesArg, on: DateOption = None) -> None:
        with acting(ctx) as rt:
            outcomes = actions.record_note(rt, kind, invoices, actor=Actor.platform(), on=on)
        for outcome in outcomes:
            print_outcome(outcome)

    command.__doc__ = doc
    app.command(kind.replace("_", "-"))(command)


_note("payment_link_opened", "The customer opened the payment link (kept in the timeline).")
_note("mandate_pending", "The customer's direct debit mandate is being set up (kept in the timeline).")
_note("mandate_active", "The customer's direct debit mandate is active (kept in the timeline).")


@app.command("request-sent")
def request_sent(ctx: typer.Context, invoices: InvoicesArg, on: DateOption = None) -> None:
    """A payment request went to the customer (draft → outstanding)."""
    _record(ctx, "request_sent", invoices, on=on)


def _money_in(kind: str, doc: str) -> None:
    """Register a command for money the platform received: the same options, another event."""

    def command(
        ctx: typer.Context,
        invoices: InvoicesArg,
        amount: AmountOption = None,
        on: DateOption = None,
        reference: ReferenceOption = "",
    ) -> None:
        _record(ctx, kind, invoices, amount=amount, on=on, reference=reference)

    command.__doc__ = doc
    app.command(kind.replace("_", "-"))(command)


_money_in("collection_confirmed", "The bank confirmed the direct debit (submitted → paid).")
_money_in("payment_received", "The customer paid a payment request (outstanding/overdue → paid).")


@app.command("payout")
def payout(
    ctx: typer.Context,
    invoices: InvoicesArg,
    fee: Annotated[str, typer.Option("--fee", help="the platform's fee taken from this payout")] = "0",
    amount: Annotated[str | None, typer.Option("--amount", help="net amount paid out (checked)")] = None,
    on: DateOption = None,
    reference: ReferenceOption = "",
    expected: Annotated[
        str | None, typer.Option("--expected", help="when the money should reach the bank (YYYY-MM-DD)")
    ] = None,
) -> None:
    """The platform paid these invoices out (paid → settled): a transfer and a fee go to the ledger."""
    with acting(ctx) as rt:
        result = actions.record_payout(
            rt,
            invoices,
            actor=Actor.platform(),
            fee=fee,
            net=amount,
            on=on,
            reference=reference,
            expected_arrival=expected,
        )
    accepted = [print_outcome(o) for o in result.invoices]
    print_payout(result)
    if not all(accepted):
        raise typer.Exit(2)
