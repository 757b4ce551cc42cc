"""Overpayments as Xero has them: created by a RECEIVE-OVERPAYMENT bank transaction, read on
/Overpayments, allocated to the same customer's invoices, refused where Xero refuses."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    Allocation,
    Allocations,
    BankTransaction,
    BankTransactions,
    Contact,
    Invoice,
    LineItem,
)
from xero_python.exceptions import AccountingBadRequestException, NotFoundException

from connector.sandbox.xero import FakeClock, Ledger
from connector.sandbox.xero.store import dump_ledger, load_ledger
from tests.sandbox.xero.conftest import XeroClient
from tests.sandbox.xero.kit import open_invoice


def overpayment(contact_id: str, amount: str, reference: str = "excess po_1", **extra: object) -> BankTransaction:
    return BankTransaction(
        type="RECEIVE-OVERPAYMENT",
        contact=Contact(contact_id=contact_id),
        bank_account=Account(code="095"),
        line_items=[LineItem(description="Collected beyond the amount due", line_amount=Decimal(amount))],
        date=date(2024, 6, 3),
        reference=reference,
        **extra,
    )


def create(xero: XeroClient, *items: BankTransaction, summarize: bool = True) -> list[BankTransaction]:
    kwargs = {} if summarize else {"summarize_errors": False}
    return xero.accounting.create_bank_transactions(
        xero.tenant_id, BankTransactions(bank_transactions=list(items)), **kwargs
    ).bank_transactions


def allocate(xero: XeroClient, overpayment_id: str, invoice_id: str, amount: str, **kwargs: object) -> list[Allocation]:
    allocation = Allocation(invoice=Invoice(invoice_id=invoice_id), amount=Decimal(amount), date=date(2024, 6, 4))
    return xero.accounting.create_overpayment_allocations(
        xero.tenant_id, overpayment_id, Allocations(allocations=[allocation]), **kwargs
    ).allocations


def test_receive_overpayment_creates_an_overpayment(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "100.00")
    tx = create(xero, overpayment(inv.contact_id, "25.00"))[0]
    assert tx.type == "RECEIVE-OVERPAYMENT" and tx.total == Decimal("25.00") and tx.total_tax == 0
    assert tx.overpayment_id and tx.overpayment_id != tx.bank_transaction_id  # two ids, as in Xero
    assert tx.bank_account.code == "095" and tx.line_items[0].account_code == "610"  # coded to receivables

    one = xero.accounting.get_overpayment(xero.tenant_id, tx.overpayment_id).overpayments[0]
    assert one.remaining_credit == Decimal("25.00") and one.total == Decimal("25.00")
    assert one.status == "AUTHORISED" and one.reference == "excess po_1" and one.allocations == []
    assert str(one.contact.contact_id) == inv.contact_id and one.type == "RECEIVE-OVERPAYMENT"

    by_reference = xero.accounting.get_overpayments(xero.tenant_id, references=["excess po_1"]).overpayments
    assert [o.overpayment_id for o in by_reference] == [tx.overpayment_id]
    assert xero.accounting.get_overpayments(xero.tenant_id, references=["nothing"]).overpayments == []
    listed = xero.accounting.get_bank_transactions(xero.tenant_id, where='Type=="RECEIVE-OVERPAYMENT"')
    assert [t.overpayment_id for t in listed.bank_transactions] == [tx.overpayment_id]


def test_allocating_lowers_amount_due_and_raises_amount_credited(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "30.00")
    overpayment_id = create(xero, overpayment(inv.contact_id, "50.00"))[0].overpayment_id
    made = allocate(xero, overpayment_id, inv.id, "10.00")[0]
    assert made.amount == Decimal("10.00") and str(made.invoice.invoice_id) == inv.id

    invoice = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert invoice.amount_due == Decimal("20.00") and invoice.amount_credited == Decimal("10.00")
    assert invoice.status == "AUTHORISED"
    assert [(o.overpayment_id, o.applied_amount) for o in invoice.overpayments] == [
        (overpayment_id, Decimal("10.00"))
    ]
    assert invoice.credit_notes == []

    allocate(xero, overpayment_id, inv.id, "20.00")
    invoice = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert invoice.status == "PAID" and invoice.amount_due == 0
    op = xero.accounting.get_overpayment(xero.tenant_id, overpayment_id).overpayments[0]
    assert op.remaining_credit == Decimal("20.00") and op.status == "AUTHORISED"
    assert sorted(a.amount for a in op.allocations) == [Decimal("10.00"), Decimal("20.00")]


def test_fully_allocated_overpayment_is_paid(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "40.00")
    overpayment_id = create(xero, overpayment(inv.contact_id, "15.00"))[0].overpayment_id
    allocate(xero, overpayment_id, inv.id, "15.00")
    op = xero.accounting.get_overpayment(xero.tenant_id, overpayment_id).overpayments[0]
    assert op.status == "PAID" and op.remaining_credit == 0
    with pytest.raises(AccountingBadRequestException) as err:
        allocate(xero, overpayment_id, inv.id, "1.00")
    assert "remaining credit" in err.value.reason


def test_allocation_refusals(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "10.00")
    other = open_invoice(xero.sandbox, "10.00", contact="Somebody Else Ltd")
    overpayment_id = create(xero, overpayment(inv.contact_id, "30.00"))[0].overpayment_id
    with pytest.raises(AccountingBadRequestException) as err:
        allocate(xero, overpayment_id, inv.id, "12.00")
    assert err.value.reason == "Overpayment cannot be allocated as amount is greater than amount outstanding"
    with pytest.raises(AccountingBadRequestException) as err:
        allocate(xero, overpayment_id, other.id, "5.00")
    assert err.value.reason == "The overpayment and the invoice must be for the same contact"
    with pytest.raises(AccountingBadRequestException):
        allocate(xero, overpayment_id, inv.id, "0")
    # summarizeErrors=false: 200, the element marked ERROR, nothing applied
    refused = allocate(xero, overpayment_id, inv.id, "12.00", summarize_errors=False)[0]
    assert refused.status_attribute_string == "ERROR" and refused.validation_errors
    assert xero.sandbox.ledger.tenant(xero.tenant_id).invoices[inv.id].amount_credited == 0
    xero.sandbox.ledger.add_payment(xero.tenant_id, inv.id, "10.00")
    with pytest.raises(AccountingBadRequestException) as err:
        allocate(xero, overpayment_id, inv.id, "1.00")
    assert err.value.reason == "The invoice you are trying to allocate to has already been paid off"


def test_overpayment_creation_refusals_are_element_errors(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "10.00")
    two_lines = overpayment(inv.contact_id, "5.00", reference="two lines")
    two_lines.line_items.append(LineItem(description="more", line_amount=Decimal("1.00")))
    zero = overpayment(inv.contact_id, "0.00", reference="zero")
    good = overpayment(inv.contact_id, "3.00", reference="good")
    out = create(xero, two_lines, zero, good, summarize=False)
    assert [t.status_attribute_string for t in out] == ["ERROR", "ERROR", "OK"]
    assert "one line item" in out[0].validation_errors[0].message
    assert "greater than zero" in out[1].validation_errors[0].message
    assert len(xero.sandbox.ledger.tenant(xero.tenant_id).overpayments) == 1
    # summarizeErrors=true: one refused element rolls the whole request back
    with pytest.raises(AccountingBadRequestException):
        create(xero, overpayment(inv.contact_id, "4.00", reference="rolled back"), zero)
    tenant = xero.sandbox.ledger.tenant(xero.tenant_id)
    assert [o.reference for o in tenant.overpayments.values()] == ["good"]
    assert not any(t.reference == "rolled back" for t in tenant.bank_transactions.values())


def test_unknown_overpayment_is_404(xero: XeroClient) -> None:
    with pytest.raises(NotFoundException):
        xero.accounting.get_overpayment(xero.tenant_id, "00000000-0000-4000-8000-000000000000")


def test_overpayments_survive_a_save_and_load(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "30.00")
    overpayment_id = create(xero, overpayment(inv.contact_id, "12.00"))[0].overpayment_id
    allocate(xero, overpayment_id, inv.id, "5.00")
    copy = Ledger(FakeClock())
    load_ledger(copy, dump_ledger(xero.sandbox.ledger))
    tenant = copy.tenant(xero.tenant_id)
    op = tenant.overpayments[str(overpayment_id)]
    assert op.remaining_credit == Decimal("7.00") and op.reference == "excess po_1"
    assert tenant.invoices[inv.id].amount_credited == Decimal("5.00")
    assert tenant.bank_transactions[op.bank_transaction_id].overpayment_id == op.id
