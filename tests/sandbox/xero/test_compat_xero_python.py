"""xero-python, Xero's own SDK, runs the calls an integration usually makes against the sandbox.

Reads and writes of contacts, invoices, payments, credit notes (with allocations), bank
transactions and transfers, prepayments, batch payments, items and reference data, History and
notes, online invoices and email, each through the SDK's own models and over real HTTP. The SDK
parses every answer strictly (enums, dates, booleans), and every answer is also checked against
Xero's spec (the ``xero`` fixture's sandbox).
"""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    Allocation,
    Allocations,
    BankTransaction,
    BankTransactions,
    BankTransfer,
    BankTransfers,
    BatchPayment,
    BatchPaymentDelete,
    BatchPayments,
    Contact,
    Contacts,
    CreditNote,
    CreditNotes,
    HistoryRecord,
    HistoryRecords,
    Invoice,
    Invoices,
    Item,
    Items,
    LineAmountTypes,
    LineItem,
    Payment,
    PaymentDelete,
    Payments,
    Purchase,
    RequestEmpty,
)
from xero_python.exceptions import AccountingBadRequestException, HTTPStatusException, NotFoundException

from tests.sandbox.xero.conftest import XeroClient


def _contact(xero: XeroClient, name: str = "SDK Customer Ltd") -> Contact:
    made = Contact(name=name, email_address="ap@sdk.example.com")
    return xero.accounting.create_contacts(xero.tenant_id, Contacts(contacts=[made])).contacts[0]


def _invoice(xero: XeroClient, contact_id: str, amount: str = "100.00", status: str = "AUTHORISED") -> Invoice:
    invoice = Invoice(
        type="ACCREC",
        contact=Contact(contact_id=contact_id),
        date=date(2024, 6, 1),
        due_date=date(2024, 6, 30),
        status=status,
        line_amount_types=LineAmountTypes.NOTAX,
        line_items=[
            LineItem(description="Services", quantity=Decimal(1), unit_amount=Decimal(amount), account_code="200")
        ],
    )
    return xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[invoice])).invoices[0]


def _v(value: object) -> object:
    """An SDK enum's value (some models type a field as an enum, others as a plain str)."""
    return getattr(value, "value", value)


def _due(xero: XeroClient, invoice_id: str) -> Decimal:
    return xero.accounting.get_invoice(xero.tenant_id, invoice_id).invoices[0].amount_due


def test_organisation_and_reference_data(xero: XeroClient) -> None:
    tenant = xero.sandbox.ledger.tenant(xero.tenant_id)
    assert xero.accounting.get_organisations(xero.tenant_id).organisations[0].name == tenant.org.name
    currencies = xero.accounting.get_currencies(xero.tenant_id).currencies
    assert currencies[0].code.value == tenant.org.base_currency
    rates = xero.accounting.get_tax_rates(xero.tenant_id).tax_rates
    assert {r.tax_type for r in rates} == set(tenant.org.tax_rates)
    sales = tenant.org.sales_tax_type
    one = xero.accounting.get_tax_rate_by_tax_type(xero.tenant_id, sales).tax_rates[0]
    assert one.effective_rate == tenant.org.tax_rates[sales] * 100 and one.can_apply_to_revenue is True
    themes = xero.accounting.get_branding_themes(xero.tenant_id).branding_themes
    assert [t.name for t in themes] == ["Standard"] and themes[0].sort_order == 0
    accounts = xero.accounting.get_accounts(xero.tenant_id, where='Type=="BANK"').accounts
    assert accounts and {_v(a.type) for a in accounts} == {"BANK"}


def test_contacts_create_update_read_filter(xero: XeroClient) -> None:
    made = _contact(xero)
    changed = xero.accounting.update_or_create_contacts(
        xero.tenant_id, Contacts(contacts=[Contact(contact_id=made.contact_id, email_address="new@sdk.example.com")])
    ).contacts[0]
    assert changed.contact_id == made.contact_id and changed.email_address == "new@sdk.example.com"
    assert xero.accounting.get_contact(xero.tenant_id, made.contact_id).contacts[0].name == "SDK Customer Ltd"
    dashless = str(made.contact_id).replace("-", "")
    found = xero.accounting.get_contacts(xero.tenant_id, i_ds=[dashless]).contacts
    assert [c.contact_id for c in found] == [made.contact_id]
    named = xero.accounting.get_contacts(xero.tenant_id, where='Name.StartsWith("SDK")').contacts
    assert [c.name for c in named] == ["SDK Customer Ltd"]


def test_invoices_create_update_read_filter(xero: XeroClient) -> None:
    contact = _contact(xero)
    invoice = _invoice(xero, contact.contact_id, "40.00", status="DRAFT")
    approved = xero.accounting.update_invoice(
        xero.tenant_id, invoice.invoice_id, Invoices(invoices=[Invoice(status="AUTHORISED", reference="PO-1")])
    ).invoices[0]
    assert _v(approved.status) == "AUTHORISED" and approved.reference == "PO-1"
    braces = "{" + str(invoice.invoice_id).upper() + "}"
    by_guid = xero.accounting.get_invoices(xero.tenant_id, where=f'InvoiceID==Guid("{braces}")').invoices
    assert [i.invoice_id for i in by_guid] == [invoice.invoice_id]
    listed = xero.accounting.get_invoices(
        xero.tenant_id, contact_i_ds=[str(contact.contact_id)], statuses=["AUTHORISED"], page=1, page_size=10
    )
    assert [i.invoice_id for i in listed.invoices] == [invoice.invoice_id]
    assert listed.pagination.page_size == 10 and listed.invoices[0].line_items
    assert xero.accounting.get_invoice(xero.tenant_id, approved.invoice_number).invoices[0].total == Decimal("40.00")


def test_a_type_mismatch_in_where_is_a_bad_request(xero: XeroClient) -> None:
    with pytest.raises(AccountingBadRequestException) as refused:
        xero.accounting.get_invoices(xero.tenant_id, where='AmountDue>"0"')
    assert refused.value.status == 400 and refused.value.error_data["Type"] == "QueryParseException"


def test_payments_create_and_delete(xero: XeroClient) -> None:
    invoice = _invoice(xero, _contact(xero).contact_id, "90.00")
    payment = xero.accounting.create_payments(
        xero.tenant_id,
        Payments(
            payments=[
                Payment(
                    invoice=Invoice(invoice_id=invoice.invoice_id),
                    account=Account(code="090"),
                    date=date(2024, 6, 2),
                    amount=Decimal("90.00"),
                )
            ]
        ),
    ).payments[0]
    paid = xero.accounting.get_invoice(xero.tenant_id, invoice.invoice_id).invoices[0]
    assert _v(paid.status) == "PAID" and paid.amount_due == 0 and paid.fully_paid_on_date == date(2024, 6, 2)
    xero.accounting.delete_payment(xero.tenant_id, payment.payment_id, PaymentDelete(status="DELETED"))
    assert _due(xero, invoice.invoice_id) == Decimal("90.00")


def test_credit_note_allocation(xero: XeroClient) -> None:
    contact = _contact(xero)
    invoice = _invoice(xero, contact.contact_id, "60.00")
    note = xero.accounting.create_credit_notes(
        xero.tenant_id,
        CreditNotes(
            credit_notes=[
                CreditNote(
                    type="ACCRECCREDIT",
                    contact=Contact(contact_id=contact.contact_id),
                    date=date(2024, 6, 2),
                    status="AUTHORISED",
                    line_amount_types=LineAmountTypes.NOTAX,
                    line_items=[
                        LineItem(
                            description="Refund", quantity=Decimal(1), unit_amount=Decimal("25.00"), account_code="200"
                        )
                    ],
                )
            ]
        ),
    ).credit_notes[0]
    allocation = Allocation(
        invoice=Invoice(invoice_id=invoice.invoice_id), amount=Decimal("25.00"), date=date(2024, 6, 2)
    )
    xero.accounting.create_credit_note_allocation(
        xero.tenant_id, note.credit_note_id, Allocations(allocations=[allocation])
    )
    assert _due(xero, invoice.invoice_id) == Decimal("35.00")


def test_bank_transactions_and_transfers(xero: XeroClient) -> None:
    contact = _contact(xero)
    fee = BankTransaction(
        type="SPEND",
        contact=Contact(contact_id=contact.contact_id),
        bank_account=Account(code="095"),
        date=date(2024, 6, 3),
        line_amount_types=LineAmountTypes.NOTAX,
        line_items=[
            LineItem(description="Platform fee", quantity=Decimal(1), unit_amount=Decimal("1.75"), account_code="404")
        ],
    )
    made = xero.accounting.create_bank_transactions(xero.tenant_id, BankTransactions(bank_transactions=[fee]))
    assert made.bank_transactions[0].total == Decimal("1.75")
    transfer = BankTransfer(
        from_bank_account=Account(code="095"),
        to_bank_account=Account(code="090"),
        amount=Decimal("50.00"),
        date=date(2024, 6, 3),
    )
    done = xero.accounting.create_bank_transfer(
        xero.tenant_id, BankTransfers(bank_transfers=[transfer])
    ).bank_transfers[0]
    assert done.amount == Decimal("50.00")
    assert xero.accounting.get_bank_transfer(xero.tenant_id, done.bank_transfer_id).bank_transfers[0].amount == Decimal(
        "50.00"
    )


def test_prepayment_created_allocated_and_taken_back(xero: XeroClient) -> None:
    contact = _contact(xero)
    invoice = _invoice(xero, contact.contact_id, "100.00")
    deposit = BankTransaction(
        type="RECEIVE-PREPAYMENT",
        contact=Contact(contact_id=contact.contact_id),
        bank_account=Account(code="090"),
        date=date(2024, 6, 1),
        reference="deposit 1",
        line_amount_types=LineAmountTypes.NOTAX,
        line_items=[
            LineItem(description="Deposit", quantity=Decimal(1), unit_amount=Decimal("30.00"), account_code="200")
        ],
    )
    tx = xero.accounting.create_bank_transactions(
        xero.tenant_id, BankTransactions(bank_transactions=[deposit])
    ).bank_transactions[0]
    prepayment = xero.accounting.get_prepayment(xero.tenant_id, tx.prepayment_id).prepayments[0]
    assert _v(prepayment.type) == "RECEIVE-PREPAYMENT" and prepayment.remaining_credit == Decimal("30.00")
    assert prepayment.reference == prepayment.invoice_number  # Xero numbers it from the invoice sequence
    allocation = Allocation(
        invoice=Invoice(invoice_id=invoice.invoice_id), amount=Decimal("30.00"), date=date(2024, 6, 2)
    )
    made = xero.accounting.create_prepayment_allocations(
        xero.tenant_id, tx.prepayment_id, Allocations(allocations=[allocation])
    ).allocations[0]
    after = xero.accounting.get_invoice(xero.tenant_id, invoice.invoice_id).invoices[0]
    assert after.amount_due == Decimal("70.00") and after.amount_credited == Decimal("30.00")
    assert [p.prepayment_id for p in after.prepayments] == [tx.prepayment_id]
    assert _v(xero.accounting.get_prepayment(xero.tenant_id, tx.prepayment_id).prepayments[0].status) == "PAID"
    xero.accounting.delete_prepayment_allocations(xero.tenant_id, tx.prepayment_id, made.allocation_id)
    assert _due(xero, invoice.invoice_id) == Decimal("100.00")


def test_batch_payment_pays_several_invoices_at_once(xero: XeroClient) -> None:
    contact = _contact(xero)
    first, second = (_invoice(xero, contact.contact_id, amount) for amount in ("20.00", "30.00"))
    batch = BatchPayment(
        account=Account(code="090"),
        date=date(2024, 6, 5),
        reference="payout 7",
        payments=[
            Payment(invoice=Invoice(invoice_id=first.invoice_id), amount=Decimal("20.00")),
            Payment(invoice=Invoice(invoice_id=second.invoice_id), amount=Decimal("10.00")),
        ],
    )
    made = xero.accounting.create_batch_payment(xero.tenant_id, BatchPayments(batch_payments=[batch])).batch_payments[0]
    assert _v(made.type) == "RECBATCH" and made.total_amount == Decimal("30.00") and len(made.payments) == 2
    assert (_due(xero, first.invoice_id), _due(xero, second.invoice_id)) == (Decimal("0.00"), Decimal("20.00"))
    listed = xero.accounting.get_batch_payments(xero.tenant_id).batch_payments
    assert made.batch_payment_id in {b.batch_payment_id for b in listed}
    one_payment = made.payments[0].payment_id
    with pytest.raises(AccountingBadRequestException):  # a payment of a batch goes with the batch
        xero.accounting.delete_payment(xero.tenant_id, one_payment, PaymentDelete(status="DELETED"))
    gone = xero.accounting.delete_batch_payment(
        xero.tenant_id, BatchPaymentDelete(batch_payment_id=made.batch_payment_id, status="DELETED")
    ).batch_payments[0]
    assert _v(gone.status) == "DELETED"
    assert (_due(xero, first.invoice_id), _due(xero, second.invoice_id)) == (Decimal("20.00"), Decimal("30.00"))


def test_items_fill_in_an_invoice_line(xero: XeroClient) -> None:
    item = Item(
        code="WIDGET",
        name="Widget",
        description="A widget",
        sales_details=Purchase(unit_price=Decimal("12.3456"), account_code="200"),
    )
    made = xero.accounting.create_items(xero.tenant_id, Items(items=[item]), unitdp=4).items[0]
    assert made.sales_details.unit_price == Decimal("12.3456")
    assert xero.accounting.get_item(xero.tenant_id, "WIDGET").items[0].sales_details.unit_price == Decimal("12.35")
    line = LineItem(item_code="WIDGET", quantity=Decimal(2))
    invoice = Invoice(
        type="ACCREC",
        contact=Contact(contact_id=_contact(xero).contact_id),
        line_items=[line],
        line_amount_types=LineAmountTypes.NOTAX,
    )
    made_invoice = xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[invoice]), unitdp=4).invoices[0]
    assert made_invoice.line_items[0].description == "A widget" and made_invoice.total == Decimal("24.69")
    with pytest.raises(AccountingBadRequestException) as refused:
        unknown = Invoice(
            type="ACCREC",
            contact=Contact(contact_id=made_invoice.contact.contact_id),
            line_items=[LineItem(item_code="NOPE")],
        )
        xero.accounting.create_invoices(xero.tenant_id, Invoices(invoices=[unknown]))
    assert refused.value.reason == "Item code 'NOPE' is not valid."


def test_history_online_invoice_and_email(xero: XeroClient) -> None:
    invoice = _invoice(xero, _contact(xero).contact_id)
    added = xero.accounting.create_invoice_history(
        xero.tenant_id, invoice.invoice_id, HistoryRecords(history_records=[HistoryRecord(details="Chased by phone")])
    ).history_records[0]
    assert added.details == "Chased by phone"
    records = xero.accounting.get_invoice_history(xero.tenant_id, invoice.invoice_id).history_records
    assert [r.changes for r in records][:1] == ["Note"] and {"Created", "Approved"} <= {r.changes for r in records}
    assert all(r.user == "System Generated" for r in records)
    url = xero.accounting.get_online_invoice(xero.tenant_id, invoice.invoice_id).online_invoices[0].online_invoice_url
    assert url.startswith("https://in.xero.com/")
    xero.accounting.email_invoice(xero.tenant_id, invoice.invoice_id, RequestEmpty())
    assert xero.accounting.get_invoice(xero.tenant_id, invoice.invoice_id).invoices[0].sent_to_contact is True


def test_missing_records_and_missing_endpoints(xero: XeroClient) -> None:
    with pytest.raises(NotFoundException):
        xero.accounting.get_invoice(xero.tenant_id, str(uuid.uuid4()))
    with pytest.raises(NotFoundException):
        xero.accounting.get_invoice_history(xero.tenant_id, str(uuid.uuid4()))
    with pytest.raises(HTTPStatusException) as missing:  # a Xero endpoint the sandbox does not have
        xero.accounting.get_quotes(xero.tenant_id)
    assert missing.value.status == 501
