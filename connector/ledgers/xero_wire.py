"""Xero's JSON, read record by record: dates as the organisation's calendar dates, amounts exact.

The SDK's own deserializer turns ``/Date(ms+1300)/`` into the UTC date (a New Zealand due date
moves back a day) and fails a whole page on one unknown enum value. Reading the raw page here
keeps the calendar date and lets one bad record be quarantined while the rest of the page goes on.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.ledgers.records import LedgerInvoice, LedgerPayment, Malformed

_MS_DATE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


class WireError(ValueError):
    """A field that is not what Xero writes."""


def parse_timestamp(value: Any) -> datetime:
    """``/Date(ms+hhmm)/`` or ISO → aware UTC datetime (update stamps are UTC in Xero)."""
    if isinstance(value, str):
        m = _MS_DATE.match(value)
        if m:
            return datetime.fromtimestamp(int(m.group(1)) / 1000, UTC)
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            pass
        else:
            return parsed.replace(tzinfo=parsed.tzinfo or UTC).astimezone(UTC)
    raise WireError(f"not a Xero timestamp: {value!r}")


def parse_calendar_date(value: Any) -> date:
    """A date-only field, as the calendar date the organisation sees; no UTC shift.

    Xero writes date-only fields as midnight of the date, either in UTC (``+0000`` or no offset)
    or with the organisation's offset; applying the written offset gives that same midnight.
    """
    if isinstance(value, str):
        m = _MS_DATE.match(value)
        if m:
            offset = m.group(2) or "+0000"
            sign = -1 if offset[0] == "-" else 1
            tz = timezone(sign * timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5])))
            return datetime.fromtimestamp(int(m.group(1)) / 1000, tz).date()
        try:
            return date.fromisoformat(value[:10])
        except ValueError:
            pass
    raise WireError(f"not a Xero date: {value!r}")


def _amount(record: dict[str, Any], key: str, default: Decimal | None = None) -> Decimal:
    value = record.get(key)
    if value is None:
        if default is not None:
            return default
        raise WireError(f"{key} is missing")
    if isinstance(value, bool):
        raise WireError(f"{key} is not an amount: {value!r}")
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise WireError(f"{key} is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise WireError(f"{key} is not an amount: {value!r}")
    return amount


def _text(record: dict[str, Any], key: str, required: bool = True) -> str:
    value = record.get(key)
    if value is None or value == "":
        if required:
            raise WireError(f"{key} is missing")
        return ""
    if not isinstance(value, str):
        raise WireError(f"{key} is not text: {value!r}")
    return value


def parse_invoice(record: Any) -> LedgerInvoice | Malformed:
    """One element of ``Invoices``; a :class:`Malformed` (never an exception) when it cannot be read."""
    external_id = record.get("InvoiceID") if isinstance(record, dict) else None
    try:
        if not isinstance(record, dict):
            raise WireError("an invoice is not a JSON object")
        contact = record.get("Contact") or {}
        if not isinstance(contact, dict):
            raise WireError("Contact is not an object")
        due = record.get("DueDate")
        issued = record.get("Date")
        payments = []
        for p in record.get("Payments") or []:
            payments.append(
                LedgerPayment(
                    external_id=_text(p, "PaymentID"),
                    amount=_amount(p, "Amount"),
                    on=parse_calendar_date(p["Date"]) if p.get("Date") else None,
                    reference=_text(p, "Reference", required=False),
                )
            )
        currency = _text(record, "CurrencyCode")
        if len(currency) != 3:
            raise WireError(f"CurrencyCode is not a currency: {currency!r}")
        return LedgerInvoice(
            external_id=_text(record, "InvoiceID"),
            number=_text(record, "InvoiceNumber", required=False) or _text(record, "InvoiceID"),
            contact_name=_text(contact, "Name", required=False),
            currency=currency,
            total=_amount(record, "Total"),
            amount_due=_amount(record, "AmountDue"),
            amount_paid=_amount(record, "AmountPaid", Decimal(0)),
            amount_credited=_amount(record, "AmountCredited", Decimal(0)),
            issue_date=parse_calendar_date(issued) if issued else None,
            due_date=parse_calendar_date(due) if due else None,
            status=_text(record, "Status"),
            type=_text(record, "Type"),
            updated_at=parse_timestamp(record.get("UpdatedDateUTC")),
            payments=tuple(payments),
        )
    except (WireError, KeyError, TypeError, AttributeError) as exc:
        return Malformed(
            external_id=external_id if isinstance(external_id, str) else None,
            reason=f"unreadable invoice: {exc}",
            raw=record,
        )


def format_since(moment: datetime) -> datetime:
    """If-Modified-Since is accurate to the second: drop the fraction so nothing is skipped."""
    return moment.astimezone(UTC).replace(microsecond=0)
