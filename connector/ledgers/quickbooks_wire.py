"""QuickBooks Online's JSON, read record by record into provider-neutral invoices.

QBO has no invoice status field: the record says what happened through its amounts and
notes. A void zeroes the amounts and writes "Voided" in PrivateNote; a delete leaves only a
CDC tombstone. Dates are the company's calendar dates (plain ``YYYY-MM-DD``); update stamps
carry the company's offset and are turned into UTC here. Every invoice read is then checked
against what the store can hold (:mod:`validate`).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.ledgers.calls import as_decimal
from connector.ledgers.records import LedgerInvoice, LedgerPayment, Malformed
from connector.ledgers.validate import MAX_AMOUNT, check_invoice, quarantine_id

#: The status words this adapter derives (the mapping file places them).
DELETED, VOIDED, INVOICE = "Deleted", "Voided", "Invoice"


class WireError(ValueError):
    """A field that is not what QBO writes."""


def parse_stamp(value: Any) -> datetime:
    if not isinstance(value, str):
        raise WireError(f"not a QuickBooks timestamp: {value!r}")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise WireError(f"not a QuickBooks timestamp: {value!r}") from None
    return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)


def _date(value: Any) -> date | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        raise WireError(f"not a QuickBooks date: {value!r}") from None


def _amount(record: dict[str, Any], key: str) -> Decimal:
    value = record.get(key)
    if value is None or isinstance(value, bool):
        raise WireError(f"{key} is missing" if value is None else f"{key} is not an amount: {value!r}")
    try:
        amount = as_decimal(value)  # a float from orjson: InexactNumber when it may not be exact
    except InvalidOperation:
        raise WireError(f"{key} is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise WireError(f"{key} is not an amount: {value!r}")
    return amount


def parse_invoice(
    record: Any, home_currency: str, *, deleted_at: datetime | None = None, max_amount: Decimal = MAX_AMOUNT
) -> LedgerInvoice | Malformed:
    """One invoice, or a CDC tombstone (``status: Deleted``) read as a deletion.

    A tombstone is ``{"domain", "status": "Deleted", "Id"}``, with ``MetaData`` in CDC answers but
    without it in the answer to a delete (Intuit's own example): when its stamp is missing, the
    deletion is dated ``deleted_at`` (the CDC answer's ``time``), else now, never quarantined.
    An invoice the store could not hold (amounts above ``max_amount`` included) is a ``Malformed``.
    """
    external_id = record.get("Id") if isinstance(record, dict) else None
    try:
        if not isinstance(record, dict):
            raise WireError("an invoice is not a JSON object")
        meta = record.get("MetaData") or {}
        if str(record.get("status", "")).lower() == "deleted":  # a CDC tombstone: only the id is left
            stamp = meta.get("LastUpdatedTime")
            updated = parse_stamp(stamp) if stamp is not None else deleted_at or datetime.now(UTC)
            invoice = LedgerInvoice(
                external_id=str(record["Id"]),
                number=str(record["Id"]),
                contact_name="",
                currency=home_currency,
                total=Decimal(0),
                amount_due=Decimal(0),
                amount_paid=Decimal(0),
                issue_date=None,
                due_date=None,
                status=DELETED,
                type="Invoice",
                updated_at=updated,
            )
            return check_invoice(invoice, record, max_amount=max_amount)
        updated = parse_stamp(meta.get("LastUpdatedTime"))
        total = _amount(record, "TotalAmt")
        balance = _amount(record, "Balance")
        note = str(record.get("PrivateNote") or "")
        status = VOIDED if note.startswith("Voided") and total == 0 and balance == 0 else INVOICE
        customer = record.get("CustomerRef") or {}
        currency = (record.get("CurrencyRef") or {}).get("value") or home_currency
        payments = tuple(
            LedgerPayment(external_id=str(link["TxnId"]), amount=Decimal(0), on=None)
            for link in record.get("LinkedTxn") or []
            if link.get("TxnType") == "Payment"
        )
        invoice = LedgerInvoice(
            external_id=str(record["Id"]),
            number=str(record.get("DocNumber") or record["Id"]),
            contact_name=str(customer.get("name") or ""),
            contact_email=str((record.get("BillEmail") or {}).get("Address") or "") or None,
            currency=str(currency),
            total=total,
            amount_due=balance,
            amount_paid=total - balance,
            issue_date=_date(record.get("TxnDate")),
            due_date=_date(record.get("DueDate")),
            status=status,
            type="Invoice",
            updated_at=updated,
            payments=payments,
            customer_id=str(customer.get("value") or ""),
        )
    except (WireError, KeyError, TypeError, AttributeError) as exc:
        return Malformed(
            external_id=quarantine_id(external_id) if external_id else None,
            reason=f"unreadable invoice: {exc}",
            raw=record,
            updated_at=_stamp_or_none(record),
        )
    return check_invoice(invoice, record, max_amount=max_amount)


def _stamp_or_none(record: Any) -> datetime | None:
    try:
        return parse_stamp((record.get("MetaData") or {}).get("LastUpdatedTime"))
    except (WireError, AttributeError):
        return None
