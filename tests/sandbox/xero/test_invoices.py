"""GET /Invoices and friends through the real SDK: paging, filters, If-Modified-Since, wire format."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from xero_python.accounting import Contact as SdkContact
from xero_python.accounting import Invoice, Invoices, LineItem
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from connector.sandbox.xero import XeroSandbox
from tests.sandbox.xero.conftest import XeroClient


def _all_pages(xero: XeroClient, **kwargs: object) -> list:
    out, page = [], 1
    while True:
        result = xero.accounting.get_invoices(xero.tenant_id, page=page, page_size=7, **kwargs)
        out.extend(result.invoices)
        if page >= result.pagination.page_count:
            return out
        page += 1


def test_paging_walks_every_invoice_once_in_updated_order(xero: XeroClient) -> None:
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    invoices = _all_pages(xero, order="UpdatedDateUTC ASC")
    assert len(invoices) == len(tenant.invoices)
    assert len({inv.invoice_id for inv in invoices}) == len(invoices)
    stamps = [inv.updated_date_utc for inv in invoices]
    assert stamps == sorted(stamps)
    first = xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=7)
    assert first.pagination.page == 1 and first.pagination.page_size == 7
    assert first.pagination.item_count == len(tenant.invoices)
    assert first.pagination.page_count == -(-len(tenant.invoices) // 7)
    beyond = xero.accounting.get_invoices(xero.tenant_id, page=99, page_size=7)
    assert beyond.invoices == [] and beyond.pagination.item_count == len(tenant.invoices)


def test_page_size_is_capped_at_1000(xero: XeroClient) -> None:
    result = xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=5000)
    assert result.pagination.page_size == 1000


def test_where_statuses_ids_numbers_and_contacts_filter(xero: XeroClient) -> None:
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    accrec = xero.accounting.get_invoices(xero.tenant_id, where='Type=="ACCREC"', page=1, page_size=100).invoices
    assert accrec and all(inv.type == "ACCREC" for inv in accrec)
    assert len(accrec) == sum(1 for i in tenant.invoices.values() if i.type == "ACCREC")

    both = xero.accounting.get_invoices(xero.tenant_id, where='Type=="ACCREC" AND Status=="AUTHORISED"').invoices
    assert both and {inv.status for inv in both} == {"AUTHORISED"}

    listed = xero.accounting.get_invoices(xero.tenant_id, statuses=["PAID", "VOIDED"]).invoices
    assert listed and {inv.status for inv in listed} <= {"PAID", "VOIDED"}
    assert len(listed) == sum(1 for i in tenant.invoices.values() if i.status in ("PAID", "VOIDED"))

    picked = sorted(tenant.invoices)[:3]
    by_id = xero.accounting.get_invoices(xero.tenant_id, i_ds=picked).invoices
    assert sorted(str(inv.invoice_id) for inv in by_id) == picked

    numbers = [i.number for i in tenant.invoices.values() if i.type == "ACCREC"][:2]
    by_number = xero.accounting.get_invoices(xero.tenant_id, invoice_numbers=numbers).invoices
    assert sorted(inv.invoice_number for inv in by_number) == sorted(numbers)

    contact_id = next(iter(tenant.invoices.values())).contact_id
    by_contact = xero.accounting.get_invoices(xero.tenant_id, contact_i_ds=[contact_id]).invoices
    assert by_contact and {str(inv.contact.contact_id) for inv in by_contact} == {contact_id}

    newest_first = xero.accounting.get_invoices(xero.tenant_id, order="UpdatedDateUTC DESC", page=1).invoices
    assert [i.updated_date_utc for i in newest_first] == sorted(
        (i.updated_date_utc for i in newest_first), reverse=True
    )
    by_total = xero.accounting.get_invoices(xero.tenant_id, order="Total DESC", where="AmountDue > 100").invoices
    assert [i.total for i in by_total] == sorted((i.total for i in by_total), reverse=True)
    assert all(i.amount_due > 100 for i in by_total)


def test_bad_where_is_a_400(xero: XeroClient) -> None:
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.get_invoices(xero.tenant_id, where='Colour=="red"')
    assert err.value.status == 400


def test_if_modified_since_in_iso_and_rfc1123_forms(xero: XeroClient) -> None:
    sb = xero.sandbox
    tenant = sb.ledger.tenants[xero.tenant_id]
    xero.advance(hours=1)
    cutoff = sb.clock.now().replace(microsecond=0)
    target = next(i for i in tenant.invoices.values() if i.status == "AUTHORISED" and i.amount_paid == 0)
    sb.clock.advance(seconds=1.5)
    sb.ledger.add_payment(xero.tenant_id, target.id, "1.00")

    changed = xero.accounting.get_invoices(xero.tenant_id, if_modified_since=cutoff).invoices
    assert [str(i.invoice_id) for i in changed] == [target.id]
    later = xero.accounting.get_invoices(xero.tenant_id, if_modified_since=cutoff + timedelta(seconds=2)).invoices
    assert later == []

    headers = {
        "Authorization": f"Bearer {xero.token['access_token']}",
        "xero-tenant-id": xero.tenant_id,
        "Accept": "application/json",
    }
    rfc = cutoff.strftime("%a, %d %b %Y %H:%M:%S GMT")
    response = requests.get(sb.accounting_url + "/Invoices", headers={**headers, "If-Modified-Since": rfc}, timeout=5)
    assert [i["InvoiceID"] for i in response.json()["Invoices"]] == [target.id]
    # Second precision: a fraction in the header is dropped, so the same second still matches.
    fractional = (cutoff + timedelta(seconds=1, milliseconds=999)).isoformat()
    response = requests.get(
        sb.accounting_url + "/Invoices", headers={**headers, "If-Modified-Since": fractional}, timeout=5
    )
    assert [i["InvoiceID"] for i in response.json()["Invoices"]] == [target.id]


def test_summary_only_and_unpaged_lists_drop_line_items(xero: XeroClient) -> None:
    paged = xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=3).invoices
    assert all(inv.line_items for inv in paged)
    summary = xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=3, summary_only=True).invoices
    assert all(inv.line_items is None and inv.payments is None for inv in summary)
    unpaged = xero.accounting.get_invoices(xero.tenant_id, statuses=["AUTHORISED"]).invoices
    assert unpaged and all(inv.line_items is None for inv in unpaged)
    assert all(inv.payments is not None for inv in unpaged)


def test_get_invoice_by_id_and_number_and_404(xero: XeroClient) -> None:
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    inv = next(i for i in tenant.invoices.values() if i.type == "ACCREC")
    by_id = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    by_number = xero.accounting.get_invoice(xero.tenant_id, inv.number).invoices[0]
    assert by_id.invoice_id == by_number.invoice_id
    assert by_id.total == inv.total and by_id.amount_due == inv.amount_due
    assert len(by_id.line_items) == len(inv.lines)
    with pytest.raises(NotFoundException):
        xero.accounting.get_invoice(xero.tenant_id, "5b1f3c52-0000-4000-8000-000000000000")


def test_dates_keep_the_organisations_calendar_day(xero: XeroClient) -> None:
    """+13:00 and -08:00 organisations: the SDK must read back the local calendar date."""
    for tenant_id in xero.sandbox.tenant_ids:
        tenant = xero.sandbox.ledger.tenants[tenant_id]
        result = xero.accounting.get_invoices(tenant_id, page=1, page_size=50).invoices
        for inv in result:
            mine = tenant.invoices[str(inv.invoice_id)]
            assert inv.date == mine.date and inv.due_date == mine.due_date
            if mine.fully_paid_on:
                assert inv.fully_paid_on_date == mine.fully_paid_on
    offsets = {t.utc_offset_minutes for t in xero.sandbox.tenants}
    assert offsets == {13 * 60, -8 * 60}


def test_new_invoice_uses_the_organisations_today(sandbox: XeroSandbox) -> None:
    nz = next(t for t in sandbox.tenants if t.utc_offset_minutes == 780)
    us = next(t for t in sandbox.tenants if t.utc_offset_minutes == -480)
    sandbox.clock.set(datetime(2024, 6, 30, 12, 30, tzinfo=UTC))  # 01:30 Jul 1 in NZ, 04:30 Jun 30 in LA
    assert sandbox.ledger.today(nz.tenant_id) == date(2024, 7, 1)
    assert sandbox.ledger.today(us.tenant_id) == date(2024, 6, 30)


def test_wire_format_is_xeros(xero: XeroClient) -> None:
    headers = {
        "Authorization": f"Bearer {xero.token['access_token']}",
        "xero-tenant-id": xero.tenant_id,
        "Accept": "application/json",
    }
    raw = requests.get(xero.sandbox.accounting_url + "/Invoices?page=1&pageSize=20", headers=headers, timeout=5).text
    assert "null" not in raw
    assert re.search(r'"UpdatedDateUTC":"\\/Date\(\d+\+0000\)\\/"', raw)
    assert re.search(r'"Date":"\\/Date\(\d+00000\+0000\)\\/"', raw)  # midnight UTC: whole days
    amounts = re.findall(r'"(?:AmountDue|AmountPaid|Total|SubTotal|TotalTax|LineAmount)":(-?[0-9.]+)', raw)
    assert amounts and all(re.fullmatch(r"-?\d+\.\d\d", a) for a in amounts)
    assert '"HasErrors":false' in raw and '"IsDiscounted":false' in raw
    parsed = xero.accounting.get_invoices(xero.tenant_id, page=1, page_size=20).invoices
    assert all(isinstance(i.total, Decimal) and i.total.as_tuple().exponent == -2 for i in parsed)


def test_organisation_accounts_and_contacts(xero: XeroClient) -> None:
    org = xero.accounting.get_organisations(xero.tenant_id).organisations[0]
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    assert str(org.organisation_id) == xero.tenant_id
    assert org.base_currency.value == tenant.org.base_currency
    assert org.timezone.value == "NEWZEALANDSTANDARDTIME"

    accounts = xero.accounting.get_accounts(xero.tenant_id).accounts
    codes = {a.code: a for a in accounts}
    assert {"090", "095", "200", "404", "610"} <= set(codes)
    assert codes["095"].type.value == "BANK" and codes["404"].type.value == "EXPENSE"
    banks = xero.accounting.get_accounts(xero.tenant_id, where='Type=="BANK"').accounts
    assert banks and all(a.type.value == "BANK" for a in banks)

    contacts = xero.accounting.get_contacts(xero.tenant_id).contacts
    assert len(contacts) == len(tenant.contacts)
    some = contacts[0]
    one = xero.accounting.get_contact(xero.tenant_id, some.contact_id).contacts[0]
    assert one.name == some.name
    searched = xero.accounting.get_contacts(xero.tenant_id, search_term=some.name[:6], page=1).contacts
    assert some.contact_id in {c.contact_id for c in searched}


def test_create_and_update_invoice_via_sdk(xero: XeroClient) -> None:
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    contact = next(iter(tenant.contacts.values()))
    new = Invoice(
        type="ACCREC",
        contact=SdkContact(contact_id=contact.id),
        status="AUTHORISED",
        date=date(2024, 6, 1),
        due_date=date(2024, 6, 21),
        reference="Sandbox test",
        line_items=[
            LineItem(description="Widget", quantity=Decimal("2"), unit_amount=Decimal("49.95"), account_code="200")
        ],
    )
    created = xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[new])).invoices[0]
    assert created.status == "AUTHORISED" and created.invoice_number.startswith("INV-")
    assert created.sub_total == Decimal("99.90") and created.total == Decimal("114.89")  # 15% GST
    assert created.date == date(2024, 6, 1)
    mine = xero.accounting.get_invoices(xero.tenant_id, created_by_my_app=True).invoices
    assert [i.invoice_id for i in mine] == [created.invoice_id]

    updated = xero.accounting.update_invoice(
        xero.tenant_id, created.invoice_id, Invoices(invoices=[Invoice(due_date=date(2024, 7, 1))])
    ).invoices[0]
    assert updated.due_date == date(2024, 7, 1)
    assert updated.updated_date_utc >= created.updated_date_utc

    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_invoices(
            xero.tenant_id,
            Invoices(
                invoices=[
                    Invoice(
                        type="ACCREC",
                        contact=SdkContact(contact_id=contact.id),
                        status="AUTHORISED",
                        invoice_number=created.invoice_number,
                        line_items=[
                            LineItem(
                                description="x",
                                quantity=Decimal(1),
                                unit_amount=Decimal(1),
                                account_code="200",
                            )
                        ],
                    )
                ]
            ),
        )
    assert err.value.reason == "Invoice # must be unique."
