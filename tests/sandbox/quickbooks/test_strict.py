"""The QuickBooks sandbox refuses what QBO refuses and answers as QBO answers (issue 15), through
python-quickbooks over HTTP: property-list queries, QBO's own fault codes and texts, home-currency
amounts wherever multicurrency puts them, and strict dates in bodies, query literals and CDC."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
import requests
from quickbooks.batch import batch_create
from quickbooks.exceptions import (
    ObjectNotFoundException,
    QuickbooksException,
    ValidationException,
)
from quickbooks.objects import Customer, Invoice, Payment

from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.quickbooks.render import document
from connector.sandbox.quickbooks.wire import INACTIVE_DETAIL
from connector.sandbox.quickbooks.xsd_names import ADDRESS_FIELDS, DATE_FIELDS, FIELDS
from tests.sandbox.quickbooks.conftest import QboClient, connect
from tests.sandbox.quickbooks.test_entities import home_customer, new_invoice, new_payment, role
from tests.sandbox.quickbooks.test_quickbooks_money import fresh_customer, new_credit_memo, paying_with_credit
from tests.sandbox.quickbooks.xsd_check import NS, XsdChecker


def _raw(client: QboClient, entity: str, body: dict[str, Any], **params: str) -> requests.Response:
    """A POST by hand (the SDK raises before the body can be looked at)."""
    return requests.post(
        client.url(entity),
        data=json.dumps(body),
        params={"minorversion": "75", **params},
        headers={"Authorization": f"Bearer {client.auth.access_token}", "Content-Type": "application/json",
                 "Accept": "application/json"},
        timeout=10,
    )


def _refused(call: Callable[[], Any], kind: type[QuickbooksException] = ValidationException) -> QuickbooksException:
    with pytest.raises(kind) as refused:
        call()
    return refused.value


def _full(client: QboClient, kind: str, entity_id: str) -> dict[str, Any]:
    books = client.sandbox.ledger.books(client.realm_id)
    return document(books, books.records[kind][entity_id])


# --- property lists ---------------------------------------------------------------------------------------------


def test_a_property_list_returns_only_those_properties_marked_sparse(client: QboClient) -> None:
    raw = client.qb.query("select Id, Balance from Invoice orderby Id maxresults 50")
    rows = raw["QueryResponse"]["Invoice"]
    live = client.sandbox.ledger.books(client.realm_id).records["Invoice"]
    assert raw["QueryResponse"]["maxResults"] == len(rows) == len(live) > 0
    for row in rows:
        assert set(row) == {"domain", "sparse", "Id", "Balance"}
        assert (row["domain"], row["sparse"]) == ("QBO", True)
        assert Decimal(str(row["Balance"])) == _full(client, "Invoice", row["Id"])["Balance"]
    sdk = Invoice.query("SELECT Id, Balance FROM Invoice ORDERBY Id MAXRESULTS 50", qb=client.qb)
    assert [(i.Id, i.Balance) for i in sdk] == [(r["Id"], r["Balance"]) for r in rows]
    assert all(i.DocNumber is None and i.TotalAmt == "" for i in sdk), "the SDK's defaults: nothing else came"


def test_nothing_is_added_that_was_not_named(client: QboClient) -> None:
    rows = client.qb.query("select Balance from Invoice")["QueryResponse"]["Invoice"]
    assert {frozenset(r) for r in rows} == {frozenset({"domain", "sparse", "Balance"})}  # no Id, no SyncToken
    meta = client.qb.query("select MetaData, SyncToken from Invoice maxresults 1")["QueryResponse"]["Invoice"][0]
    assert set(meta) == {"domain", "sparse", "MetaData", "SyncToken"} and set(meta["MetaData"]) == {
        "CreateTime", "LastUpdatedTime"}


def test_properties_without_a_value_are_left_out_and_names_are_case_insensitive(client: QboClient) -> None:
    invoice = new_invoice(home_customer(client), 25.0)
    invoice.PrivateNote = "has a note"
    noted = invoice.save(qb=client.qb).Id
    rows = client.qb.query("SELECT id, privatenote, DOCNUMBER FROM invoice MAXRESULTS 1000")["QueryResponse"]["Invoice"]
    by_id = {r["Id"]: r for r in rows}
    assert by_id[noted] == {"domain": "QBO", "sparse": True, "Id": noted, "PrivateNote": "has a note",
                            "DocNumber": _full(client, "Invoice", noted)["DocNumber"]}
    assert any("PrivateNote" not in r for r in rows), "an invoice without a note has no PrivateNote key"


def test_where_order_and_paging_work_with_a_property_list(client: QboClient) -> None:
    where = "WHERE Balance > '0' ORDERBY TotalAmt DESC, Id STARTPOSITION 2 MAXRESULTS 5"
    full = [i.Id for i in Invoice.query(f"SELECT * FROM Invoice {where}", qb=client.qb)]
    listed = client.qb.query(f"SELECT Id, TotalAmt FROM Invoice {where}")["QueryResponse"]
    assert [r["Id"] for r in listed["Invoice"]] == full and listed["startPosition"] == 2
    assert client.qb.query("SELECT Id FROM Invoice WHERE DocNumber = 'none'")["QueryResponse"] == {}


def test_a_property_list_on_a_name_list_carries_its_live_balance(client: QboClient) -> None:
    customer = home_customer(client)
    new_invoice(customer, 70.0).save(qb=client.qb)
    rows = client.qb.query(f"select Id, Balance, DisplayName from Customer where Id = '{customer}'")
    row = rows["QueryResponse"]["Customer"][0]
    full = _full(client, "Customer", customer)
    assert (Decimal(str(row["Balance"])), row["DisplayName"]) == (full["Balance"], full["DisplayName"])


def test_a_property_list_by_get_and_inside_a_batch(client: QboClient) -> None:
    by_get = client.qb.get(client.url("query"), params={"query": "select Id, TotalAmt from Payment maxresults 3"})
    assert [set(r) for r in by_get["QueryResponse"]["Payment"]] == [{"domain", "sparse", "Id", "TotalAmt"}] * 3
    answer = client.qb.post(
        client.url("batch"),
        json.dumps({"BatchItemRequest": [{"bId": "q1", "Query": "select Id, DocNumber from Invoice maxresults 2"},
                                         {"bId": "q2", "Query": "select Id, BillAddr from Invoice"}]}),
    )
    first, second = answer["BatchItemResponse"]
    assert [set(r) for r in first["QueryResponse"]["Invoice"]] == [{"domain", "sparse", "Id", "DocNumber"}] * 2
    assert second["Fault"]["Error"][0]["code"] == "4001"


@pytest.mark.parametrize(
    "sql, code, detail",
    [
        ("select Id, BillAddr from Customer", 4001,
         "QueryValidationError: Property BillAddr not found for Entity Customer"),
        ("select ShipAddr from Invoice", 4001, "QueryValidationError: Property ShipAddr not found for Entity Invoice"),
        ("select Id, InvoiceLink from Invoice", 4001,
         "QueryValidationError: Property InvoiceLink not found for Entity Invoice"),
        ("select Id, Colour from Invoice", 4001, "QueryValidationError: Property Colour not found for Entity Invoice"),
        ("select MetaData.LastUpdatedTime from Invoice", 4001,
         "QueryValidationError: Property MetaData.LastUpdatedTime not found for Entity Invoice"),
        ("select domain from Invoice", 4001, "QueryValidationError: Property domain not found for Entity Invoice"),
        ("select Id, * from Invoice", 4000, None),
        ("select from Invoice", 4000, None),
        ("select Id Balance from Invoice", 4000, None),
    ],
)
def test_property_lists_qbo_refuses(client: QboClient, sql: str, code: int, detail: str | None) -> None:
    refused = _refused(lambda: client.qb.query(sql))
    assert refused.error_code == code
    if detail is not None:
        assert (refused.message, refused.detail) == ("Invalid query", detail)


def test_the_fields_sandbox_treats_as_dates_and_addresses_are_the_xsds(xsd_checker: XsdChecker) -> None:
    types: Any = xsd_checker.schema.maps.types
    for name, fields in FIELDS.items():
        if name == "Line":
            continue
        elements = list(types[NS + name].content.iter_elements())
        dates = {e.local_name for e in elements
                 if getattr(getattr(e.type, "primitive_type", None), "local_name", "") == "date"}
        addresses = {e.local_name for e in elements if getattr(e.type, "local_name", "") == "PhysicalAddress"}
        assert dates == DATE_FIELDS & fields, name
        assert addresses == ADDRESS_FIELDS & fields, name


# --- QBO's fault codes and texts ----------------------------------------------------------------------------------


def test_an_unknown_entity_is_an_invalid_context_declaration(client: QboClient) -> None:
    refused = _refused(lambda: client.qb.query("SELECT * FROM Widget"))
    assert (refused.error_code, refused.message, refused.detail) == (
        4001, "Invalid query", "QueryValidationError: invalid context declaration: Widget")
    cdc = _refused(lambda: client.qb.change_data_capture("Invoice,Widget", "2024-06-01"))
    assert cdc.error_code == 4001 and "invalid context declaration: Widget" in cdc.detail


def test_an_unknown_property_is_not_found_for_the_entity_even_with_no_rows(client: QboClient) -> None:
    where = _refused(lambda: client.qb.query("SELECT * FROM Invoice WHERE Colour = 'blue'"))
    assert where.detail == "QueryValidationError: Property Colour not found for Entity Invoice"
    assert not client.sandbox.ledger.books(client.realm_id).records["CreditMemo"], "no credit memo yet"
    order = _refused(lambda: client.qb.query("SELECT * FROM CreditMemo ORDERBY Colour"))
    assert order.detail == "QueryValidationError: Property Colour not found for Entity CreditMemo"


@pytest.mark.parametrize("bad_id", ["abc", "12.5", "-3", "1e3", "4 2", "٣"])
def test_an_id_that_is_not_a_number_is_2030_invalid_id(client: QboClient, bad_id: str) -> None:
    read = _refused(lambda: Invoice.get(bad_id, qb=client.qb))
    assert (read.error_code, read.message) == (2030, "Invalid ID") and bad_id.strip() in read.detail
    for operation in ({}, {"operation": "delete"}, {"operation": "void"}):
        answer = _raw(client, "invoice", {"Id": bad_id, "SyncToken": "0", "sparse": True, "PrivateNote": "x"},
                      **operation)
        assert answer.status_code == 400
        assert answer.json()["Fault"]["Error"][0]["code"] == "2030", operation


def test_a_missing_object_is_610_in_qbos_words(client: QboClient) -> None:
    missing = _refused(lambda: Invoice.get("987654", qb=client.qb), ObjectNotFoundException)
    assert (missing.error_code, missing.message) == (610, "Object Not Found")
    assert missing.detail == INACTIVE_DETAIL.format("Object Not Found")
    assert "987654" not in missing.detail, "QBO does not say which"


def test_a_reference_to_nothing_or_to_something_inactive_is_2500_in_qbos_words(client: QboClient) -> None:
    expected = (
        "Invalid Reference Id : Something you're trying to use has been made inactive. "
        "Check the fields with accounts, customers, items, vendors or employees."
    )
    nobody = _refused(lambda: new_invoice("987654", 10.0).save(qb=client.qb))
    assert (nobody.error_code, nobody.message, nobody.detail) == (2500, "Invalid Reference Id", expected)
    customer = fresh_customer(client, "Soon Inactive Ltd")
    client.sandbox.ledger.update_entity(client.realm_id, "Customer", customer, Active=False)
    inactive = _refused(lambda: new_invoice(customer, 10.0).save(qb=client.qb))
    assert (inactive.error_code, inactive.detail) == (2500, expected)


def test_closed_books_and_deposited_payments_in_qbos_words(client: QboClient) -> None:
    qb, sb = client.qb, client.sandbox
    invoice = new_invoice(home_customer(client), 40.0).save(qb=qb)
    payment = new_payment(invoice, 40.0).save(qb=qb)
    answer = _raw(client, "deposit", {
        "DepositToAccountRef": {"value": role(client, "bank")},
        "Line": [{"Amount": 40.0, "LinkedTxn": [{"TxnId": payment.Id, "TxnType": "Payment", "TxnLineId": "0"}]}],
    })
    assert answer.status_code == 200, answer.text
    deposited = _refused(lambda: Payment.get(payment.Id, qb=qb).void(qb=qb), QuickbooksException)
    assert (deposited.error_code, deposited.message, deposited.detail) == (
        6540, "Deposited Transaction cannot be changed",
        "This transaction has been deposited. If you want to change or delete it, you must first edit the "
        "deposit it appears on and remove it.")

    sb.close_books(client.realm_id, sb.today(client.realm_id))
    closed = _refused(lambda: new_invoice(home_customer(client), 5.0).save(qb=qb), QuickbooksException)
    assert (closed.error_code, closed.message, closed.detail) == (
        6200, "Account Period Closed",
        "The account period has closed and the account books cannot be updated through the QBO Services API. "
        "Please use the QBO website to make these changes.")


# --- home-currency amounts ------------------------------------------------------------------------------------


def _home(raw: dict[str, Any]) -> tuple[Decimal, ...]:
    return tuple(Decimal(str(raw[k])) for k in ("TotalAmt", "HomeTotalAmt", "Balance", "HomeBalance"))


def test_home_currency_invoices_carry_home_amounts_once_multicurrency_is_on(client: QboClient) -> None:
    qb = client.qb
    assert client.sandbox.realms[0].multicurrency
    invoice = new_invoice(home_customer(client), 100.0).save(qb=qb)
    raw = qb.get(client.url(f"invoice/{invoice.Id}"))["Invoice"]
    assert (raw["ExchangeRate"], _home(raw)) == (1, (100, 100, 100, 100))
    new_payment(invoice, 30.0).save(qb=qb)
    assert _home(qb.get(client.url(f"invoice/{invoice.Id}"))["Invoice"]) == (100, 100, 70, 70)
    Invoice.get(invoice.Id, qb=qb).void(qb=qb)
    assert _home(qb.get(client.url(f"invoice/{invoice.Id}"))["Invoice"]) == (0, 0, 0, 0)


def test_foreign_invoices_and_credit_memos_follow_their_payments_at_their_own_rate(client: QboClient) -> None:
    qb = client.qb
    customer = fresh_customer(client, "Maple Home Amounts", currency="CAD")
    invoice = new_invoice(customer, 100.0)
    invoice.ExchangeRate = 0.75
    invoice = invoice.save(qb=qb)
    memo = new_credit_memo(customer, 20.0)
    memo.ExchangeRate = 0.75
    memo = memo.save(qb=qb)
    raw_memo = qb.get(client.url(f"creditmemo/{memo.Id}"))["CreditMemo"]
    assert _home(raw_memo) == (20, 15, 20, 15)

    payment = paying_with_credit(invoice, memo, applied=60.0, credit=20.0, total=40.0)
    payment.ExchangeRate = 0.74  # the payment's own rate: the invoice's open balance stays at 0.75
    saved = payment.save(qb=qb)
    assert _home(qb.get(client.url(f"invoice/{invoice.Id}"))["Invoice"]) == (100, 75, 40, 30)
    assert _home(qb.get(client.url(f"creditmemo/{memo.Id}"))["CreditMemo"]) == (20, 15, 0, 0)
    raw_payment = qb.get(client.url(f"payment/{saved.Id}"))["Payment"]
    assert raw_payment["ExchangeRate"] == 0.74
    assert "HomeTotalAmt" not in raw_payment and "HomeBalance" not in raw_payment, "the XSD's Payment has none"

    rows = qb.query(f"select Id, HomeBalance, HomeTotalAmt from Invoice where Id = '{invoice.Id}'")
    assert rows["QueryResponse"]["Invoice"][0] == {"domain": "QBO", "sparse": True, "Id": invoice.Id,
                                                   "HomeBalance": 30, "HomeTotalAmt": 75}
    assert [i.Id for i in Invoice.where(f"HomeBalance = '30' AND Id = '{invoice.Id}'", qb=qb)] == [invoice.Id]


def test_deposits_carry_a_home_total_once_multicurrency_is_on(client: QboClient) -> None:
    invoice = new_invoice(home_customer(client), 12.0).save(qb=client.qb)
    payment = new_payment(invoice, 12.0).save(qb=client.qb)
    answer = _raw(client, "deposit", {
        "DepositToAccountRef": {"value": role(client, "bank")},
        "Line": [{"Amount": 12.0, "LinkedTxn": [{"TxnId": payment.Id, "TxnType": "Payment", "TxnLineId": "0"}]}],
    }).json()["Deposit"]
    assert (answer["TotalAmt"], answer["HomeTotalAmt"], answer["ExchangeRate"]) == (12, 12, 1)


def test_a_company_without_multicurrency_has_no_home_amounts(make_sandbox: Callable[..., QuickBooksSandbox]) -> None:
    sb = make_sandbox(realms=4, invoices_per_realm=5)
    gb = sb.realms[3]
    assert (gb.currency, gb.multicurrency) == ("GBP", False)
    client = connect(sb, gb.realm_id)
    books = sb.ledger.books(gb.realm_id)
    customer = next(iter(books.records["Customer"]))
    invoice = new_invoice(customer, 50.0).save(qb=client.qb)
    raw = client.qb.get(client.url(f"invoice/{invoice.Id}"))["Invoice"]
    assert not {"ExchangeRate", "HomeTotalAmt", "HomeBalance"} & set(raw)
    seeded = [document(books, r) for r in books.records["Invoice"].values()]
    assert seeded and not any("HomeBalance" in d for d in seeded)


def test_seeded_sales_forms_carry_home_amounts_in_multicurrency_companies(client: QboClient) -> None:
    books = client.sandbox.ledger.books(client.realm_id)
    for record in books.records["Invoice"].values():
        doc, rate = record.doc, record.doc["ExchangeRate"]
        assert doc["HomeTotalAmt"] == (doc["TotalAmt"] * rate).quantize(Decimal("0.01")), record.id
        assert doc["HomeBalance"] == (doc["Balance"] * rate).quantize(Decimal("0.01")), record.id


# --- strict dates ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [
        ("TxnDate", "2024/06/03"),
        ("TxnDate", "06/03/2024"),
        ("TxnDate", "2024-6-3"),
        ("TxnDate", "2024-06-03T10:00:00"),
        ("TxnDate", "2024-06-03 10:00"),
        ("DueDate", "2024-02-30"),
        ("DueDate", "2024-13-01"),
        ("DueDate", " 2024-06-03"),
        ("DueDate", 20240603),
        ("ShipDate", "tomorrow"),
    ],
)
def test_an_invoice_date_that_is_not_yyyy_mm_dd_is_refused(client: QboClient, field: str, value: Any) -> None:
    count = len(client.sandbox.ledger.books(client.realm_id).records["Invoice"])
    body = {"CustomerRef": {"value": home_customer(client)}, field: value,
            "Line": [{"Amount": 10, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {}}]}
    answer = _raw(client, "invoice", body)
    assert answer.status_code == 400, answer.text
    error = answer.json()["Fault"]["Error"][0]
    assert (error["code"], error["Message"], error["element"]) == (
        "2010", "Request has invalid or unsupported property", field)
    assert f"'{value}'" in error["Detail"]
    assert len(client.sandbox.ledger.books(client.realm_id).records["Invoice"]) == count, "nothing was written"


def test_dates_are_strict_on_every_entity_and_on_updates(client: QboClient) -> None:
    qb, sb = client.qb, client.sandbox
    today = sb.today(client.realm_id)
    invoice = new_invoice(home_customer(client), 10.0)
    invoice.TxnDate = today.isoformat()
    invoice.DueDate = (today + timedelta(days=9)).isoformat()
    invoice = invoice.save(qb=qb)
    assert (invoice.TxnDate, invoice.DueDate) == (today.isoformat(), (today + timedelta(days=9)).isoformat())

    edit = Invoice.get(invoice.Id, qb=qb)
    edit.DueDate = "next week"
    refused = _refused(lambda: edit.save(qb=qb))
    assert refused.error_code == 2010 and "'next week'" in refused.detail
    assert Invoice.get(invoice.Id, qb=qb).SyncToken == invoice.SyncToken

    payment = new_payment(invoice, 10.0)
    payment.TxnDate = f"{today.month}/{today.day}/{today.year}"
    assert _refused(lambda: payment.save(qb=qb)).error_code == 2010
    memo = new_credit_memo(home_customer(client), 5.0)
    memo.TxnDate = today.isoformat() + "T00:00:00Z"
    assert _refused(lambda: memo.save(qb=qb)).error_code == 2010
    customer = Customer()
    customer.DisplayName = "Dated Opening Ltd"
    customer.OpenBalanceDate = "2024-02-31"
    assert _refused(lambda: customer.save(qb=qb)).error_code == 2010
    deposit = _raw(client, "deposit", {"DepositToAccountRef": {"value": role(client, "bank")}, "TxnDate": "20240603",
                                       "Line": []})
    assert deposit.json()["Fault"]["Error"][0]["code"] == "2010"

    blank = new_invoice(home_customer(client), 10.0)  # the SDK's own default: TxnDate "", DueDate ""
    assert (blank.TxnDate, blank.DueDate) == ("", "")
    assert blank.save(qb=qb).TxnDate == today.isoformat()


def test_a_bad_date_inside_a_batch_is_that_items_fault(client: QboClient) -> None:
    good = new_invoice(home_customer(client), 10.0)
    bad = new_invoice(home_customer(client), 11.0)
    bad.TxnDate = "03.06.2024"
    result = batch_create([good, bad], qb=client.qb)
    assert len(result.successes) == 1 and len(result.faults) == 1
    assert result.faults[0].Error[0].code == "2010"


@pytest.mark.parametrize(
    "where",
    [
        "TxnDate >= '2024/06/03'",
        "DueDate < '2024-13-01'",
        "TxnDate = '2024-06-03T00:00:00'",
        "TxnDate IN ('2024-06-03', 'yesterday')",
        "DueDate > 20240603",
        "MetaData.LastUpdatedTime > '2024-06-03 10:00:00'",
        "MetaData.LastUpdatedTime > '2024-06-03T10:00:00.123456-07:00'",
        "MetaData.LastUpdatedTime > '2024-06-31T10:00:00Z'",
        "MetaData.LastUpdatedTime > '2024-06-03T25:00:00Z'",
        "MetaData.CreateTime < 'last week'",
        "MetaData.LastUpdatedTime > '2024-06-03T10:00:00+2500'",
    ],
)
def test_a_date_or_stamp_literal_qbo_would_not_read_is_refused(client: QboClient, where: str) -> None:
    assert not client.sandbox.ledger.books(client.realm_id).records["CreditMemo"]
    for entity in ("Invoice", "CreditMemo"):  # refused whether or not there are rows to compare with
        refused = _refused(lambda entity=entity: client.qb.query(f"SELECT * FROM {entity} WHERE {where}"))
        assert refused.error_code == 4001, (entity, refused.detail)
    count = _refused(lambda: client.qb.query(f"SELECT COUNT(*) FROM Invoice WHERE {where}"))
    assert count.error_code == 4001


@pytest.mark.parametrize(
    "literal",
    ["{day}", "{day}T{time}", "{day}T{time}Z", "{day}T{time}-08:00", "{day}T{time}-0800", "{day}T{time}.250-08:00",
     "{day}T{hm}-08:00"],
)
def test_the_forms_qbo_reads_are_read(client: QboClient, literal: str) -> None:
    books = client.sandbox.ledger.books(client.realm_id)
    now = client.sandbox.clock.now().astimezone(books.company.tz) - timedelta(days=3)
    value = literal.format(day=now.strftime("%Y-%m-%d"), time=now.strftime("%H:%M:%S"), hm=now.strftime("%H:%M"))
    found = Invoice.where(f"MetaData.LastUpdatedTime >= '{value}'", max_results=1000, qb=client.qb)
    assert found, value
    day = now.strftime("%Y-%m-%d")
    dated = Invoice.where(f"TxnDate >= '{day}'", max_results=1000, qb=client.qb)
    assert len(dated) == sum(1 for r in books.records["Invoice"].values() if r.doc["TxnDate"] >= day)


def test_cdc_refuses_days_and_times_that_do_not_exist(client: QboClient) -> None:
    year = client.sandbox.clock.now().year
    for since in (f"{year}-02-30", f"{year}-01-01T24:00:00Z", f"{year}-01-01T10:61"):
        refused = _refused(lambda since=since: client.qb.change_data_capture("Invoice", since))
        assert refused.error_code == 4001 and "changedSince" in refused.detail, since
