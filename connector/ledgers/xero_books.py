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
        if str(raw.get("Status", "AUTHORISED")) != "DELETED":
            invoice = str((raw.get("Invoice") or {}).get("InvoiceID") or "") or None
            found.append(_entry(raw, "payment", "PaymentID", "Amount", raw.get("Account"), invoice_external_id=invoice))
    for raw in _pages(ledger, "Overpayments", "overpayments_read", ledger.accounting.get_overpayments):
        if str(raw.get("Status", "")) != "VOIDED":  # its bank side is the RECEIVE-OVERPAYMENT transaction below
            found.append(_entry(raw, "overpayment", "OverpaymentID", "Total", None))
    for raw in _pages(ledger, "BankTransfers", "transfers_read", ledger.accounting.get_bank_transfers, paged=False):
        found.append(
            _entry(
                raw,
                "transfer",
                "BankTransferID",
                "Amount",
                raw.get("FromBankAccount"),
                stamp="CreatedDateUTC",
                to_account=_code(raw.get("ToBankAccount") or {}),
            )
        )
    for raw in _pages(ledger, "BankTransactions", "bank_transactions_read", ledger.accounting.get_bank_transactions):
        kind_of = str(raw.get("Type", ""))
        if str(raw.get("Status", "AUTHORISED")) in ("DELETED", "VOIDED") or kind_of.endswith("-TRANSFER"):
            continue  # a transfer's two legs are read once, as the BankTransfer above
        kind = "spend" if kind_of.startswith("SPEND") else "receive"
        found.append(_entry(raw, kind, "BankTransactionID", "Total", raw.get("BankAccount")))
    return found


def _entry(
    raw: dict[str, Any],
    kind: str,
    id_key: str,
    amount_key: str,
    account: Any,
    stamp: str = "UpdatedDateUTC",
    **extra: Any,
) -> SeenEntry:
    return SeenEntry(
        kind,
        str(raw.get(id_key, "")),
        _money(raw.get(amount_key)),
        _day(raw.get("Date")),
        _code(account) if account else None,
        str(raw.get("Reference") or ""),
        recorded_at=_stamp(raw.get(stamp)),
        **extra,
    )


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
