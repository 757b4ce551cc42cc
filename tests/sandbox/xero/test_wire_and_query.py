"""Wire format and the where/order language, as units."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from connector.sandbox.xero import wire
from connector.sandbox.xero.query import QueryError, compile_where, parse_order


def test_decimals_keep_exact_digits_and_dates_are_xeros() -> None:
    doc = {
        "Amount": wire.amount(Decimal("46")),
        "Rate": wire.rate(Decimal("0.61")),
        "Text": "a/b",
        "Date": wire.ms_date(date(2024, 1, 31)),
        "Flag": False,
    }
    raw = wire.dumps(doc).decode()
    assert raw == ('{"Amount":46.00,"Rate":0.610000,"Text":"a/b","Date":"\\/Date(1706659200000+0000)\\/","Flag":false}')
    parsed = json.loads(raw, parse_float=Decimal)
    assert parsed["Amount"] == Decimal("46.00") and parsed["Date"] == "/Date(1706659200000+0000)/"


def test_user_text_cannot_forge_a_number() -> None:
    raw = wire.dumps({"Reference": "\x00N12.00"}).decode()
    assert json.loads(raw)["Reference"] == "\x00N12.00"


@pytest.mark.parametrize(
    "value,expected",
    [
        ("/Date(1706659200000)/", date(2024, 1, 31)),
        ("/Date(1706659200000+0000)/", date(2024, 1, 31)),
        ("2024-01-31", date(2024, 1, 31)),
        ("2024-01-31T00:00:00", date(2024, 1, 31)),
    ],
)
def test_parse_date(value: str, expected: date) -> None:
    assert wire.parse_date(value) == expected


def test_parse_date_rejects_garbage() -> None:
    with pytest.raises(wire.WireError):
        wire.parse_date("yesterday")


@pytest.mark.parametrize(
    "header",
    [
        "2024-01-02T03:04:05+00:00",
        "2024-01-02T03:04:05.999+00:00",
        "2024-01-02T03:04:05",
        "2024-01-02T16:04:05+13:00",
        "Tue, 02 Jan 2024 03:04:05 GMT",
    ],
)
def test_if_modified_since_forms(header: str) -> None:
    assert wire.parse_if_modified_since(header) == int(datetime(2024, 1, 2, 3, 4, 5, tzinfo=UTC).timestamp()) * 1000


def test_if_modified_since_garbage_is_ignored() -> None:
    assert wire.parse_if_modified_since("not a date") is None


FIELDS = {
    "Type": lambda o: o["Type"],
    "Status": lambda o: o["Status"],
    "AmountDue": lambda o: o["AmountDue"],
    "Contact.ContactID": lambda o: o["ContactID"],
    "Contact.Name": lambda o: o["Name"],
    "Date": lambda o: o["Date"],
    "SentToContact": lambda o: o["Sent"],
}
ROW = {
    "Type": "ACCREC",
    "Status": "AUTHORISED",
    "AmountDue": Decimal("12.50"),
    "Sent": True,
    "ContactID": "a3b1c2d4-0000-4000-8000-000000000001",
    "Name": "Kauri Bakery Ltd",
    "Date": date(2024, 3, 1),
}


@pytest.mark.parametrize(
    "expr,result",
    [
        ('Type=="ACCREC"', True),
        ('Type == "ACCPAY"', False),
        ('Type=="ACCREC" AND Status=="AUTHORISED"', True),
        ('Type=="ACCREC" && Status=="PAID"', False),
        ('Status=="PAID" OR Status=="AUTHORISED"', True),
        ('(Status=="PAID" || Status=="DRAFT") AND Type=="ACCREC"', False),
        ("AmountDue > 10", True),
        ("AmountDue >= 12.5", True),
        ("AmountDue < 12.5", False),
        ('Status != "VOIDED"', True),
        ('NOT Status=="AUTHORISED"', False),
        ('Contact.ContactID == Guid("A3B1C2D4-0000-4000-8000-000000000001")', True),
        ('Contact.Name.Contains("bakery")', True),
        ('Contact.Name.StartsWith("Kauri")', True),
        ("Date >= DateTime(2024,03,01)", True),
        ("Date < DateTime(2024, 3, 1)", False),
        ("SentToContact", True),
        ("SentToContact == false", False),
    ],
)
def test_where(expr: str, result: bool) -> None:
    predicate = compile_where(expr, FIELDS)
    assert predicate is not None and predicate(ROW) is result


@pytest.mark.parametrize(
    "expr",
    ['Colour=="red"', 'Type=="ACCREC" AND', 'Type=="ACCREC" junk', 'Type=~"x"', 'Contact.Name.Matches("x")'],
)
def test_where_errors(expr: str) -> None:
    with pytest.raises(QueryError):
        compile_where(expr, FIELDS)


def test_order() -> None:
    assert [(n, d) for n, _, d in parse_order("Type ASC, AmountDue DESC", FIELDS)] == [
        ("type", False),
        ("amountdue", True),
    ]
    with pytest.raises(QueryError):
        parse_order("Colour ASC", FIELDS)
    with pytest.raises(QueryError):
        parse_order("Type SIDEWAYS", FIELDS)
