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

#: The money entities besides Payment: (kind, amount field, account field, destination field).
ENTITIES: dict[str, tuple[str, str, str, str | None]] = {
    "Transfer": ("transfer", "Amount", "FromAccountRef", "ToAccountRef"),
    "Purchase": ("spend", "TotalAmt", "AccountRef", None),
    "Deposit": ("receive", "TotalAmt", "DepositToAccountRef", None),
}


def our_entries(ledger: QuickBooksLedger) -> list[SeenEntry]:
    found = []
    for raw in _rows(ledger, "Payment"):
        invoices = [
            t.get("TxnId")
            for line in raw.get("Line") or []
            for t in line.get("LinkedTxn") or []
            if t.get("TxnType") == "Invoice"
        ]
        found.append(
            _entry(
                raw,
                "payment",
                "TotalAmt",
                "DepositToAccountRef",
                invoice_external_id=str(invoices[0]) if invoices else None,
                unapplied=_money(raw.get("UnappliedAmt")),
            )
        )
    for entity, (kind, amount, account, to) in ENTITIES.items():
        for raw in _rows(ledger, entity):
            found.append(_entry(raw, kind, amount, account, to_account=_ref(raw.get(to)) if to else None))
    return found


def _entry(raw: dict[str, Any], kind: str, amount: str, account: str, **extra: Any) -> SeenEntry:
    return SeenEntry(
        kind,
        str(raw.get("Id", "")),
        _money(raw.get(amount)),
        _day(raw.get("TxnDate")),
        _ref(raw.get(account)),
        str(raw.get("PrivateNote") or ""),
        recorded_at=_created(raw),
        **extra,
    )


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
