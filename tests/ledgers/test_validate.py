"""Every invoice the wire parsers read is checked against what the store holds (issue 17).

Normalised where the meaning stays the same (currency case, NUL characters, trailing zeros, a long
contact name); quarantined, with the reason, where it would not (amounts above the ceiling or with
more than four decimals, more due than the total plus credits, an invoice number or ledger id longer
than its column). The limits are the store's own: a test holds the two together.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from connector.ledgers import quickbooks_wire, xero_wire
from connector.ledgers.records import LedgerInvoice, Malformed
from connector.ledgers.validate import (
    AMOUNT_DECIMALS,
    CONTACT_NAME_MAX,
    EXTERNAL_ID_MAX,
    MAX_AMOUNT,
    NUMBER_MAX,
    STORE_MAX_AMOUNT,
    clean_text,
    quarantine_id,
)
from connector.store.models import Invoice, QuarantinedRecord
from connector.store.types import Amount
from tests.ledger_kit import XERO_INVOICE_HEAD

XERO = {
    **XERO_INVOICE_HEAD,
    "AmountDue": Decimal("115.00"),
    "AmountPaid": Decimal("0.00"),
    "AmountCredited": Decimal("0.00"),
    "DueDate": "/Date(1774915200000+0000)/",
    "UpdatedDateUTC": "/Date(1772000000000+0000)/",
}

QBO = {
    "Id": "130",
    "DocNumber": "1037",
    "CustomerRef": {"value": "3", "name": "Cool Cars"},
    "CurrencyRef": {"value": "USD"},
    "TotalAmt": Decimal("115.00"),
    "Balance": Decimal("115.00"),
    "TxnDate": "2026-03-01",
    "DueDate": "2026-03-31",
    "MetaData": {"LastUpdatedTime": "2026-03-01T10:00:00-08:00"},
}


def xero(**changes: Any) -> LedgerInvoice | Malformed:
    return xero_wire.parse_invoice({**XERO, **changes})


def qbo(**changes: Any) -> LedgerInvoice | Malformed:
    return quickbooks_wire.parse_invoice({**QBO, **changes}, "USD")


def refused(result: LedgerInvoice | Malformed, *words: str) -> Malformed:
    assert isinstance(result, Malformed), result
    for word in words:
        assert word in result.reason, result.reason
    return result


def test_a_currency_in_lower_case_is_the_same_currency():
    assert xero(CurrencyCode="nzd").currency == "NZD"
    assert qbo(CurrencyRef={"value": " usd "}).currency == "USD"
    refused(qbo(CurrencyRef={"value": "US$"}), "not a three-letter ISO 4217 code")


def test_nul_characters_are_dropped_and_lone_surrogates_replaced():
    inv = xero(Contact={"ContactID": "c1", "Name": "Ridgeway\x00 University"}, InvoiceNumber="INV\x00-3")
    assert (inv.contact_name, inv.number) == ("Ridgeway University", "INV-3")
    assert qbo(CustomerRef={"value": "3", "name": "Bad \ud800 name"}).contact_name == "Bad \ufffd name"


def test_an_amount_above_the_ceiling_is_quarantined_with_the_reason():
    bad = refused(xero(Total=Decimal("1e20"), AmountDue=Decimal("1e20")), "total 1E+20 is above the ceiling")
    assert bad.external_id == XERO["InvoiceID"] and bad.raw["Total"] == Decimal("1e20")
    assert bad.updated_at == datetime.fromtimestamp(1772000000, UTC)  # the cursor can still move past it
    refused(qbo(TotalAmt=Decimal("-1e13"), Balance=Decimal("0")), "total -1E+13 is above the ceiling")
    assert isinstance(xero(Total=MAX_AMOUNT, AmountDue=MAX_AMOUNT), LedgerInvoice)


def test_the_ceiling_is_the_adapters_to_set_but_never_above_what_the_store_holds():
    small = xero_wire.parse_invoice(XERO, max_amount=Decimal("100"))
    refused(small, "above the ceiling of 100")
    assert isinstance(quickbooks_wire.parse_invoice(QBO, "USD", max_amount=Decimal("1000")), LedgerInvoice)
    huge = Decimal("1e15")
    refused(xero_wire.parse_invoice({**XERO, "Total": huge, "AmountDue": huge}, max_amount=Decimal("1e30")))


def test_more_due_than_the_total_plus_credits_is_quarantined():
    refused(
        xero(Total=Decimal("100.00"), AmountDue=Decimal("150.00"), AmountCredited=Decimal("20.00")),
        "amount due 150.00 is more than the total 100.00 plus credits 20.00",
    )
    refused(qbo(TotalAmt=Decimal("100"), Balance=Decimal("100.01")), "more than the total")
    assert isinstance(xero(Total=Decimal("100.00"), AmountDue=Decimal("100.00")), LedgerInvoice)


def test_amounts_the_store_cannot_keep_exactly_are_quarantined_and_trailing_zeros_dropped():
    refused(qbo(TotalAmt=Decimal("12.123456789"), Balance=Decimal("12.123456789")), "more than 4 decimal places")
    inv = qbo(TotalAmt=Decimal("46.000000000"), Balance=Decimal("46.000000000"))
    assert inv.total == Decimal("46") and inv.total.as_tuple().exponent == -AMOUNT_DECIMALS
    assert isinstance(qbo(TotalAmt=Decimal("10.1234"), Balance=Decimal("10.1234")), LedgerInvoice)


def test_an_invoice_number_or_ledger_id_longer_than_its_column_is_quarantined():
    refused(xero(InvoiceNumber="N" * 300), "invoice number is 300 characters")
    bad = refused(qbo(Id="9" * 150), "ledger id is 150 characters")
    assert bad.external_id is None  # it does not fit the quarantine's column either; the raw keeps it
    assert xero(Contact={"Name": "C" * 400}).contact_name == "C" * CONTACT_NAME_MAX


def test_a_tombstone_is_checked_like_any_invoice():
    tomb = quickbooks_wire.parse_invoice({"Id": "77", "status": "Deleted", "domain": "QBO"}, "usd")
    assert isinstance(tomb, LedgerInvoice) and tomb.currency == "USD"


def test_the_limits_are_the_stores_own():
    columns = Invoice.__table__.c
    assert columns.number.type.length == NUMBER_MAX
    assert columns.contact_name.type.length == CONTACT_NAME_MAX
    assert columns.external_id.type.length == EXTERNAL_ID_MAX
    assert QuarantinedRecord.__table__.c.external_id.type.length == EXTERNAL_ID_MAX
    numeric = Amount.impl
    assert (numeric.precision, numeric.scale) == (18, AMOUNT_DECIMALS)
    largest = Decimal(10) ** (numeric.precision - numeric.scale) - Decimal(1).scaleb(-numeric.scale)
    assert largest == STORE_MAX_AMOUNT


@pytest.mark.parametrize(
    ("value", "expected"),
    [("plain", "plain"), ("a\x00b", "ab"), ("\ud83d", "\ufffd"), ("café ☕", "café ☕")],
)
def test_clean_text(value, expected):
    assert clean_text(value) == expected


def test_quarantine_id():
    assert quarantine_id("abc") == "abc"
    assert quarantine_id(130) == "130"
    assert quarantine_id("x" * 101) is None
    assert quarantine_id(None) is None
