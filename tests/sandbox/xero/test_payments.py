"""Payments, deletions, credit notes and voiding through the real SDK, checked against the books."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    Allocation,
    Allocations,
    Contact,
    CreditNote,
    CreditNotes,
    Invoice,
    Invoices,
    LineAmountTypes,
    LineItem,
    Payment,
    PaymentDelete,
    Payments,
)
from xero_python.exceptions import AccountingBadRequestException

from connector.sandbox.xero.model import Invoice as LedgerInvoice
from tests.sandbox.xero.conftest import XeroClient


def _open_invoice(xero: XeroClient, currency: str | None = None) -> LedgerInvoice:
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    wanted = currency or tenant.org.base_currency
    return next(
        i
        for i in tenant.invoices.values()
        if i.type == "ACCREC"
        and i.status == "AUTHORISED"
        and i.amount_paid == 0
        and i.amount_credited == 0
        and i.currency == wanted
    )


def _pay(invoice_id: str, amount: str, code: str = "090", on: date = date(2024, 6, 2)) -> Payment:
    return Payment(
        invoice=Invoice(invoice_id=invoice_id),
        account=Account(code=code),
        amount=Decimal(amount),
        date=on,
        reference="PSP payout 1234",
    )


def test_partial_then_full_payment_then_delete(xero: XeroClient) -> None:
    inv = _open_invoice(xero)
    before = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    part = (inv.total / 4).quantize(Decimal("0.01"))

    xero.advance(seconds=5)
    first = xero.accounting.create_payments(xero.tenant_id, Payments(payments=[_pay(inv.id, str(part))])).payments[0]
    assert first.status == "AUTHORISED" and first.payment_type == "ACCRECPAYMENT" and first.amount == part
    assert first.date == date(2024, 6, 2)
    after_one = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert after_one.status == "AUTHORISED"
    assert after_one.amount_paid == part and after_one.amount_due == inv.total - part
    assert after_one.fully_paid_on_date is None
    assert after_one.updated_date_utc > before.updated_date_utc
    assert [p.payment_id for p in after_one.payments] == [first.payment_id]

    xero.advance(seconds=5)
    rest = xero.accounting.create_payments(
        xero.tenant_id, Payments(payments=[_pay(inv.id, str(inv.total - part), on=date(2024, 6, 3))])
    ).payments[0]
    paid = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert paid.status == "PAID" and paid.amount_due == 0 and paid.amount_paid == inv.total
    assert paid.fully_paid_on_date == date(2024, 6, 3)
    assert paid.updated_date_utc > after_one.updated_date_utc

    xero.advance(seconds=5)
    deleted = xero.accounting.delete_payment(xero.tenant_id, rest.payment_id, PaymentDelete(status="DELETED"))
    assert deleted.payments[0].status == "DELETED"
    reopened = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert reopened.status == "AUTHORISED" and reopened.amount_due == inv.total - part
    assert reopened.fully_paid_on_date is None
    assert reopened.updated_date_utc > paid.updated_date_utc
    assert [p.payment_id for p in reopened.payments] == [first.payment_id]
    with pytest.raises(AccountingBadRequestException):
        xero.accounting.delete_payment(xero.tenant_id, rest.payment_id, PaymentDelete(status="DELETED"))


def test_overpayment_is_refused_with_xeros_validation_shape(xero: XeroClient) -> None:
    inv = _open_invoice(xero)
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_payments(xero.tenant_id, Payments(payments=[_pay(inv.id, str(inv.total + 1))]))
    assert err.value.status == 400
    assert err.value.reason == "Payment amount exceeds the amount outstanding on this document"
    data = err.value.error_data
    assert data["ErrorNumber"] == 10 and data["Type"] == "ValidationException"
    assert data["Message"] == "A validation exception occurred"
    assert data["Elements"][0]["Invoice"]["InvoiceID"] == inv.id
    assert inv.amount_paid == 0 and not inv.payment_ids


def test_summarize_errors_false_mixes_ok_and_error_elements(xero: XeroClient) -> None:
    good, bad = _open_invoice(xero), None
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    bad = next(i for i in tenant.invoices.values() if i.status == "DRAFT")
    result = xero.accounting.create_payments(
        xero.tenant_id,
        Payments(payments=[_pay(good.id, "1.00"), _pay(bad.id, "1.00")]),
        summarize_errors=False,
    )
    ok, failed = result.payments
    assert ok.status_attribute_string == "OK" and ok.payment_id
    assert failed.status_attribute_string == "ERROR"
    assert failed.validation_errors[0].message == "Payments can only be made against Authorised documents"
    assert good.amount_paid == Decimal("1.00") and bad.amount_paid == 0


def test_summarized_batch_is_all_or_nothing(xero: XeroClient) -> None:
    inv = _open_invoice(xero)
    half = (inv.total / 2).quantize(Decimal("0.01"))
    batch = Payments(payments=[_pay(inv.id, str(half)), _pay(inv.id, str(half)), _pay(inv.id, str(half))])
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_payments(xero.tenant_id, batch)
    elements = err.value.error_data["Elements"]
    assert len(elements) == 3 and "ValidationErrors" not in elements[0] and "ValidationErrors" in elements[2]
    assert inv.amount_paid == 0 and not inv.payment_ids


def test_single_payment_by_invoice_number_and_account_id(xero: XeroClient) -> None:
    inv = _open_invoice(xero)
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    undeposited = next(a for a in tenant.accounts.values() if a.code == "120")  # payments enabled, not a bank
    payment = Payment(
        invoice=Invoice(invoice_number=inv.number),
        account=Account(account_id=undeposited.id),
        amount=Decimal("2.50"),
        date=date(2024, 6, 1),
    )
    created = xero.accounting.create_payment(xero.tenant_id, payment).payments[0]
    assert created.account.code == "120" and created.invoice.invoice_number == inv.number
    sales = Payment(
        invoice=Invoice(invoice_id=inv.id),
        account=Account(code="200"),
        amount=Decimal(1),
        date=date(2024, 6, 1),
    )
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_payment(xero.tenant_id, sales)
    assert "bank account" in err.value.reason


def test_foreign_currency_payment_keeps_the_invoice_rate(xero: XeroClient) -> None:
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    foreign = next(i for i in tenant.invoices.values() if i.currency != tenant.org.base_currency)
    other = xero.sandbox.ledger.create_invoice(
        xero.tenant_id, contact_id=foreign.contact_id, amount="100.00", currency=foreign.currency
    )
    created = xero.accounting.create_payments(xero.tenant_id, Payments(payments=[_pay(other.id, "50.00")])).payments[0]
    assert created.currency_rate == other.currency_rate != 1
    assert created.bank_amount == (Decimal("50.00") / other.currency_rate).quantize(Decimal("0.01"))


def test_voiding_an_invoice_with_payments_is_refused(xero: XeroClient) -> None:
    inv = _open_invoice(xero)
    xero.accounting.create_payments(xero.tenant_id, Payments(payments=[_pay(inv.id, "5.00")]))
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.update_invoice(xero.tenant_id, inv.id, Invoices(invoices=[Invoice(status="VOIDED")]))
    assert "payment or credit note allocated" in err.value.reason
    assert inv.status == "AUTHORISED"
    clean = _open_invoice(xero)
    voided = xero.accounting.update_invoice(xero.tenant_id, clean.id, Invoices(invoices=[Invoice(status="VOIDED")]))
    assert voided.invoices[0].status == "VOIDED" and voided.invoices[0].amount_due == clean.total
    with pytest.raises(AccountingBadRequestException):
        xero.accounting.update_invoice(xero.tenant_id, clean.id, Invoices(invoices=[Invoice(status="AUTHORISED")]))


def test_credit_note_allocation_reduces_amount_due(xero: XeroClient) -> None:
    inv = _open_invoice(xero)
    note = CreditNote(
        type="ACCRECCREDIT",
        contact=Contact(contact_id=inv.contact_id),
        status="AUTHORISED",
        date=date(2024, 6, 1),
        line_amount_types=LineAmountTypes.NOTAX,
        line_items=[LineItem(description="Refund", quantity=Decimal(1), unit_amount=inv.total, account_code="200")],
    )
    created = xero.accounting.create_credit_notes(xero.tenant_id, CreditNotes(credit_notes=[note])).credit_notes[0]
    assert created.remaining_credit == inv.total and created.status == "AUTHORISED"

    part = Decimal("10.00")
    xero.advance(seconds=2)
    allocation = xero.accounting.create_credit_note_allocation(
        xero.tenant_id,
        created.credit_note_id,
        Allocations(allocations=[Allocation(invoice=Invoice(invoice_id=inv.id), amount=part, date=date(2024, 6, 2))]),
    ).allocations[0]
    assert allocation.amount == part
    credited = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert credited.amount_credited == part and credited.amount_due == inv.total - part
    assert credited.credit_notes[0].credit_note_id == created.credit_note_id
    assert credited.credit_notes[0].applied_amount == part

    xero.accounting.create_credit_note_allocation(
        xero.tenant_id,
        created.credit_note_id,
        Allocations(
            allocations=[Allocation(invoice=Invoice(invoice_id=inv.id), amount=inv.total - part, date=date(2024, 6, 3))]
        ),
    )
    settled = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert settled.status == "PAID" and settled.fully_paid_on_date == date(2024, 6, 3)
    spent = xero.accounting.get_credit_note(xero.tenant_id, created.credit_note_id).credit_notes[0]
    assert spent.status == "PAID" and spent.remaining_credit == 0

    removed = xero.accounting.delete_credit_note_allocations(
        xero.tenant_id, created.credit_note_id, allocation.allocation_id
    )
    assert removed.is_deleted is True and removed.amount == part
    reopened = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert reopened.status == "AUTHORISED" and reopened.amount_due == part
    assert reopened.fully_paid_on_date is None
    xero.accounting.create_credit_note_allocation(
        xero.tenant_id,
        created.credit_note_id,
        Allocations(allocations=[Allocation(invoice=Invoice(invoice_id=inv.id), amount=part, date=date(2024, 6, 3))]),
    )
    with pytest.raises(AccountingBadRequestException):
        xero.accounting.create_credit_note_allocation(
            xero.tenant_id,
            created.credit_note_id,
            Allocations(
                allocations=[Allocation(invoice=Invoice(invoice_id=inv.id), amount=Decimal(1), date=date(2024, 6, 3))]
            ),
        )


def test_list_payments_and_credit_notes(xero: XeroClient) -> None:
    inv = _open_invoice(xero)
    xero.advance(minutes=5)
    since = xero.sandbox.clock.now()
    made = xero.accounting.create_payments(xero.tenant_id, Payments(payments=[_pay(inv.id, "3.00")])).payments[0]
    recent = xero.accounting.get_payments(xero.tenant_id, if_modified_since=since).payments
    assert [p.payment_id for p in recent] == [made.payment_id]
    assert recent[0].invoice.invoice_id == made.invoice.invoice_id
    one = xero.accounting.get_payment(xero.tenant_id, made.payment_id).payments[0]
    assert one.amount == Decimal("3.00") and one.is_reconciled is False
    paged = xero.accounting.get_payments(xero.tenant_id, page=1, page_size=5)
    assert paged.pagination.item_count == len(xero.sandbox.ledger.tenants[xero.tenant_id].payments)
    notes = xero.accounting.get_credit_notes(xero.tenant_id, where='Status=="AUTHORISED"').credit_notes
    assert notes and all(n.remaining_credit > 0 for n in notes)
