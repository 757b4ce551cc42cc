"""Xero's Bank Summary report over the books: each bank account's opening balance, cash
received, cash spent and closing balance for a date range.

Money reaches a bank account in Xero through payments (invoice payments in, bill payments
out) and bank transactions: RECEIVE/SPEND money, the RECEIVE-OVERPAYMENT an overpayment
makes, and the two legs of every bank transfer (RECEIVE-TRANSFER in, SPEND-TRANSFER out).
Deleted and voided records move nothing. Amounts are in the bank account's own currency.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connector.sandbox.xero.model import ZERO, Account, Payment
from connector.sandbox.xero.tenant import Tenant

_OUT_PAYMENTS = ("ACCPAYPAYMENT", "ARCREDITPAYMENT")


@dataclass(frozen=True)
class BankLine:
    """One bank account's row of the report."""

    account: Account
    opening: Decimal
    received: Decimal
    spent: Decimal

    @property
    def closing(self) -> Decimal:
        return self.opening + self.received - self.spent


def payment_bank_amount(p: Payment, t: Tenant) -> Decimal:
    """The payment in the bank account's currency (a foreign invoice paid from a base-currency
    account moves ``amount / rate``)."""
    account = t.accounts[p.account_id]
    inv = t.invoices.get(p.invoice_id or "")
    if inv is not None and (account.currency or t.org.base_currency) != inv.currency and p.currency_rate:
        return p.amount / p.currency_rate
    return p.amount


def _movements(t: Tenant) -> dict[str, list[tuple[date, Decimal]]]:
    """Every dated, signed movement of money, by bank account id (one pass over the books)."""
    moves: dict[str, list[tuple[date, Decimal]]] = {}
    for p in t.payments.values():
        if p.status == "AUTHORISED":
            value = payment_bank_amount(p, t)
            moves.setdefault(p.account_id, []).append((p.date, -value if p.payment_type in _OUT_PAYMENTS else value))
    for tx in t.bank_transactions.values():
        if tx.status == "AUTHORISED":
            moves.setdefault(tx.bank_account_id, []).append(
                (tx.date, tx.total if tx.type.startswith("RECEIVE") else -tx.total)
            )
    return moves


def bank_summary(t: Tenant, from_date: date, to_date: date) -> list[BankLine]:
    """The report's rows, one per bank account, ordered by name as Xero lists them."""
    moves = _movements(t)
    lines = []
    for account in sorted((a for a in t.accounts.values() if a.is_bank), key=lambda a: a.name):
        opening = received = spent = ZERO
        for on, value in moves.get(account.id, ()):
            if on < from_date:
                opening += value
            elif on <= to_date:
                if value >= 0:
                    received += value
                else:
                    spent -= value
        lines.append(BankLine(account, opening, received, spent))
    return lines
