"""Xero's JSON, read record by record: dates as the organisation's calendar dates, amounts exact.

The SDK's own deserializer turns ``/Date(ms+1300)/`` into the UTC date (a New Zealand due date
moves back a day) and fails a whole page on one unknown enum value. Reading the raw page here
keeps the calendar date and lets one bad record be quarantined while the rest of the page goes on.
Every invoice read is then checked against what the store can hold (:mod:`validate`).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any

from tzlocal.windows_tz import win_tz

from connector.ledgers.calls import as_decimal
from connector.ledgers.records import LedgerInvoice, LedgerPayment, Malformed, OrganisationFacts
from connector.ledgers.validate import MAX_AMOUNT, check_invoice, quarantine_id

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
        amount = as_decimal(value)  # a float from orjson: InexactNumber when it may not be exact
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


def parse_invoice(record: Any, *, max_amount: Decimal = MAX_AMOUNT) -> LedgerInvoice | Malformed:
    """One element of ``Invoices``; a :class:`Malformed` (never an exception) when it cannot be read
    or the store could not hold it (amounts above ``max_amount`` included)."""
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
        invoice = LedgerInvoice(
            external_id=_text(record, "InvoiceID"),
            number=_text(record, "InvoiceNumber", required=False) or _text(record, "InvoiceID"),
            contact_name=_text(contact, "Name", required=False),
            contact_email=_text(contact, "EmailAddress", required=False) or None,
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
            customer_id=_text(contact, "ContactID", required=False),
        )
    except (WireError, KeyError, TypeError, AttributeError) as exc:
        return Malformed(
            external_id=quarantine_id(external_id) if isinstance(external_id, str) else None,
            reason=f"unreadable invoice: {exc}",
            raw=record,
            updated_at=_stamp_or_none(record),
        )
    return check_invoice(invoice, record, max_amount=max_amount)


def _stamp_or_none(record: Any) -> datetime | None:
    try:
        return parse_timestamp(record.get("UpdatedDateUTC")) if isinstance(record, dict) else None
    except WireError:
        return None


def update_stamps(records: Any) -> list[datetime]:
    """The readable ``UpdatedDateUTC`` of a page's raw invoices: the ``updated_at`` that
    :func:`parse_invoice` gives each of them, quarantined ones included, without reading the rest."""
    return [s for s in map(_stamp_or_none, records) if s is not None]


def format_since(moment: datetime) -> datetime:
    """If-Modified-Since is accurate to the second: drop the fraction so nothing is skipped."""
    return moment.astimezone(UTC).replace(microsecond=0)


# --- organisation ----------------------------------------------------------------------------
#: Xero's two TimeZone names that Windows (and so CLDR's table) no longer lists.
_RETIRED_WINDOWS_ZONES = {"KAMCHATKASTANDARDTIME": "Asia/Kamchatka", "MIDATLANTICSTANDARDTIME": "Etc/GMT+2"}


@cache
def _xero_zone_table() -> dict[str, str]:
    """Xero's TimeZone enum is the Windows zone id upper-cased without spaces, dots or hyphens
    ("New Zealand Standard Time" -> NEWZEALANDSTANDARDTIME, "UTC-02" -> UTC02). tzlocal ships
    the CLDR windowsZones table (Windows id -> IANA), kept current with each tzlocal release."""
    table = {re.sub(r"[\s.\-]", "", name).upper(): zone for name, zone in win_tz.items()}
    return {**_RETIRED_WINDOWS_ZONES, **table}


def iana_timezone(xero_name: str | None) -> str | None:
    """The IANA zone (``Pacific/Auckland``) for a Xero Timezone value, None when unknown."""
    if not xero_name:
        return None
    return _xero_zone_table().get(xero_name.strip().upper())


def parse_organisation(body: Any) -> OrganisationFacts:
    """``GET /Organisation``'s body as the facts the connector needs."""
    orgs = body.get("Organisations") if isinstance(body, dict) else None
    if not orgs or not isinstance(orgs[0], dict):
        raise WireError("the Organisation response has no organisation")
    currency = _text(orgs[0], "BaseCurrency")
    if len(currency) != 3:
        raise WireError(f"BaseCurrency is not a currency: {currency!r}")
    return OrganisationFacts(base_currency=currency, timezone=iana_timezone(orgs[0].get("Timezone")))


# --- reports -----------------------------------------------------------------------------------
def bank_summary_closing(body: Any, account_id: str) -> Decimal:
    """The Closing Balance of one bank account in a ``GET /Reports/BankSummary`` body.

    Rows name the account in their first cell with an ``accountID`` attribute; the fifth cell
    is the closing balance as a plain number string. An account with no row is an error, not
    a zero: a wrong account must not look like a balanced one.
    """
    reports = body.get("Reports") if isinstance(body, dict) else None
    if not reports:
        raise WireError("the BankSummary response has no report")
    for section in reports[0].get("Rows") or []:
        for row in section.get("Rows") or []:
            cells = row.get("Cells") or []
            ids = {str(a.get("Value", "")).lower() for a in (cells[0].get("Attributes") or [])} if cells else set()
            if row.get("RowType") == "Row" and account_id.lower() in ids and len(cells) >= 5:
                return _amount(cells[4], "Value")
    raise WireError(f"the Bank Summary has no row for account {account_id}")
