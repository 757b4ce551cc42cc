"""Invoice pages are decoded by orjson (floats), yet every amount reaches the database exactly as
the ledger wrote it: through the float's shortest repr when it has at most 15 digits, and through
the page decoded again with Decimals when it has more (``InexactNumber``). Both adapters, over
HTTP with the real SDKs, a real import into the test database (SQLite, or PostgreSQL with
``CONNECTOR_TEST_DATABASE_URL``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import orjson
import pytest
from sqlalchemy import select
from xero_python.accounting import AccountingApi

from connector.ledgers import calls, quickbooks, xero
from connector.ledgers.validate import STORE_MAX_AMOUNT
from connector.sandbox.quickbooks import QuickBooksSandbox
from connector.sandbox.xero import RateLimits, XeroSandbox
from connector.store.models import QuarantinedRecord
from tests.e2e.conftest import QboWorld, make_world

SHORT = ["0.1", "1234567.89", "12.3456", "0.07"]  # at most 15 digits: exact through the float
LONG = [*SHORT, "1234567890123.4567"]  # 17 digits: the float cannot say it, the page is decoded again


def _with_decimals(data: bytes) -> Any:
    return json.loads(data, parse_float=Decimal)


def _encode(doc: Any) -> bytes:
    """JSON with every Decimal written digit for digit, as the ledger would."""

    def default(value: Any) -> Any:
        if isinstance(value, Decimal):
            return orjson.Fragment(str(value))
        raise TypeError

    return orjson.dumps(doc, default=default)


@pytest.fixture
def exact_decodes(monkeypatch: pytest.MonkeyPatch) -> list[bytes]:
    """Invoice pages the adapters decoded again with Decimals (the fallback)."""
    seen: list[bytes] = []
    real = calls.decode_json_exact

    def spy(data: Any) -> Any:
        if isinstance(data, bytes | str) and ("Invoice" in (data.decode() if isinstance(data, bytes) else data)):
            seen.append(data if isinstance(data, bytes) else data.encode())
        return real(data)

    monkeypatch.setattr(xero, "decode_json_exact", spy)
    real_loads = json.loads

    class _Json:  # quickbooks.py decodes its exact fallback with json.loads(req.text, parse_float=Decimal)
        @staticmethod
        def loads(data: Any, **kwargs: Any) -> Any:
            if kwargs.get("parse_float") is Decimal and '"Invoice"' in str(data):
                seen.append(str(data).encode())
            return real_loads(data, **kwargs)

        dumps = staticmethod(json.dumps)

    monkeypatch.setattr(quickbooks, "json", _Json)
    return seen


# --- Xero ----------------------------------------------------------------------------------------
@pytest.fixture
def xero_sb() -> Iterator[XeroSandbox]:
    with XeroSandbox(seed=11, tenants=2, invoices_per_tenant=45, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


@pytest.mark.parametrize("amounts", [SHORT, LONG], ids=["up-to-15-digits", "17-digits"])
def test_xero_amounts_reach_the_database_exactly(
    amounts: list[str], xero_sb: XeroSandbox, db_url: str, monkeypatch: pytest.MonkeyPatch, exact_decodes: list[bytes]
) -> None:
    world = make_world(xero_sb, db_url, monkeypatch)
    world.options["max_amount"] = STORE_MAX_AMOUNT
    tenant = xero_sb.ledger.tenant(world.tenant("nz"))
    chosen = [
        i.id
        for i in tenant.invoices_by_update()
        if i.type == "ACCREC" and i.status == "AUTHORISED" and not i.payment_ids and i.amount_credited == 0
    ][: len(amounts)]
    assert len(chosen) == len(amounts)
    wanted = {invoice_id: Decimal(a) for invoice_id, a in zip(chosen, amounts, strict=True)}
    real = AccountingApi.get_invoices

    def get_invoices(api: Any, tenant_id: str, **kwargs: Any) -> Any:
        response = real(api, tenant_id, **kwargs)
        doc = _with_decimals(response.data)
        for record in doc.get("Invoices") or []:
            amount = wanted.get(record.get("InvoiceID"))
            if amount is not None:
                record.update(Total=amount, SubTotal=amount, TotalTax=Decimal(0), AmountDue=amount)
                record.update(AmountPaid=Decimal(0), AmountCredited=Decimal(0), Payments=[])
        return SimpleNamespace(data=_encode(doc), headers=response.headers)

    monkeypatch.setattr(AccountingApi, "get_invoices", get_invoices)
    try:
        result = world.sync("nz")
        assert result.error is None
        stored = {i.external_id: i for i in world.invoices("nz")}
        with world.rt.sessions() as session:
            assert session.scalars(select(QuarantinedRecord)).all() == []
    finally:
        world.rt.close()
    for invoice_id, amount in wanted.items():
        row = stored[invoice_id]
        assert (row.total, row.amount_due, row.ledger_amount_due) == (amount, amount, amount), invoice_id
    # The short amounts needed no second decoding; a 17-digit one made its page decoded again.
    assert bool(exact_decodes) == (len(amounts) == len(LONG))


# --- QuickBooks ------------------------------------------------------------------------------------
@pytest.fixture
def qbo_sb(monkeypatch: pytest.MonkeyPatch) -> Iterator[QuickBooksSandbox]:
    monkeypatch.setenv("OAUTHLIB_INSECURE_TRANSPORT", "1")
    with QuickBooksSandbox(seed=5, realms=1, invoices_per_realm=45, limits=RateLimits.unlimited()) as sandbox:
        yield sandbox


@pytest.mark.parametrize("amounts", [SHORT, LONG], ids=["up-to-15-digits", "17-digits"])
def test_quickbooks_amounts_reach_the_database_exactly(
    amounts: list[str],
    qbo_sb: QuickBooksSandbox,
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    exact_decodes: list[bytes],
) -> None:
    world = QboWorld(qbo_sb, db_url, monkeypatch)
    world.options["max_amount"] = STORE_MAX_AMOUNT
    wanted: dict[str, Decimal] = {}
    real = quickbooks._Client.process_request

    def process_request(client: Any, request_type: str, url: str, *args: Any, **kwargs: Any) -> Any:
        response = real(client, request_type, url, *args, **kwargs)
        if not url.endswith("/query") or b'"Invoice"' not in response.content:
            return response
        doc = _with_decimals(response.content)
        for record in (doc.get("QueryResponse") or {}).get("Invoice") or []:
            rid = str(record.get("Id"))
            open_in_full = Decimal(record.get("Balance", -1)) == Decimal(record.get("TotalAmt", -2)) > 0
            if rid not in wanted and len(wanted) < len(amounts) and not record.get("LinkedTxn") and open_in_full:
                wanted[rid] = Decimal(amounts[len(wanted)])
            if rid in wanted:
                record.update(TotalAmt=wanted[rid], Balance=wanted[rid])
        response._content = _encode(doc)
        return response

    monkeypatch.setattr(quickbooks._Client, "process_request", process_request)
    try:
        result = world.sync()
        assert result.error is None
        stored = world.invoices()
        with world.rt.sessions() as session:
            assert session.scalars(select(QuarantinedRecord)).all() == []
    finally:
        world.rt.close()
    assert len(wanted) == len(amounts)
    for invoice_id, amount in wanted.items():
        row = stored[invoice_id]
        assert (row.total, row.amount_due, row.ledger_amount_due) == (amount, amount, amount), invoice_id
    assert bool(exact_decodes) == (len(amounts) == len(LONG))


def test_a_quarantined_record_is_kept_as_the_ledger_wrote_it() -> None:
    """A page with a record the store refuses is read again with Decimals: what support sees (the
    raw record and the reason) is what it was before orjson, ``"12.30"`` and not ``12.3``."""
    page = {
        "Invoices": [
            {
                "InvoiceID": "a",
                "InvoiceNumber": "INV-1",
                "Type": "ACCREC",
                "Status": "AUTHORISED",
                "CurrencyCode": "NZD",
                "Total": Decimal("12.30"),
                "AmountDue": Decimal("99.00"),
                "UpdatedDateUTC": "/Date(1700000000000+0000)/",
                "Contact": {"Name": "x"},
            }
        ]
    }
    body = xero._page_body(_encode(page), fast=True)
    [record] = xero._invoice_records(body, Decimal(10) ** 12)
    assert record.raw["Total"] == Decimal("12.30") and str(record.raw["Total"]) == "12.30"
    assert "99.00" in record.reason
