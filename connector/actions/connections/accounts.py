"""Choosing accounts: the organisation's live chart, the clearing account made, the three kept.

Read from the ledger each time (never cached), so the checks see the chart as it is now.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from connector.actions.connections.common import (
    PROVIDERS,
    FieldErrors,
    _connection,
    _ledger_trouble,
    _only_setup_or_web,
    _only_setup_or_web_id,
    log,
)
from connector.actions.context import Actor
from connector.actions.errors import RefusedAction
from connector.ledgers.chart import CLEARING_NAME, ChartAccount
from connector.ledgers.errors import LedgerError, ReconnectRequired, ValidationError
from connector.ledgers.xero import XeroLedger
from connector.runtime import Runtime
from connector.store.models import Connection
from connector.sync.connect import ledger_for


@dataclass(frozen=True, slots=True)
class AccountsView:
    """The chart of accounts for the "choose accounts" step, with what is chosen so far."""

    connection_id: int
    name: str
    provider: str
    organisation: str
    base_currency: str
    accounts: list[ChartAccount]
    chosen: dict[str, str] = field(default_factory=dict)

    def for_role(self, role: str) -> list[ChartAccount]:
        return [a for a in self.accounts if role in a.roles]


def chart_of_accounts(rt: Runtime, connection_id: int) -> AccountsView:
    """The organisation's accounts read live from the ledger, and its base currency (kept)."""
    row, ledger = _ledger(rt, connection_id)
    try:
        currency = _base_currency(rt, row, ledger)
        accounts = _chart(ledger, currency)
    except LedgerError as exc:
        raise RefusedAction(_ledger_trouble(row.provider, exc)) from None
    chosen = dict((row.settings or {}).get("accounts") or {})
    return AccountsView(row.id, row.name, row.provider, row.tenant_name or row.name, currency, accounts, chosen)


def create_clearing_account(rt: Runtime, connection_id: int, *, actor: Actor) -> tuple[ChartAccount, bool]:
    """Make a "Payments platform clearing" account in the ledger (a bank account, in the
    organisation's currency), or find the one already there; True when it was made now."""
    from connector.ledgers import quickbooks_setup, xero_setup

    row, ledger = _ledger(rt, connection_id)
    _only_setup_or_web(row)
    try:
        currency = _base_currency(rt, row, ledger)
        accounts = _chart(ledger, currency)
        same = [a for a in accounts if a.name.strip().lower() == CLEARING_NAME.lower() and "clearing" in a.roles]
        if same and not same[0].problem:
            return same[0], False
        if isinstance(ledger, XeroLedger):
            made = xero_setup.create_clearing(ledger, currency, {a.code for a in accounts if a.code})
        else:
            made = quickbooks_setup.create_clearing(ledger, currency)
    except ValidationError as exc:
        raise RefusedAction(f"{PROVIDERS[row.provider]} did not create the account: {exc}") from None
    except LedgerError as exc:
        raise RefusedAction(_ledger_trouble(row.provider, exc)) from None
    log.info("%s created the clearing account %s in %s", actor.name, made.ref, row.name)
    return made, True


def save_accounts(
    rt: Runtime, connection_id: int, *, clearing: str, bank: str, fees: str, actor: Actor
) -> dict[str, str]:
    """Check the three accounts against the live chart and keep them with the connection.

    Clearing ≠ bank; every account in the organisation's currency; the fee account an expense;
    clearing able to take payments and send the payout (Xero: a bank account with a code, as
    payments and bank transfers name accounts by code; QuickBooks: Bank or Other Current Asset).
    Every problem is returned at once, each for its own field.
    """
    chosen = {"clearing": (clearing or "").strip(), "bank": (bank or "").strip(), "fees": (fees or "").strip()}
    view = chart_of_accounts(rt, connection_id)
    _only_setup_or_web_id(rt, connection_id)
    by_ref = {a.ref: a for a in view.accounts}
    what = {
        "clearing": "the clearing account (where platform payments land)",
        "bank": "the bank account payouts arrive in",
        "fees": "the account for the platform's fees",
    }
    errors: dict[str, str] = {}
    for role, ref in chosen.items():
        account = by_ref.get(ref)
        if not ref:
            errors[role] = f"Choose {what[role]}."
        elif account is None:
            errors[role] = f"That account is not in {view.organisation}'s chart of accounts any more: choose again."
        elif role not in account.roles:
            errors[role] = _wrong_kind(view.provider, role)
        elif account.problem:
            errors[role] = f"{account.name} {account.problem}."
        elif account.currency != view.base_currency:
            errors[role] = (
                f"{account.name} is in {account.currency}, but {view.organisation} keeps its books in "
                f"{view.base_currency}: choose an account in {view.base_currency}."
            )
    if chosen["clearing"] and chosen["clearing"] == chosen["bank"] and "bank" not in errors:
        errors["bank"] = (
            "The bank account must be a different account from the clearing account: payouts move money "
            "from clearing to the bank."
        )
    if errors:
        raise FieldErrors(errors)
    with rt.transaction() as session:
        row = session.get(Connection, connection_id)
        row.settings = {**(row.settings or {}), "accounts": chosen}
    log.info("%s chose the accounts of %s", actor.name, view.name)
    return chosen


def _wrong_kind(provider: str, role: str) -> str:
    if role == "fees":
        return "The fee account must be an expense account."
    if provider == "xero":
        return (
            "Choose a bank account: Xero moves a payout from the clearing account to the bank with a bank "
            "transfer, which only works between bank accounts."
        )
    if role == "clearing":
        return "Choose a Bank or Other Current Asset account: QuickBooks deposits payments only into those."
    return "Choose a Bank account."


def _ledger(rt: Runtime, connection_id: int) -> tuple[Connection, Any]:
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        if row.state == "disconnected":
            raise RefusedAction(f"{row.name} is disconnected: reconnect it first.")
        try:
            ledger = ledger_for(rt, row)
        except ReconnectRequired as exc:
            raise RefusedAction(f"{row.name} needs reconnecting: {exc}") from None
        session.expunge(row)
        return row, ledger


def _base_currency(rt: Runtime, row: Connection, ledger: Any) -> str:
    known = (row.settings or {}).get("base_currency")
    if known:
        return str(known)
    currency = ledger.organisation().base_currency
    with rt.transaction() as session:
        fresh = session.get(Connection, row.id)
        fresh.settings = {**(fresh.settings or {}), "base_currency": currency}
    return currency


def _chart(ledger: Any, currency: str) -> list[ChartAccount]:
    from connector.ledgers import quickbooks_setup, xero_setup

    if isinstance(ledger, XeroLedger):
        return xero_setup.chart(ledger, currency)
    return quickbooks_setup.chart(ledger, currency)
