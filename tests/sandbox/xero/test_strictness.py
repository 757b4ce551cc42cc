"""Where the sandbox is as strict as Xero: GUIDs in any .NET format, ``where`` type checks (a 400,
never a 500), Xero's page size cap, Xero's decimals, and a 501 (not a 404) for the endpoints the
sandbox does not have."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import requests
from xero_python.accounting import Contact, Invoice, Invoices, LineAmountTypes, LineItem
from xero_python.exceptions import AccountingBadRequestException

from connector.sandbox.xero import FakeClock, Ledger, LineInput, XeroSandbox
from connector.sandbox.xero.store import dump_ledger, load_ledger
from tests.sandbox.xero.conftest import XeroClient
from tests.sandbox.xero.kit import open_invoice


def _get(sb: XeroSandbox, path: str, **params: str) -> requests.Response:
    token = sb.issue_tokens()["access_token"]
    headers = {"Authorization": f"Bearer {token}", "xero-tenant-id": sb.tenant_ids[0], "Accept": "application/json"}
    return requests.get(sb.accounting_url + path, params=params, headers=headers, timeout=10)


def _forms(guid: str) -> list[str]:
    """One id in .NET's N, D, B and P formats, upper and lower case."""
    n = guid.replace("-", "")
    return [n, n.upper(), guid, guid.upper(), "{" + guid + "}", "(" + guid.upper() + ")"]


def test_ids_in_any_guid_format(sandbox: XeroSandbox) -> None:
    inv = open_invoice(sandbox, "10.00")
    for form in _forms(inv.id):
        assert [i["InvoiceID"] for i in _get(sandbox, "/Invoices", IDs=form).json()["Invoices"]] == [inv.id], form
        assert [
            i["InvoiceID"] for i in _get(sandbox, "/Invoices", where=f'InvoiceID==Guid("{form}")').json()["Invoices"]
        ] == [inv.id]
        assert _get(sandbox, f"/Invoices/{form}").json()["Invoices"][0]["InvoiceID"] == inv.id
        by_contact = _get(sandbox, "/Invoices", ContactIDs=_forms(inv.contact_id)[_forms(inv.id).index(form)])
        assert inv.id in {i["InvoiceID"] for i in by_contact.json()["Invoices"]}
    assert [
        c["ContactID"] for c in _get(sandbox, "/Contacts", IDs=inv.contact_id.replace("-", "")).json()["Contacts"]
    ] == [inv.contact_id]


@pytest.mark.parametrize(
    "where",
    [
        'AmountDue>"0"',  # a number field against text
        'Total=="100.00"',
        "Status==1",  # text against a number
        'InvoiceID=="0ee5fc8b-2d61-4c9a-8c49-2ea2a6c7a9d0"',  # an id against text, not Guid("…")
        'Date>"2024-01-01"',
        "SentToContact>true",
        'AmountDue.Contains("1")',
        'Guid("not-a-guid")==InvoiceID',
        'InvoiceID==Guid("0ee5fc8b")',
        "Date>DateTime(2024,13,1)",
        "Date>DateTime(2024)",
        'Date>DateTime.Parse("yesterday")',
        "Total",  # a number where a condition belongs
        "(" * 200 + "Total>0" + ")" * 200,
        'Reference=="\\x"',
        "NoSuchField==1",
        "Total>>1",
        "99999999999999999999999999999999999999999999999999e",
    ],
)
def test_a_bad_where_is_a_400_query_parse_exception(sandbox: XeroSandbox, where: str) -> None:
    response = _get(sandbox, "/Invoices", where=where)
    assert response.status_code == 400, response.text
    assert response.json()["Type"] == "QueryParseException"


def test_good_wheres_still_work(sandbox: XeroSandbox) -> None:
    inv = open_invoice(sandbox, "77.00", contact="Strict Customer Ltd")
    for where in (
        "AmountDue>=77 AND AmountDue<78",
        'Contact.Name.ToLower()=="strict customer ltd"',
        'Contact.Name.ToUpper()=="STRICT CUSTOMER LTD" && Status=="AUTHORISED"',
        f'Contact.ContactID==Guid("{inv.contact_id.replace("-", "")}")',
        "Date>=DateTime(2000,1,1) AND Reference==null",
    ):
        found = {i["InvoiceID"] for i in _get(sandbox, "/Invoices", where=where).json()["Invoices"]}
        assert inv.id in found, where


def test_page_size_is_capped_at_a_thousand(sandbox: XeroSandbox) -> None:
    sandbox.add_invoices(sandbox.tenant_ids[0], 1100)
    page = _get(sandbox, "/Invoices", page="1", pageSize="5000").json()
    assert page["pagination"]["pageSize"] == 1000 and len(page["Invoices"]) == 1000
    assert _get(sandbox, "/Invoices", page="1").json()["pagination"]["pageSize"] == 100  # the default
    assert _get(sandbox, "/Invoices", page="2", pageSize="0").json()["pagination"]["pageSize"] == 1
    assert _get(sandbox, "/Invoices", page="x").status_code == 400


def _line_invoice(xero: XeroClient, unit: str, quantity: str = "3") -> Invoice:
    contact = next(iter(xero.sandbox.ledger.tenant(xero.tenant_id).contacts))
    return Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact),
        line_amount_types=LineAmountTypes.NOTAX,
        line_items=[
            LineItem(description="x", quantity=Decimal(quantity), unit_amount=Decimal(unit), account_code="200")
        ],
    )


def test_unit_amounts_keep_two_places_unless_unitdp_4(xero: XeroClient) -> None:
    two = xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[_line_invoice(xero, "0.12345")])).invoices[
        0
    ]
    assert two.line_items[0].unit_amount == Decimal("0.12") and two.total == Decimal("0.36")
    four = xero.accounting.create_invoices(
        xero.tenant_id, Invoices(invoices=[_line_invoice(xero, "0.12345", "2.00005")]), unitdp=4
    ).invoices[0]
    assert four.line_items[0].unit_amount == Decimal("0.1235")  # four places, half up
    assert four.line_items[0].quantity == Decimal("2.0001")  # quantities keep four places
    assert four.total == Decimal("0.25")  # totals always two places
    again = xero.accounting.get_invoice(xero.tenant_id, four.invoice_id).invoices[0]
    assert again.line_items[0].unit_amount == Decimal("0.12")  # written with two unless asked
    assert xero.accounting.get_invoice(xero.tenant_id, four.invoice_id, unitdp=4).invoices[0].line_items[
        0
    ].unit_amount == Decimal("0.1235")


def test_amounts_are_written_with_xeros_places(sandbox: XeroSandbox) -> None:
    inv = open_invoice(sandbox, "100")
    raw = _get(sandbox, f"/Invoices/{inv.id}").text
    assert '"Total":100.00' in raw and '"Quantity":1.0000' in raw and '"UnitAmount":100.00' in raw
    assert '"UnitAmount":100.0000' in _get(sandbox, f"/Invoices/{inv.id}", unitdp="4").text
    assert '"EffectiveRate":' in _get(sandbox, "/TaxRates").text


def test_oversized_amounts_are_refused_not_crashed_on(xero: XeroClient) -> None:
    with pytest.raises(AccountingBadRequestException) as refused:
        xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[_line_invoice(xero, "1e30")]))
    assert refused.value.reason == "UnitAmount is too large"


def test_missing_endpoint_is_501_and_missing_id_is_404(sandbox: XeroSandbox) -> None:
    for path in ("/Quotes", "/PurchaseOrders", "/Invoices/INV-0001/Attachments", "/Journals", "/Quotes/q-1/History"):
        response = _get(sandbox, path)
        assert response.status_code == 501, path
        assert "does not implement" in response.text
    assert _get(sandbox, "/Invoices/0ee5fc8b-2d61-4c9a-8c49-2ea2a6c7a9d0").status_code == 404
    assert _get(sandbox, "/NotAXeroThing").status_code == 404


def test_new_collections_survive_save_and_load(xero: XeroClient, tmp_path: Path) -> None:
    sb = xero.sandbox
    tenant_id = xero.tenant_id
    inv = open_invoice(sb, "40.00")
    sb.ledger.add_note(tenant_id, inv.id, "kept")
    tx = sb.ledger.create_prepayment(
        tenant_id,
        type="RECEIVE-PREPAYMENT",
        lines=[LineInput("d", Decimal(1), Decimal("10.00"), account_code="200")],
        bank_account_code="090",
        contact_id=inv.contact_id,
        line_amount_types="NoTax",
    )
    sb.ledger.allocate_prepayment(tenant_id, tx.prepayment_id or "", inv.id, "10.00")
    dumped = json.loads(json.dumps(dump_ledger(sb.ledger)))
    again = Ledger(FakeClock())
    load_ledger(again, dumped)
    t = again.tenant(tenant_id)
    assert t.invoices[inv.id].amount_due == Decimal("30.00")
    assert [h.details for h in t.history_of(inv.id) if h.changes == "Note"] == ["kept"]
    assert len(t.items) == 2 and t.prepayments[tx.prepayment_id or ""].remaining_credit == 0

    # A file from before these collections (and before Allocation.prepayment_id) still loads.
    older = json.loads(json.dumps(dumped))
    for name in ("prepayments", "batch_payments", "items", "history"):
        del older["fields"][name]
        for doc in older["tenants"]:
            del doc[name]
    older["fields"]["allocations"] = older["fields"]["allocations"][:-1]
    for doc in older["tenants"]:
        doc["allocations"] = [row[:-1] for row in doc["allocations"] if row[-1] is None]
    oldest = Ledger(FakeClock())
    load_ledger(oldest, older)
    assert oldest.tenant(tenant_id).items == {} and oldest.tenant(tenant_id).invoices[inv.id].total == Decimal("40.00")
