"""Money rules Xero enforces that the connector's writes meet: reconciled payments cannot be
deleted, refused elements of summarizeErrors=false writes are marked ERROR (not dropped),
and every amount is kept to two places whatever the currency."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import requests
from xero_python.accounting import (
    Account,
    BankTransaction,
    BankTransactions,
    BankTransfer,
    BankTransfers,
    Contact,
    Invoice,
    LineAmountTypes,
    LineItem,
    Payment,
    PaymentDelete,
    Payments,
)
from xero_python.exceptions import AccountingBadRequestException

from tests.sandbox.xero.conftest import XeroClient
from tests.sandbox.xero.kit import open_invoice


def pay(xero: XeroClient, invoice_id: str, amount: str, **extra: object) -> Payment:
    payment = Payment(
        invoice=Invoice(invoice_id=invoice_id), account=Account(code="095"), amount=Decimal(amount), **extra
    )
    return xero.accounting.create_payments(xero.tenant_id, Payments(payments=[payment])).payments[0]


def fee(account_code: str, amount: str = "2.50") -> BankTransaction:
    return BankTransaction(
        type="SPEND",
        contact=Contact(name="Payments platform"),
        bank_account=Account(code="095"),
        line_amount_types=LineAmountTypes.NOTAX,
        line_items=[
            LineItem(description="fees", quantity=Decimal(1), unit_amount=Decimal(amount), account_code=account_code)
        ],
        date=date(2024, 6, 3),
    )


# --- reconciled payments ---------------------------------------------------------------------------
def test_a_payment_reconciled_by_the_accountant_cannot_be_deleted(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "50.00")
    payment_id = str(pay(xero, inv.id, "50.00").payment_id)
    admin = f"{xero.sandbox.base_url}/__sandbox/Payments/{payment_id}/reconcile"
    answer = requests.post(admin, json={}, timeout=10)
    assert answer.status_code == 200 and answer.json()["IsReconciled"] is True
    assert xero.accounting.get_payment(xero.tenant_id, payment_id).payments[0].is_reconciled is True

    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.delete_payment(xero.tenant_id, payment_id, PaymentDelete(status="DELETED"))
    assert err.value.status == 400
    assert err.value.error_data["Type"] == "ValidationException"
    assert err.value.reason == "Payment cannot be deleted as it has been reconciled"
    assert xero.sandbox.ledger.tenant(xero.tenant_id).invoices[inv.id].status == "PAID"

    requests.post(admin, json={"reconciled": False}, timeout=10)  # "unreconcile" in Xero
    deleted = xero.accounting.delete_payment(xero.tenant_id, payment_id, PaymentDelete(status="DELETED"))
    assert deleted.payments[0].status == "DELETED"
    assert requests.post(f"{xero.sandbox.base_url}/__sandbox/Payments/nope/reconcile", timeout=10).status_code == 404


def test_is_reconciled_is_taken_on_create(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "20.00")
    created = pay(xero, inv.id, "20.00", is_reconciled=True)
    assert created.is_reconciled is True
    with pytest.raises(AccountingBadRequestException):
        xero.accounting.delete_payment(xero.tenant_id, created.payment_id, PaymentDelete(status="DELETED"))


# --- element errors ----------------------------------------------------------------------------------
def test_payment_elements_are_marked_error(xero: XeroClient) -> None:
    inv = open_invoice(xero.sandbox, "10.00")
    payments = [
        Payment(invoice=Invoice(invoice_id=inv.id), account=Account(code="095"), amount=Decimal("4.00")),
        Payment(invoice=Invoice(invoice_id=inv.id), account=Account(code="095"), amount=Decimal("0")),
        Payment(invoice=Invoice(invoice_id=inv.id), account=Account(code="095"), amount=Decimal("-1.00")),
    ]
    out = xero.accounting.create_payments(xero.tenant_id, Payments(payments=payments), summarize_errors=False)
    assert [p.status_attribute_string for p in out.payments] == ["OK", "ERROR", "ERROR"]
    assert out.payments[1].validation_errors[0].message == "Payment amount must be greater than zero"


def test_fee_to_an_archived_or_unusable_account_is_an_element_error(xero: XeroClient) -> None:
    tenant = xero.sandbox.ledger.tenant(xero.tenant_id)
    tenant.account(code="429").status = "ARCHIVED"
    out = xero.accounting.create_bank_transactions(
        xero.tenant_id,
        BankTransactions(bank_transactions=[fee("404"), fee("429"), fee("090"), fee("610"), fee("404", "0.00")]),
        summarize_errors=False,
    ).bank_transactions
    assert [t.status_attribute_string for t in out] == ["OK", "ERROR", "ERROR", "ERROR", "ERROR"]
    assert out[1].validation_errors[0].message == "Account code '429' has been archived, or deleted."
    assert "bank account" in out[2].validation_errors[0].message
    assert "system account" in out[3].validation_errors[0].message
    assert "greater than zero" in out[4].validation_errors[0].message
    assert [t.type for t in tenant.bank_transactions.values()] == ["SPEND"]


def test_bank_transfers_take_no_summarize_errors_and_refuse_with_400(xero: XeroClient) -> None:
    """PUT /BankTransfers declares no summarizeErrors in Xero's spec: a refusal is a 400."""
    cross = BankTransfer(
        from_bank_account=Account(code="095"), to_bank_account=Account(code="092"), amount=Decimal("5.00")
    )
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_bank_transfer(xero.tenant_id, BankTransfers(bank_transfers=[cross]))
    assert "currency" in err.value.reason
    negative = BankTransfer(
        from_bank_account=Account(code="095"), to_bank_account=Account(code="090"), amount=Decimal("-5.00")
    )
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_bank_transfer(xero.tenant_id, BankTransfers(bank_transfers=[negative]))
    assert err.value.reason == "The Amount must be greater than zero"


# --- currency minor units ------------------------------------------------------------------------------
@pytest.mark.parametrize(("currency", "rate"), [("KWD", "0.190000"), ("JPY", "90.000000")])
def test_every_currency_is_kept_to_two_places(xero: XeroClient, currency: str, rate: str) -> None:
    """Xero keeps Total, LineAmount and payment amounts at two decimal places for every currency
    ("All summary values such as Total, LineAmount etc will remain at two decimal places only",
    developer.xero.com Rounding in Xero): a KWD fils amount is rounded to 2 places, and a JPY
    amount may carry sen. Neither is refused."""
    tenant = xero.sandbox.ledger.tenant(xero.tenant_id)
    tenant.currencies[currency] = Decimal(rate)
    inv = xero.sandbox.ledger.create_invoice(
        xero.tenant_id, contact_name="Gulf Trading", amount=Decimal("10.125"), currency=currency
    )
    assert inv.total == Decimal("10.13")
    payment = pay(xero, inv.id, "3.335", currency_rate=Decimal(rate))
    assert payment.amount == Decimal("3.34")
    fetched = xero.accounting.get_invoice(xero.tenant_id, inv.id).invoices[0]
    assert fetched.amount_due == Decimal("6.79") and fetched.currency_code.value == currency
