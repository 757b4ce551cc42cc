"""Overpayments: money a customer paid beyond what was due, kept as their credit.

As in Xero, an overpayment is created through ``PUT /BankTransactions`` with ``Type``
``RECEIVE-OVERPAYMENT`` (money received into a bank account, one line, no tax, coded to
Accounts Receivable) and later allocated to that customer's invoices through
``PUT /Overpayments/{id}/Allocations``: the invoice's AmountDue falls and AmountCredited
rises, and the overpayment's RemainingCredit falls until it is PAID.

Prepayments (RECEIVE-PREPAYMENT) are in :mod:`connector.sandbox.xero.prepayments`. (The
connector itself does not write them: Xero gives a prepayment no Reference of its own, only
the invoice number it assigns, so the connector could not find its own write again.)
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.sandbox.xero.banking import BankingRules
from connector.sandbox.xero.model import ZERO, Allocation, BankTransaction, Invoice, LineItem, Overpayment, money
from connector.sandbox.xero.tenant import LedgerError, LineInput, Tenant

OVERPAYMENT_TYPES = ("RECEIVE-OVERPAYMENT", "SPEND-OVERPAYMENT")
# Real Xero wording where it is known (xero-php#335 quotes the first two), plain otherwise.
MSG_ALLOCATE_ABOVE_DUE = "Overpayment cannot be allocated as amount is greater than amount outstanding"
MSG_ALLOCATE_PAID = "The invoice you are trying to allocate to has already been paid off"
MSG_ALLOCATE_ABOVE_CREDIT = "The amount allocated exceeds the remaining credit on the overpayment"


class OverpaymentRules(BankingRules):
    def create_overpayment(
        self,
        tenant_id: str,
        *,
        type: str,
        lines: list[LineInput],
        bank_account_id: str | None = None,
        bank_account_code: str | None = None,
        contact_id: str | None = None,
        contact_name: str | None = None,
        date: date | None = None,
        reference: str | None = None,
        line_amount_types: str = "NoTax",
        currency: str | None = None,
        currency_rate: Decimal | None = None,
        is_reconciled: bool = False,
        status: str = "AUTHORISED",
    ) -> BankTransaction:
        """The RECEIVE-OVERPAYMENT bank transaction and the Overpayment it creates.

        ``line_amount_types`` is accepted and ignored: Xero books overpayments with no tax.
        """
        del line_amount_types
        with self.lock:
            tenant = self.tenant(tenant_id)
            account, errors = self._bank_account_checked(
                tenant, type, ("RECEIVE-OVERPAYMENT",), "overpayments", status, bank_account_id, bank_account_code
            )
            if account is not None and account.is_bank and account.status != "ACTIVE":
                errors.append(f"Account code '{account.code}' has been archived, or deleted.")
            if len(lines) != 1:
                errors.append("An overpayment must have exactly one line item")
            amount = _line_amount(lines[0]) if len(lines) == 1 else None
            if amount is not None and amount <= 0:
                errors.append("The overpayment amount must be greater than zero")
            debtors = next((a for a in tenant.accounts.values() if a.system_account == "DEBTORS"), None)
            if debtors is None:
                errors.append("The organisation has no Accounts Receivable account")
            if errors:
                raise LedgerError(*errors)
            assert account is not None and amount is not None and debtors is not None
            code, rate = self._currency(tenant, currency or account.currency, currency_rate)
            if account.currency and account.currency != code:
                raise LedgerError("The overpayment currency must be the bank account's currency")
            contact = self.resolve_contact(tenant, contact_id, contact_name)
            when = date or self.today(tenant_id)
            line = LineItem(
                self.new_id(), lines[0].description, Decimal(1), amount, debtors.code, "NONE", ZERO, amount
            )
            overpayment = Overpayment(
                id=self.new_id(),
                type=type,
                contact_id=contact.id,
                bank_account_id=account.id,
                bank_transaction_id=self.new_id(),
                date=when,
                status="AUTHORISED",
                currency=code,
                lines=[line],
                total=amount,
                remaining_credit=amount,
                updated_ms=self.now_ms(),
                currency_rate=rate,
                reference=reference,
            )
            tenant.overpayments[overpayment.id] = overpayment
            tx = self._add_bank_transaction(
                tenant, type, account, contact, when, code, rate, "NoTax", ([line], amount, ZERO, amount),
                reference=reference, is_reconciled=is_reconciled,
                tx_id=overpayment.bank_transaction_id, overpayment_id=overpayment.id,
            )
            self._record("overpayment", tenant, overpayment.id)
            return tx

    def check_overpayment_allocation(
        self,
        tenant: Tenant,
        overpayment_id: str,
        invoice_ref: str,
        amount: Decimal | None,
        pending: dict[str, Decimal],
    ) -> list[str]:
        """Why Xero would refuse this allocation; ``pending`` tracks earlier ones in the batch."""
        return self._check_credit_allocation(
            tenant,
            tenant.overpayments.get(overpayment_id.lower()),
            "overpayment",
            invoice_ref,
            amount,
            pending,
            _overpayment_refusals,
            above_credit=MSG_ALLOCATE_ABOVE_CREDIT,
            above_due=MSG_ALLOCATE_ABOVE_DUE,
            due_only_if_authorised=True,
        )

    def allocate_overpayment(
        self,
        tenant_id: str,
        overpayment_id: str,
        invoice_id: str,
        amount: Decimal | str | int,
        date: date | None = None,
    ) -> Allocation:
        """Apply part of an overpayment to an invoice: the invoice's AmountDue falls."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            overpayment, inv, allocation = self._allocate_credit(
                tenant,
                tenant.overpayments.get(overpayment_id.lower()),
                invoice_id,
                amount,
                date,
                self.check_overpayment_allocation,
            )
            if overpayment.remaining_credit == 0:
                overpayment.status = "PAID"
            overpayment.updated_ms = self.now_ms()
            self._touch_invoice(tenant, inv)
            return allocation


def _overpayment_refusals(overpayment: Overpayment, inv: Invoice) -> list[str]:
    errors: list[str] = []
    if overpayment.status == "VOIDED":
        errors.append("A voided overpayment cannot be allocated")
    if inv.status == "PAID":
        errors.append(MSG_ALLOCATE_PAID)
    elif inv.status != "AUTHORISED":
        errors.append("Overpayments can only be allocated to Authorised invoices")
    if inv.type != "ACCREC":
        errors.append("A received overpayment can only be allocated to a sales invoice")
    return errors


def _line_amount(line: LineInput) -> Decimal:
    """LineAmount, or Quantity × UnitAmount, rounded to cents as Xero keeps every amount."""
    if line.line_amount is not None:
        return money(line.line_amount)
    quantity = line.quantity if line.quantity is not None else Decimal(1)
    return money(quantity * (line.unit_amount if line.unit_amount is not None else ZERO))
