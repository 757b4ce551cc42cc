"""``/batch`` (at most 30 items, a Fault per failed item inside an HTTP 200, its own rate
budget) and ``?requestid=`` replay through python-quickbooks."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
from quickbooks.batch import batch_create, batch_delete, batch_update
from quickbooks.exceptions import QuickbooksException, ValidationException
from quickbooks.objects import Invoice, Payment

from connector.sandbox.common.recording import Exchange
from connector.sandbox.quickbooks import QboLimits
from tests.sandbox.quickbooks.conftest import QboClient, connect
from tests.sandbox.quickbooks.test_entities import home_customer, new_invoice, new_payment


def _statuses(client: QboClient, path_end: str) -> list[int]:
    seen: list[int] = []

    def observe(exchange: Exchange) -> None:
        if exchange.path.endswith(path_end):
            seen.append(exchange.status)

    client.sandbox.add_observer(observe)
    return seen


def test_batch_create_with_a_per_item_fault(client: QboClient) -> None:
    statuses = _statuses(client, "/batch")
    invoices = [new_invoice(home_customer(client), amount).save(qb=client.qb) for amount in (10.0, 20.0, 30.0)]
    payments = [new_payment(invoices[0], 10.0), new_payment(invoices[1], 25.0), new_payment(invoices[2], 30.0)]
    result = batch_create(payments, qb=client.qb)
    assert statuses == [200]
    assert sorted(p.TotalAmt for p in result.successes) == [10.0, 30.0]
    assert len(result.faults) == 1
    fault = result.faults[0]
    assert fault.original_object is payments[1] and fault.type == "ValidationFault"
    assert fault.Error[0].code == "6000" and "open balance" in fault.Error[0].Detail
    assert [Invoice.get(i.Id, qb=client.qb).Balance for i in invoices] == [0, 20.0, 0]


def test_batch_update_reports_stale_objects_and_batch_delete(client: QboClient) -> None:
    invoice = new_invoice(home_customer(client), 50.0).save(qb=client.qb)
    fresh = Invoice.get(invoice.Id, qb=client.qb)
    stale = Invoice.get(invoice.Id, qb=client.qb)
    fresh.PrivateNote = "first"
    stale.PrivateNote = "second"
    result = batch_update([fresh, stale], qb=client.qb)
    assert [s.PrivateNote for s in result.successes] == ["first"]
    assert result.faults[0].Error[0].code == "5010"

    current = Invoice.get(invoice.Id, qb=client.qb)
    deleted = batch_delete([current], qb=client.qb)
    assert deleted.faults == [] and len(deleted.successes) == 1


def test_raw_batch_with_query_void_and_too_many_items(client: QboClient) -> None:
    invoice = new_invoice(home_customer(client), 70.0).save(qb=client.qb)
    body = {
        "BatchItemRequest": [
            {"bId": "q1", "Query": f"select * from Invoice where Id = '{invoice.Id}'"},
            {
                "bId": "v1",
                "operation": "update",
                "optionsData": "void",
                "Invoice": {"Id": invoice.Id, "SyncToken": "0"},
            },
            {"bId": "bad", "operation": "update", "Invoice": {"Id": "999999", "SyncToken": "0"}},
            {"bId": "empty", "Query": "select * from Invoice where DocNumber = 'none'"},
        ]
    }
    answer = client.qb.batch_operation(json.dumps(body))["BatchItemResponse"]
    by_bid = {item["bId"]: item for item in answer}
    assert by_bid["q1"]["QueryResponse"]["Invoice"][0]["Id"] == invoice.Id
    assert by_bid["v1"]["Invoice"]["PrivateNote"] == "Voided"
    assert by_bid["bad"]["Fault"]["Error"][0]["code"] == "610"
    assert by_bid["empty"]["QueryResponse"] == {}

    crowd = {"BatchItemRequest": [{"bId": str(n), "Query": "select * from Invoice"} for n in range(31)]}
    with pytest.raises(ValidationException) as too_many:
        client.qb.batch_operation(json.dumps(crowd))
    assert "maximum of 30" in too_many.value.detail


def test_the_sdk_splits_long_lists_into_batches_of_thirty(client: QboClient) -> None:
    statuses = _statuses(client, "/batch")
    invoice = new_invoice(home_customer(client), 3500.0).save(qb=client.qb)
    payments = [new_payment(invoice, 100.0) for _ in range(35)]
    result = batch_create(payments, qb=client.qb)
    assert statuses == [200, 200] and len(result.successes) == 35
    assert Invoice.get(invoice.Id, qb=client.qb).Balance == 0


def test_batch_has_its_own_per_minute_budget(make_sandbox: Callable[..., Any]) -> None:
    sb = make_sandbox(limits=QboLimits(per_minute=500, concurrent=10, batch_per_minute=2))
    client = connect(sb)
    body = json.dumps({"BatchItemRequest": [{"bId": "1", "Query": "select * from Customer maxresults 1"}]})
    client.qb.batch_operation(body)
    client.qb.batch_operation(body)
    with pytest.raises(QuickbooksException) as throttled:
        client.qb.batch_operation(body)
    assert throttled.value.error_code == 10000 and "ThrottleExceeded" in throttled.value.message
    assert Invoice.all(max_results=1, qb=client.qb)  # ordinary calls still pass
    sb.advance(seconds=60)
    client.qb.batch_operation(body)


def test_requestid_replays_the_first_answer_without_writing_twice(client: QboClient) -> None:
    invoice = new_invoice(home_customer(client), 120.0).save(qb=client.qb)
    count = Payment.count(qb=client.qb)
    payment = new_payment(invoice, 120.0)
    first = payment.save(qb=client.qb, request_id="push-0001")
    payment.Id = None
    second = payment.save(qb=client.qb, request_id="push-0001")
    assert second.Id == first.Id and second.MetaData.CreateTime == first.MetaData.CreateTime
    assert Payment.count(qb=client.qb) == count + 1
    assert Invoice.get(invoice.Id, qb=client.qb).Balance == 0

    other = new_payment(invoice, 1.0)
    replayed = other.save(qb=client.qb, request_id="push-0001")  # same id, other body: still the first answer
    assert replayed.Id == first.Id and replayed.TotalAmt == 120.0


def test_requestid_replays_a_refusal_too_and_is_per_company(client: QboClient) -> None:
    invoice = new_invoice(home_customer(client), 10.0).save(qb=client.qb)
    too_much = new_payment(invoice, 20.0)
    for _ in range(2):
        with pytest.raises(QuickbooksException) as refused:
            too_much.save(qb=client.qb, request_id="push-0002")
        assert refused.value.error_code == 6000
    fixed = new_payment(invoice, 10.0)
    with pytest.raises(QuickbooksException):
        fixed.save(qb=client.qb, request_id="push-0002")
    assert fixed.save(qb=client.qb, request_id="push-0003").TotalAmt == 10.0

    url = client.url("invoice") + "?requestid=push-0002&minorversion=75"
    headers = {
        "Authorization": f"Bearer {client.auth.access_token}",
        "Content-Type": "application/json",
        "Accept": "application/json",
    }
    body = json.dumps(
        {
            "CustomerRef": {"value": home_customer(client)},
            "Line": [{"Amount": 5, "DetailType": "SalesItemLineDetail", "SalesItemLineDetail": {}}],
        }
    )
    one = requests.post(url, data=body, headers=headers, timeout=10)
    two = requests.post(url, data=body, headers=headers, timeout=10)
    assert one.status_code == 400 and one.content == two.content  # replayed from the payment's refusal

    au = connect(client.sandbox, client.sandbox.realm_ids[1])
    au_customer = next(iter(client.sandbox.ledger.books(au.realm_id).records["Customer"]))
    created = new_invoice(au_customer, 5.0).save(qb=au.qb, request_id="push-0002")
    assert created.TotalAmt == 5.0


def test_delete_with_requestid(client: QboClient) -> None:
    invoice = new_invoice(home_customer(client), 10.0).save(qb=client.qb)
    current = Invoice.get(invoice.Id, qb=client.qb)
    assert current.delete(qb=client.qb, request_id="del-1")["Invoice"]["status"] == "Deleted"
    assert current.delete(qb=client.qb, request_id="del-1")["Invoice"]["status"] == "Deleted"
    with pytest.raises(QuickbooksException):
        current.delete(qb=client.qb, request_id="del-2")
