"""Payouts as Xero sees them: a BankTransfer from clearing to bank, and a SPEND for the fee."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from xero_python.accounting import (
    Account,
    BankTransaction,
    BankTransactions,
    BankTransfer,
    BankTransfers,
    Contact,
    LineAmountTypes,
    LineItem,
)
from xero_python.exceptions import AccountingBadRequestException

from tests.sandbox.xero.conftest import XeroClient


def test_bank_transfer_from_clearing_to_bank(xero: XeroClient) -> None:
    transfer = BankTransfer(
        from_bank_account=Account(code="095"),
        to_bank_account=Account(code="090"),
        amount=Decimal("100.00"),
        date=date(2024, 6, 1),
        reference="payout po_123",
    )
    created = xero.accounting.create_bank_transfer(
        xero.tenant_id, BankTransfers(bank_transfers=[transfer]), idempotency_key="payout-po_123"
    ).bank_transfers[0]
    assert created.amount == Decimal("100.00") and created.date == date(2024, 6, 1)
    assert created.from_bank_account.code == "095" and created.to_bank_account.code == "090"
    assert created.from_bank_transaction_id and created.to_bank_transaction_id
    assert created.reference == "payout po_123"

    listed = xero.accounting.get_bank_transfers(xero.tenant_id).bank_transfers
    assert [t.bank_transfer_id for t in listed] == [created.bank_transfer_id]
    one = xero.accounting.get_bank_transfer(xero.tenant_id, created.bank_transfer_id).bank_transfers[0]
    assert one.amount == created.amount
    legs = xero.accounting.get_bank_transactions(xero.tenant_id, where='Type=="SPEND-TRANSFER"').bank_transactions
    assert [str(t.bank_transaction_id) for t in legs] == [str(created.from_bank_transaction_id)]


def test_bank_transfer_validation(xero: XeroClient) -> None:
    same = BankTransfer(from_bank_account=Account(code="090"), to_bank_account=Account(code="090"), amount=Decimal("5"))
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_bank_transfer(xero.tenant_id, BankTransfers(bank_transfers=[same]))
    assert err.value.reason == "The From and To bank accounts must be different"
    not_bank = BankTransfer(
        from_bank_account=Account(code="200"), to_bank_account=Account(code="090"), amount=Decimal("5")
    )
    with pytest.raises(AccountingBadRequestException):
        xero.accounting.create_bank_transfer(xero.tenant_id, BankTransfers(bank_transfers=[not_bank]))
    assert xero.sandbox.ledger.tenants[xero.tenant_id].bank_transfers == {}


def test_spend_bank_transaction_for_fees(xero: XeroClient) -> None:
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    fee = BankTransaction(
        type="SPEND",
        contact=Contact(name="Payments Platform"),
        bank_account=Account(code="095"),
        line_amount_types=LineAmountTypes.NOTAX,
        date=date(2024, 6, 1),
        reference="fees po_123",
        line_items=[
            LineItem(
                description="Processing fees",
                quantity=Decimal(1),
                unit_amount=Decimal("3.45"),
                account_code="404",
            )
        ],
    )
    created = xero.accounting.create_bank_transactions(
        xero.tenant_id, BankTransactions(bank_transactions=[fee])
    ).bank_transactions[0]
    assert created.type == "SPEND" and created.status == "AUTHORISED"
    assert created.total == Decimal("3.45") and created.total_tax == 0
    assert created.bank_account.code == "095" and created.line_items[0].account_code == "404"
    assert any(c.name == "Payments Platform" for c in tenant.contacts.values())  # created on the fly
    fetched = xero.accounting.get_bank_transaction(xero.tenant_id, created.bank_transaction_id)
    assert fetched.bank_transactions[0].reference == "fees po_123"


def test_bank_transaction_batch_errors(xero: XeroClient) -> None:
    bad_account = BankTransaction(
        type="SPEND",
        contact=Contact(name="Payments Platform"),
        bank_account=Account(code="095"),
        line_items=[LineItem(description="x", quantity=Decimal(1), unit_amount=Decimal(1), account_code="999")],
    )
    good = BankTransaction(
        type="SPEND",
        contact=Contact(name="Payments Platform"),
        bank_account=Account(code="095"),
        line_items=[LineItem(description="y", quantity=Decimal(1), unit_amount=Decimal(2), account_code="404")],
    )
    tenant = xero.sandbox.ledger.tenants[xero.tenant_id]
    with pytest.raises(AccountingBadRequestException) as err:
        xero.accounting.create_bank_transactions(
            xero.tenant_id, BankTransactions(bank_transactions=[good, bad_account])
        )
    assert "999" in err.value.error_data["Elements"][1]["ValidationErrors"][0]["Message"]
    assert tenant.bank_transactions == {}  # the good one was rolled back too
    assert not any(c.name == "Payments Platform" for c in tenant.contacts.values())
    mixed = xero.accounting.create_bank_transactions(
        xero.tenant_id, BankTransactions(bank_transactions=[good, bad_account]), summarize_errors=False
    )
    assert [t.status_attribute_string for t in mixed.bank_transactions] == ["OK", "ERROR"]
    assert len(tenant.bank_transactions) == 1
