"""Reconciliation reads from Xero: payments, overpayments, transfers and bank transactions.

Paged lists (up to 1,000 a page where Xero pages), read raw like invoice pages so one odd record
cannot fail a page; each call goes through the adapter's call runner (limits, retries, counting).
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from connector.ledgers.seen import SeenEntry
from connector.ledgers.xero import XeroLedger, _page_body
from connector.ledgers.xero_wire import parse_calendar_date, parse_timestamp

PAGE = 1000
#: Xero's smallest page: a page shorter than this is the last one, whatever page size it honours.
SMALLEST_PAGE = 100


def our_entries(ledger: XeroLedger) -> list[SeenEntry]:
    """Every payment, overpayment, transfer and spend/receive money in the organisation (active ones)."""
    found: list[SeenEntry] = []
    for raw in _pages(ledger, "Payments", "payments_read", ledger.accounting.get_payments):
        if str(raw.get("Status", "AUTHORISED")) == "DELETED":
            continue
        account = raw.get("Account") or {}
        found.append(
            SeenEntry(
                "payment",
                str(raw.get("PaymentID", "")),
                _money(raw.get("Amount")),
                _day(raw.get("Date")),
                _code(account),
                str(raw.get("Reference") or ""),
                invoice_external_id=str((raw.get("Invoice") or {}).get("InvoiceID") or "") or None,
                recorded_at=_stamp(raw.get("UpdatedDateUTC")),
            )
        )
    for raw in _pages(ledger, "Overpayments", "overpayments_read", ledger.accounting.get_overpayments):
        if str(raw.get("Status", "")) == "VOIDED":
            continue
        found.append(
            SeenEntry(
                "overpayment",
                str(raw.get("OverpaymentID", "")),
                _money(raw.get("Total")),
                _day(raw.get("Date")),
                None,  # the bank side is its RECEIVE-OVERPAYMENT bank transaction, read below
                str(raw.get("Reference") or ""),
                recorded_at=_stamp(raw.get("UpdatedDateUTC")),
            )
        )
    for raw in _pages(ledger, "BankTransfers", "transfers_read", ledger.accounting.get_bank_transfers, paged=False):
        found.append(
            SeenEntry(
                "transfer",
                str(raw.get("BankTransferID", "")),
                _money(raw.get("Amount")),
                _day(raw.get("Date")),
                _code(raw.get("FromBankAccount") or {}),
                str(raw.get("Reference") or ""),
                to_account=_code(raw.get("ToBankAccount") or {}),
                recorded_at=_stamp(raw.get("CreatedDateUTC")),
            )
        )
    for raw in _pages(ledger, "BankTransactions", "bank_transactions_read", ledger.accounting.get_bank_transactions):
        kind_of = str(raw.get("Type", ""))
        if str(raw.get("Status", "AUTHORISED")) in ("DELETED", "VOIDED") or kind_of.endswith("-TRANSFER"):
            continue  # a transfer's two legs are read once, as the BankTransfer above
        kind = "spend" if kind_of.startswith("SPEND") else "receive"
        found.append(
            SeenEntry(
                kind,
                str(raw.get("BankTransactionID", "")),
                _money(raw.get("Total")),
                _day(raw.get("Date")),
                _code(raw.get("BankAccount") or {}),
                str(raw.get("Reference") or ""),
                recorded_at=_stamp(raw.get("UpdatedDateUTC")),
            )
        )
    return found


def _pages(ledger: XeroLedger, key: str, kind: str, endpoint: Any, paged: bool = True) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    page = 1
    while True:

        def call(page: int = page) -> dict[str, Any]:
            options: dict[str, Any] = {"_preload_content": False, "_request_timeout": ledger.retry.timeout}
            if paged:
                options.update(page=page, page_size=PAGE)
            return _page_body(endpoint(ledger.tenant_id, **options).data)

        batch = ledger._call(kind, call).get(key) or []
        rows.extend(r for r in batch if isinstance(r, dict))
        if not paged or len(batch) < SMALLEST_PAGE:
            return rows
        page += 1


def _code(account: dict[str, Any]) -> str | None:
    code = account.get("Code") or account.get("AccountID")
    return str(code) if code else None


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _day(value: Any) -> Any:
    try:
        return parse_calendar_date(value) if value else None
    except (ValueError, TypeError):
        return None


def _stamp(value: Any) -> Any:
    try:
        return parse_timestamp(value) if value else None
    except (ValueError, TypeError):
        return None
