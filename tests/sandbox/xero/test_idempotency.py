"""Idempotency-Key: a repeat within 6 minutes replays the first answer and writes nothing."""

from __future__ import annotations

import threading
from datetime import date
from decimal import Decimal

import pytest
import requests
from xero_python.accounting import Account, Invoice, Payment, PaymentDelete, Payments
from xero_python.exceptions import AccountingBadRequestException

from tests.sandbox.xero.conftest import XeroClient


def _invoice(xero: XeroClient):
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    return next(
        i
        for i in tenant.invoices.values()
        if i.status == "AUTHORISED" and i.amount_paid == 0 and i.amount_credited == 0 and i.type == "ACCREC"
    )


def _payments(invoice_id: str, amount: str = "10.00") -> Payments:
    return Payments(
        payments=[
            Payment(
                invoice=Invoice(invoice_id=invoice_id),
                account=Account(code="090"),
                amount=Decimal(amount),
                date=date(2024, 6, 1),
            )
        ]
    )


def test_repeat_returns_the_first_response_without_writing(xero: XeroClient) -> None:
    inv = _invoice(xero)
    first = xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="sync-42")
    second = xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="sync-42")
    assert first.payments[0].payment_id == second.payments[0].payment_id
    assert len(inv.payment_ids) == 1 and inv.amount_paid == Decimal("10.00")


def test_same_key_different_body_is_400(xero: XeroClient) -> None:
    inv = _invoice(xero)
    xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="k-1")
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_payments(xero.tenant_id, _payments(inv.id, "11.00"), idempotency_key="k-1")
    assert err.value.status == 400
    assert "is already used with a different request" in err.value.error_data["Message"]
    assert len(inv.payment_ids) == 1


def test_key_expires_after_six_minutes(xero: XeroClient) -> None:
    inv = _invoice(xero)
    xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="k-2")
    xero.advance(minutes=5, seconds=59)
    xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="k-2")
    assert len(inv.payment_ids) == 1
    xero.advance(seconds=2)
    xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="k-2")
    assert len(inv.payment_ids) == 2


def test_validation_errors_replay_too(xero: XeroClient) -> None:
    inv = _invoice(xero)
    for _ in range(2):
        with pytest.raises(AccountingBadRequestException) as err:
            xero.accounting.create_payments(xero.tenant_id, _payments(inv.id, "99999.00"), idempotency_key="bad-1")
        assert err.value.reason == "Payment amount exceeds the amount outstanding on this document"


def test_keys_are_per_tenant_and_delete_is_idempotent(xero: XeroClient) -> None:
    inv = _invoice(xero)
    made = xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="del").payments[0]
    once = xero.accounting.delete_payment(
        xero.tenant_id, made.payment_id, PaymentDelete(status="DELETED"), idempotency_key="del-1"
    )
    twice = xero.accounting.delete_payment(
        xero.tenant_id, made.payment_id, PaymentDelete(status="DELETED"), idempotency_key="del-1"
    )
    assert once.payments[0].status == twice.payments[0].status == "DELETED"
    other = xero.sandbox.tenant_ids[1]
    tenant_b = xero.sandbox.ledger.tenants[other]
    inv_b = next(
        i
        for i in tenant_b.invoices.values()
        if i.status == "AUTHORISED" and i.amount_paid == 0 and i.amount_credited == 0 and i.type == "ACCREC"
    )
    xero.accounting.create_payments(other, _payments(inv_b.id), idempotency_key="del")
    assert len(inv_b.payment_ids) == 1


def test_racing_duplicates_write_once(xero: XeroClient) -> None:
    inv = _invoice(xero)
    body = {
        "Payments": [
            {
                "Invoice": {"InvoiceID": inv.id},
                "Account": {"Code": "090"},
                "Amount": 1.0,
                "Date": "/Date(1717200000000)/",
            }
        ]
    }
    headers = {
        "Authorization": f"Bearer {xero.token['access_token']}",
        "xero-tenant-id": xero.tenant_id,
        "Accept": "application/json",
        "Idempotency-Key": "race-1",
    }
    ids: list[str] = []

    def put() -> None:
        response = requests.put(xero.sandbox.accounting_url + "/Payments", json=body, headers=headers, timeout=10)
        ids.append(response.json()["Payments"][0]["PaymentID"])

    threads = [threading.Thread(target=put) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(ids)) == 1 and len(ids) == 4
    assert len(inv.payment_ids) == 1


def test_overlong_key_is_refused(xero: XeroClient) -> None:
    inv = _invoice(xero)
    with pytest.raises(AccountingBadRequestException):
        xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="k" * 129)
    assert inv.payment_ids == []


def test_a_lost_response_retried_by_urllib3_is_replayed_not_written_twice(xero: XeroClient) -> None:
    """The write happens, the connection drops, urllib3 retries the PUT with the same key."""
    inv = _invoice(xero)
    xero.sandbox.faults.add("lost=1x")
    result = xero.accounting.create_payments(xero.tenant_id, _payments(inv.id), idempotency_key="lost-1")
    assert result.payments[0].amount == Decimal("10.00")
    assert xero.sandbox.faults.hits["lost"] == 1
    assert len(inv.payment_ids) == 1

    xero.sandbox.faults.add("lost=1x")  # without a key the same retry pays twice: why keys matter
    xero.accounting.create_payments(xero.tenant_id, _payments(inv.id))
    assert len(inv.payment_ids) == 3
