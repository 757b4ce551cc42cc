"""History notes as Xero takes them, through xero-python over HTTP (issue 15: the connector's
ledger notes): 250 characters of Details at most, a longer one is a 400 ValidationException that
writes nothing; a repeated Idempotency-Key is answered from the first note; a removed bank
transfer (a person's "Remove transfer", which the API cannot do) is gone with its two legs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from xero_python.accounting import HistoryRecord, HistoryRecords
from xero_python.exceptions import AccountingBadRequestException

from tests.sandbox.xero.conftest import XeroClient
from tests.sandbox.xero.test_compat_xero_python import _contact, _invoice


def _notes(xero: XeroClient, invoice_id: str) -> list[str]:
    records = xero.accounting.get_invoice_history(xero.tenant_id, invoice_id).history_records or []
    return [r.details for r in records if r.changes == "Note"]


def _put(xero: XeroClient, invoice_id: str, details: str, key: str | None = None) -> HistoryRecords:
    body = HistoryRecords(history_records=[HistoryRecord(details=details)])
    kwargs = {"idempotency_key": key} if key else {}
    return xero.accounting.create_invoice_history(xero.tenant_id, invoice_id, body, **kwargs)


def test_250_characters_are_a_note_and_251_are_a_validation_exception(xero: XeroClient) -> None:
    invoice = _invoice(xero, _contact(xero).contact_id)
    assert _put(xero, invoice.invoice_id, "a" * 250).history_records[0].details == "a" * 250
    with pytest.raises(AccountingBadRequestException) as refused:
        _put(xero, invoice.invoice_id, "b" * 251)
    assert refused.value.status == 400
    assert "ValidationException" in str(refused.value.body) and "250 characters" in str(refused.value.body)
    assert _notes(xero, invoice.invoice_id) == ["a" * 250]  # the refused note wrote nothing


def test_the_same_idempotency_key_writes_one_note(xero: XeroClient) -> None:
    invoice = _invoice(xero, _contact(xero).contact_id)
    for _ in range(2):
        _put(xero, invoice.invoice_id, "Direct debit started (cx:abcdefabcdef)", key="note-abc")
    assert _notes(xero, invoice.invoice_id) == ["Direct debit started (cx:abcdefabcdef)"]


def test_a_removed_transfer_takes_its_two_legs_with_it(xero: XeroClient) -> None:
    sb, tenant_id = xero.sandbox, xero.tenant_id
    transfer = sb.ledger.create_bank_transfer(
        tenant_id, amount=Decimal("12.00"), from_code="095", to_code="090", reference="PO-X"
    )
    legs = (transfer.from_transaction_id, transfer.to_transaction_id)
    sb.ledger.remove_bank_transfer(tenant_id, transfer.id)
    t = sb.ledger.tenant(tenant_id)
    assert transfer.id not in t.bank_transfers and not any(leg in t.bank_transactions for leg in legs)
    assert xero.accounting.get_bank_transfers(tenant_id, where='Reference=="PO-X"').bank_transfers == []
