"""Reading Xero's JSON: calendar dates survive any offset, a bad record is quarantined, not fatal."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.ledgers.records import LedgerInvoice, Malformed
from connector.ledgers.xero_wire import parse_calendar_date, parse_invoice, parse_timestamp
from tests.ledger_kit import XERO_INVOICE_HEAD


def ms(d: datetime) -> int:
    return int(d.timestamp() * 1000)


@pytest.mark.parametrize("offset", ["+1300", "-0800", "+0000", ""])
def test_a_due_date_written_at_local_midnight_keeps_its_calendar_day(offset):
    # 1 March in Auckland (+13:00) is 28 February 11:00 UTC: the SDK would say 28 February.
    sign = 1 if offset.startswith("+") or not offset else -1
    hours = int(offset[1:3]) if offset else 0
    local_midnight = datetime(2026, 3, 1, tzinfo=UTC).timestamp() - sign * hours * 3600
    assert parse_calendar_date(f"/Date({int(local_midnight * 1000)}{offset})/") == date(2026, 3, 1)


def test_timestamps_are_utc_and_iso_dates_are_read_too():
    assert parse_timestamp("/Date(1419937200000+0000)/") == datetime(2014, 12, 30, 11, 0, tzinfo=UTC)
    assert parse_timestamp("2024-01-02T03:04:05+13:00") == datetime(2024, 1, 1, 14, 4, 5, tzinfo=UTC)
    assert parse_calendar_date("2026-05-04T00:00:00") == date(2026, 5, 4)


RECORD = {
    **XERO_INVOICE_HEAD,
    "AmountDue": Decimal("65.00"),
    "AmountPaid": Decimal("50.00"),
    "Date": f"/Date({ms(datetime(2026, 3, 1, tzinfo=UTC))}+0000)/",
    "DueDate": f"/Date({ms(datetime(2026, 3, 31, tzinfo=UTC))}+0000)/",
    "UpdatedDateUTC": "/Date(1772000000000+0000)/",
    "Payments": [
        {
            "PaymentID": "p1",
            "Amount": Decimal("50.00"),
            "Date": "/Date(1772000000000+0000)/",
            "Reference": "DD-1 (cx:abc)",
        }
    ],
}


def test_a_record_reads_exactly():
    inv = parse_invoice(RECORD)
    assert isinstance(inv, LedgerInvoice)
    assert (inv.number, inv.status, inv.currency, inv.amount_due, inv.amount_paid) == (
        "INV-0003",
        "AUTHORISED",
        "NZD",
        Decimal("65.00"),
        Decimal("50.00"),
    )
    assert inv.due_date == date(2026, 3, 31)
    assert inv.payments[0].reference == "DD-1 (cx:abc)"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"AmountDue": "lots"}, "AmountDue is not an amount"),
        ({"AmountDue": None}, "AmountDue is missing"),
        ({"DueDate": "next week"}, "not a Xero date"),
        ({"CurrencyCode": ""}, "CurrencyCode is missing"),
        ({"UpdatedDateUTC": None}, "not a Xero timestamp"),
        ({"Contact": "someone"}, "Contact is not an object"),
    ],
)
def test_an_unreadable_record_is_malformed_with_its_reason(change, reason):
    bad = parse_invoice({**RECORD, **change})
    assert isinstance(bad, Malformed)
    assert reason in bad.reason
    assert bad.external_id == RECORD["InvoiceID"]
    assert isinstance(parse_invoice(["not", "an", "object"]), Malformed)
