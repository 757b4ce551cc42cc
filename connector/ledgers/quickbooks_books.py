"""Reconciliation reads from QuickBooks: Payments, Transfers, Purchases and Deposits, by query pages.

Each entity is read with ``SELECT * FROM <entity> STARTPOSITION n MAXRESULTS 1000`` through the
adapter's call runner (limits, retries, counting), so a full read costs about one call per 1,000.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from connector.ledgers.quickbooks import PAGE, QuickBooksLedger
from connector.ledgers.quickbooks_wire import parse_stamp
from connector.ledgers.seen import SeenEntry


def our_entries(ledger: QuickBooksLedger) -> list[SeenEntry]:
    found: list[SeenEntry] = []
    for raw in _rows(ledger, "Payment"):
        note = str(raw.get("PrivateNote") or "")
        invoices = [
            t.get("TxnId")
            for line in raw.get("Line") or []
            for t in line.get("LinkedTxn") or []
            if t.get("TxnType") == "Invoice"
        ]
        found.append(
            SeenEntry(
                "payment",
                str(raw.get("Id", "")),
                _money(raw.get("TotalAmt")),
                _day(raw.get("TxnDate")),
                _ref(raw.get("DepositToAccountRef")),
                note,
                invoice_external_id=str(invoices[0]) if invoices else None,
                unapplied=_money(raw.get("UnappliedAmt")),
                recorded_at=_created(raw),
            )
        )
    for raw in _rows(ledger, "Transfer"):
        found.append(
            SeenEntry(
                "transfer",
                str(raw.get("Id", "")),
                _money(raw.get("Amount")),
                _day(raw.get("TxnDate")),
                _ref(raw.get("FromAccountRef")),
                str(raw.get("PrivateNote") or ""),
                to_account=_ref(raw.get("ToAccountRef")),
                recorded_at=_created(raw),
            )
        )
    for raw in _rows(ledger, "Purchase"):
        found.append(
            SeenEntry(
                "spend",
                str(raw.get("Id", "")),
                _money(raw.get("TotalAmt")),
                _day(raw.get("TxnDate")),
                _ref(raw.get("AccountRef")),
                str(raw.get("PrivateNote") or ""),
                recorded_at=_created(raw),
            )
        )
    for raw in _rows(ledger, "Deposit"):
        found.append(
            SeenEntry(
                "receive",
                str(raw.get("Id", "")),
                _money(raw.get("TotalAmt")),
                _day(raw.get("TxnDate")),
                _ref(raw.get("DepositToAccountRef")),
                str(raw.get("PrivateNote") or ""),
                recorded_at=_created(raw),
            )
        )
    return found


def _rows(ledger: QuickBooksLedger, entity: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    start = 1
    while True:
        body = ledger._query(f"SELECT * FROM {entity} STARTPOSITION {start} MAXRESULTS {PAGE}")
        batch = (body.get("QueryResponse") or {}).get(entity) or []
        rows.extend(r for r in batch if isinstance(r, dict))
        if len(batch) < PAGE:
            return rows
        start += PAGE


def _ref(value: Any) -> str | None:
    return str(value.get("value")) if isinstance(value, dict) and value.get("value") else None


def _money(value: Any) -> Decimal:
    return Decimal(str(value)) if value is not None else Decimal(0)


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def _created(raw: dict[str, Any]) -> Any:
    try:
        stamp = (raw.get("MetaData") or {}).get("CreateTime")
        return parse_stamp(stamp) if stamp else None
    except (ValueError, TypeError):
        return None
