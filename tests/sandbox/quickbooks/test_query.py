"""The query endpoint through python-quickbooks (POST application/text) and by GET: each
operator, ORDER BY / ORDERBY, 1-based paging, MAXRESULTS, COUNT(*), the empty answer."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
import requests
from quickbooks.exceptions import ValidationException
from quickbooks.objects import Customer, Invoice

from connector.sandbox.quickbooks import Record
from connector.sandbox.quickbooks.wire import local_stamp
from tests.sandbox.quickbooks.conftest import QboClient


def _records(client: QboClient, kind: str, keep: Callable[[Record], bool] = lambda r: True) -> list[Record]:
    books = client.sandbox.ledger.books(client.realm_id)
    return [r for r in books.records[kind].values() if keep(r)]


def _ids(items: list[Any]) -> list[str]:
    return [str(i.Id) for i in items]


def _get(client: QboClient, sql: str) -> dict[str, Any]:
    """A query by GET ?query=, with the SDK's own session (bearer, minorversion)."""
    return client.qb.get(client.url("query"), params={"query": sql})  # type: ignore[no-any-return]


def test_equals_on_a_string_and_get_matches_post(client: QboClient) -> None:
    target = _records(client, "Invoice")[3]
    number = target.doc["DocNumber"]
    found = Invoice.filter(DocNumber=number, qb=client.qb)
    assert _ids(found) == [target.id]
    by_get = _get(client, f"SELECT * FROM Invoice WHERE DocNumber = '{number}'")
    assert [i["Id"] for i in by_get["QueryResponse"]["Invoice"]] == [target.id]


@pytest.mark.parametrize(
    "op, test",
    [
        ("<", lambda v, x: v < x),
        (">", lambda v, x: v > x),
        ("<=", lambda v, x: v <= x),
        (">=", lambda v, x: v >= x),
    ],
)
def test_number_comparisons(client: QboClient, op: str, test: Callable[[Decimal, Decimal], bool]) -> None:
    pivot = sorted(r.doc["TotalAmt"] for r in _records(client, "Invoice"))[10]
    expected = [r.id for r in _records(client, "Invoice", lambda r: test(r.doc["TotalAmt"], pivot))]
    found = Invoice.where(f"TotalAmt {op} '{pivot}'", max_results=1000, qb=client.qb)
    assert sorted(_ids(found), key=int) == expected
    assert expected, "the pivot leaves something on each side"


def test_in_and_and(client: QboClient) -> None:
    records = _records(client, "Invoice")
    chosen = [records[1].id, records[5].id, records[9].id]
    found = Invoice.choose(chosen, qb=client.qb)
    assert _ids(found) == chosen
    open_ones = [r.id for r in records if r.id in chosen and r.doc["Balance"] > 0]
    both = Invoice.where(f"Id IN ('{chosen[0]}', '{chosen[1]}', '{chosen[2]}') AND Balance > '0'", qb=client.qb)
    assert _ids(both) == open_ones


def test_like_is_a_case_insensitive_pattern(client: QboClient) -> None:
    customer = _records(client, "Customer")[2]
    word = customer.doc["DisplayName"].split()[0]
    expected = [r.id for r in _records(client, "Customer", lambda r: word.lower() in r.doc["DisplayName"].lower())]
    found = Customer.where(f"DisplayName LIKE '%{word.upper()}%'", qb=client.qb)
    assert _ids(found) == expected and customer.id in expected
    starts = Customer.where(f"DisplayName LIKE '{word}%'", qb=client.qb)
    assert customer.id in _ids(starts)


def test_dates_stamps_and_references(client: QboClient) -> None:
    records = _records(client, "Invoice")
    day = sorted(r.doc["TxnDate"] for r in records)[20]
    assert _ids(Invoice.where(f"TxnDate >= '{day}'", max_results=1000, qb=client.qb)) == [
        r.id for r in records if r.doc["TxnDate"] >= day
    ]
    stamp = sorted(r.updated for r in records)[25]
    offset = client.sandbox.ledger.books(client.realm_id).company.utc_offset_minutes
    literal = local_stamp(stamp, offset).replace("-08:00", "-0800")  # the form in Intuit's docs
    found = Invoice.where(
        f"MetaData.LastUpdatedTime > '{literal}'", order_by="MetaData.LastUpdatedTime", max_results=1000, qb=client.qb
    )
    expected = sorted((r for r in records if r.updated > stamp), key=lambda r: r.key)
    assert _ids(found) == [r.id for r in expected]
    customer = records[0].doc["CustomerRef"]["value"]
    assert _ids(Invoice.where(f"CustomerRef = '{customer}'", qb=client.qb)) == [
        r.id for r in records if r.doc["CustomerRef"]["value"] == customer
    ]


def test_order_by_and_orderby_both_work(client: QboClient) -> None:
    expected = [r.id for r in sorted(_records(client, "Invoice"), key=lambda r: (-r.doc["TotalAmt"], int(r.id)))]
    spaced = Invoice.all(order_by="TotalAmt DESC, Id", max_results=1000, qb=client.qb)  # "ORDER BY"
    joined = Invoice.where("", order_by="TotalAmt DESC, Id", max_results=1000, qb=client.qb)  # "ORDERBY"
    assert _ids(spaced) == expected == _ids(joined)


def test_startposition_is_one_based_and_pages_cover_everything(client: QboClient) -> None:
    every = [r.id for r in _records(client, "Invoice")]
    seen: list[str] = []
    start = 1
    while True:
        raw = client.qb.query(f"select * from Invoice orderby Id startposition {start} maxresults 7")
        page = raw["QueryResponse"].get("Invoice", [])
        if not page:
            assert raw["QueryResponse"] == {}
            break
        assert raw["QueryResponse"]["startPosition"] == start
        assert raw["QueryResponse"]["maxResults"] == len(page) <= 7
        seen += [i["Id"] for i in page]
        start += 7
    assert seen == every
    assert _ids(Invoice.all(start_position=2, max_results=1, qb=client.qb)) == [every[1]]


def test_maxresults_defaults_to_100_and_is_capped_at_1000(make_sandbox: Callable[..., Any]) -> None:
    from tests.sandbox.quickbooks.conftest import connect

    sb = make_sandbox(realms=1, invoices_per_realm=130)
    client = connect(sb)
    assert len(Invoice.query("SELECT * FROM Invoice", qb=client.qb)) == 100
    assert len(Invoice.where("", max_results=1000, qb=client.qb)) == len(_records(client, "Invoice"))
    with pytest.raises(ValidationException) as too_many:
        Invoice.where("", max_results=1001, qb=client.qb)
    assert too_many.value.error_code == 4001 and "Max allowed value is 1000" in too_many.value.detail


def test_count(client: QboClient) -> None:
    assert Invoice.count(qb=client.qb) == len(_records(client, "Invoice"))
    unpaid = _records(client, "Invoice", lambda r: r.doc["Balance"] > 0)
    assert Invoice.count("Balance > '0'", qb=client.qb) == len(unpaid)
    raw = client.qb.query("SELECT COUNT(*) FROM Invoice WHERE Balance > '1000000'")
    assert raw["QueryResponse"] == {"totalCount": 0}


def test_an_empty_result_is_an_empty_query_response(client: QboClient) -> None:
    raw = client.qb.query("SELECT * FROM Invoice WHERE DocNumber = 'no-such-number'")
    assert raw["QueryResponse"] == {} and set(raw) == {"QueryResponse", "time"}
    assert Invoice.filter(DocNumber="no-such-number", qb=client.qb) == []
    body = requests.get(
        client.url("query"),
        params={"query": "select * from Invoice where Id = '1'"},
        headers={"Authorization": f"Bearer {client.auth.access_token}"},
        timeout=10,
    ).text
    assert body.startswith('{"QueryResponse":{},"time":"')


def test_inactive_names_only_when_asked_for(client: QboClient) -> None:
    customer = _records(client, "Customer")[0]
    client.sandbox.ledger.update_entity(client.realm_id, "Customer", customer.id, Active=False)
    assert customer.id not in _ids(Customer.all(max_results=1000, qb=client.qb))
    hidden = Customer.where("Active = false", qb=client.qb)
    assert _ids(hidden) == [customer.id] and hidden[0].DisplayName.endswith(" (deleted)")
    assert customer.id in _ids(Customer.where("Active IN (true, false)", max_results=1000, qb=client.qb))


@pytest.mark.parametrize(
    "sql, code",
    [
        ("SELECT * FROM Invoice WHERE Balance > '0' OR TotalAmt > '5'", 4000),
        ("SELECT Id, * FROM Invoice", 4000),
        ("SELECT * FROM Invoice WHERE Balance != '0'", 4000),
        ("SELECT * FROM Invoice WHERE NoSuchField = '1'", 4001),
        ("SELECT * FROM Widget", 4001),
        ("SELECT * FROM Invoice MAXRESULTS 0", 4001),
    ],
)
def test_what_qbo_refuses_to_parse(client: QboClient, sql: str, code: int) -> None:
    with pytest.raises(ValidationException) as refused:
        client.qb.query(sql)
    assert refused.value.error_code == code
