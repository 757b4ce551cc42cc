"""--data FILE: the books (and the OAuth state) survive a restart."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import requests
from xero_python.accounting import Account, Invoice, Payment, Payments

from tests.sandbox.xero.conftest import MakeSandbox, XeroFor


def test_state_survives_a_restart(tmp_path: Path, make_sandbox: MakeSandbox, xero_for: XeroFor) -> None:
    data = tmp_path / "xero.json"
    first = make_sandbox(data=data, autosave_seconds=0)
    xero = xero_for(first)
    tenant = first.ledger.tenants[xero.tenant_id]
    inv = next(
        i
        for i in tenant.invoices.values()
        if i.status == "AUTHORISED" and i.amount_paid == 0 and i.amount_credited == 0 and i.type == "ACCREC"
    )
    made = xero.accounting.create_payments(
        xero.tenant_id,
        Payments(
            payments=[
                Payment(
                    invoice=Invoice(invoice_id=inv.id),
                    account=Account(code="090"),
                    amount=Decimal("7.00"),
                    date=date(2024, 6, 1),
                )
            ]
        ),
    ).payments[0]
    xero.force_refresh_next_call()
    xero.accounting.get_organisations(xero.tenant_id)  # rotate the refresh token before the restart
    refresh_token = xero.token["refresh_token"]
    first.stop()
    assert data.exists()

    second = make_sandbox(data=data, seed=999, autosave_seconds=0)  # the file wins over the seed
    assert second.tenant_ids == first.tenant_ids
    assert second.client_id == first.client_id
    again = xero_for(second, xero.token | {"scope": " ".join(xero.token["scope"])})
    invoice = again.accounting.get_invoice(again.tenant_id, inv.id).invoices[0]
    assert invoice.amount_paid == Decimal("7.00")
    assert [p.payment_id for p in invoice.payments] == [made.payment_id]
    response = requests.post(
        second.token_url,
        timeout=5,
        data={
            "grant_type": "refresh_token",
            "refresh_token": refresh_token,
            "client_id": second.client_id,
            "client_secret": second.client_secret,
        },
    )
    assert response.status_code == 200  # the rotated refresh token was saved too


def test_autosave_writes_changes(tmp_path: Path, make_sandbox: MakeSandbox) -> None:
    import time

    data = tmp_path / "auto.json"
    sb = make_sandbox(data=data, autosave_seconds=0.05)
    tenant_id = sb.tenant_ids[0]
    sb.save()
    saved = data.stat().st_mtime_ns
    sb.ledger.create_invoice(tenant_id, contact_name="Autosave Ltd", amount="1.00")
    deadline = time.monotonic() + 300  # a bound for a broken autosave, not a measurement
    while data.stat().st_mtime_ns == saved and time.monotonic() < deadline:
        time.sleep(0.02)
    assert data.stat().st_mtime_ns != saved
    assert b"Autosave Ltd" in data.read_bytes()
