"""Ledger pages decoded by orjson keep amounts exact: through the float's shortest repr, a 2- or
4-decimal amount reads as the very number the ledger wrote (issue 16)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from connector.ledgers.calls import InexactNumber, as_decimal, decode_json, decode_json_exact

#: Every amount a ledger writes under the default ceiling of 10**12: 2 decimals (Xero totals, QBO)
#: and 4 (Xero unit amounts), signed, written with their trailing zeros ("46.00").
AMOUNTS = st.one_of(
    st.decimals(min_value=Decimal("-999999999999.99"), max_value=Decimal("999999999999.99"), places=2),
    st.decimals(min_value=Decimal("-99999999999.9999"), max_value=Decimal("99999999999.9999"), places=4),
)


@given(st.lists(AMOUNTS, min_size=1, max_size=20))
def test_amounts_decoded_by_orjson_equal_the_exact_decoding(amounts: list[Decimal]) -> None:
    body = ("[" + ",".join(format(a, "f") for a in amounts) + "]").encode()
    fast = [as_decimal(v) for v in decode_json(body)]
    exact = decode_json_exact(body)
    assert fast == exact == amounts
    assert all(isinstance(v, Decimal) for v in fast)


@given(AMOUNTS)
def test_an_amount_inside_a_page_of_invoices_is_exact(amount: Decimal) -> None:
    page = {"Invoices": [{"InvoiceID": "a", "Total": amount, "AmountDue": amount}]}
    body = json.dumps(page, default=lambda d: float(d)).replace(repr(float(amount)), format(amount, "f"))
    record = decode_json(body.encode())["Invoices"][0]
    assert as_decimal(record["Total"]) == as_decimal(record["AmountDue"]) == amount


def test_a_number_a_float_cannot_hold_exactly_is_refused_and_the_exact_decoding_keeps_it() -> None:
    body = b'{"Total": 123456789012.34567}'
    with pytest.raises(InexactNumber):
        as_decimal(decode_json(body)["Total"])
    assert decode_json_exact(body)["Total"] == Decimal("123456789012.34567")


def test_integers_stay_integers_and_a_body_orjson_refuses_falls_back_to_the_standard_library() -> None:
    assert as_decimal(decode_json(b'{"Total": 46}')["Total"]) == Decimal(46)
    body = b'{"Total": NaN, "Big": 123456789012345678901234567890, "Amount": 1.50}'  # NaN: not JSON
    assert repr(decode_json(body)) == repr(json.loads(body, parse_float=Decimal))  # what was always read
