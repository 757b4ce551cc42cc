"""Change data capture through python-quickbooks: changes and deleted tombstones, the
30-day look-back window and the 1,000-object cap."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from quickbooks.cdc import change_data_capture
from quickbooks.exceptions import ObjectNotFoundException, ValidationException
from quickbooks.objects import Customer, Invoice, Payment

from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.quickbooks.wire import response_time
from tests.sandbox.quickbooks.conftest import QboClient, connect


def _since(sb: QuickBooksSandbox, realm_id: str, **ago: float) -> str:
    offset = sb.ledger.books(realm_id).company.utc_offset_minutes
    return response_time(sb.clock.now() - timedelta(**ago), offset)


def test_changes_and_deleted_tombstones(client: QboClient) -> None:
    sb, realm = client.sandbox, client.realm_id
    since = _since(sb, realm, seconds=1)
    sb.advance(seconds=5)
    created = sb.create_invoice(realm, amount="40.00")
    paid = sb.create_invoice(realm, amount="75.00")
    payment = sb.record_payment(realm, paid.id)
    doomed = sb.create_invoice(realm, amount="12.50")
    sb.advance(seconds=5)
    Invoice.get(doomed.id, qb=client.qb).delete(qb=client.qb)

    cdc = change_data_capture([Invoice, Payment, Customer], since, qb=client.qb)
    invoices = {i.Id: i for i in cdc.Invoice}
    assert set(invoices) == {created.id, paid.id, doomed.id}
    tombstone = invoices[doomed.id]
    assert tombstone.status == "Deleted" and tombstone.Line == [] and tombstone.MetaData.LastUpdatedTime
    assert invoices[paid.id].Balance == 0 and invoices[paid.id].LinkedTxn[0].TxnId == payment.id
    assert [p.Id for p in cdc.Payment] == [payment.id]
    assert not hasattr(cdc, "Customer"), "an entity without changes gets no attribute (SDK skips the empty item)"

    with pytest.raises(ObjectNotFoundException):
        Invoice.get(doomed.id, qb=client.qb)
    assert Invoice.filter(Id=doomed.id, qb=client.qb) == []

    raw = client.qb.change_data_capture("Invoice,Customer", since)
    responses = raw["CDCResponse"][0]["QueryResponse"]
    assert responses[1] == {} and responses[0]["maxResults"] == 3
    deleted = next(i for i in responses[0]["Invoice"] if i["Id"] == doomed.id)
    assert set(deleted) == {"domain", "status", "Id", "MetaData"}


def test_a_naive_datetime_is_company_local_time(client: QboClient) -> None:
    sb, realm = client.sandbox, client.realm_id
    sb.advance(minutes=10)
    invoice = sb.create_invoice(realm, amount="10.00")
    local_now = sb.clock.now().astimezone(sb.ledger.books(realm).company.tz).replace(tzinfo=None)
    cdc = change_data_capture([Invoice], local_now - timedelta(seconds=1), qb=client.qb)
    assert [i.Id for i in cdc.Invoice] == [invoice.id]
    assert not hasattr(change_data_capture([Invoice], local_now + timedelta(seconds=1), qb=client.qb), "Invoice")


def test_the_look_back_window_is_thirty_days(client: QboClient) -> None:
    sb, realm = client.sandbox, client.realm_id
    within = change_data_capture([Invoice], _since(sb, realm, days=29, hours=23), qb=client.qb)
    assert len(within.Invoice) > 0
    with pytest.raises(ValidationException) as too_old:
        change_data_capture([Invoice], _since(sb, realm, days=30, seconds=1), qb=client.qb)
    assert too_old.value.error_code == 4001 and "30 days" in too_old.value.detail


def test_a_response_holds_at_most_1000_objects_oldest_first(make_sandbox: Callable[..., Any]) -> None:
    sb: QuickBooksSandbox = make_sandbox(realms=1, invoices_per_realm=5)
    client = connect(sb)
    realm = client.realm_id
    since = _since(sb, realm, seconds=1)
    made = []
    for n in range(1005):
        sb.advance(seconds=1)
        made.append(sb.create_invoice(realm, amount=f"{n + 1}.00").id)
    first = change_data_capture([Invoice], since, qb=client.qb)
    assert [i.Id for i in first.Invoice] == made[:1000]
    rest = change_data_capture([Invoice], first.Invoice[-1].MetaData.LastUpdatedTime, qb=client.qb)
    assert [i.Id for i in rest.Invoice] == made[999:]


def test_entities_without_cdc_are_refused(client: QboClient) -> None:
    with pytest.raises(ValidationException):
        client.qb.change_data_capture("Invoice,TaxCode", _since(client.sandbox, client.realm_id, days=1))
