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

from collections.abc import Callable
from datetime import date
from decimal import Decimal

from connector.sandbox.xero.banking import BankingRules
from connector.sandbox.xero.books import AllocationCheck, Booked
from connector.sandbox.xero.model import (
    ZERO,
    Account,
    Allocation,
    BankTransaction,
    Contact,
    Invoice,
    LineItem,
    Overpayment,
    Prepayment,
    money,
)
from connector.sandbox.xero.tenant import LedgerError, LineInput, Tenant

OVERPAYMENT_TYPES = ("RECEIVE-OVERPAYMENT", "SPEND-OVERPAYMENT")
# Real Xero wording where it is known (xero-php#335 quotes the first two), plain otherwise.
MSG_ALLOCATE_ABOVE_DUE = "Overpayment cannot be allocated as amount is greater than amount outstanding"
MSG_ALLOCATE_PAID = "The invoice you are trying to allocate to has already been paid off"
MSG_ALLOCATE_ABOVE_CREDIT = "The amount allocated exceeds the remaining credit on the overpayment"

#: What a ``build`` hook of ``_create_prepaid_credit`` gives: the credit it made, its line amount
#: types and its booked lines.
Built = tuple[Overpayment | Prepayment, str, Booked]


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

        def line_errors(tenant: Tenant) -> list[str]:
            # One line, an amount above zero, and an Accounts Receivable account to code it to.
            errors: list[str] = []
            if len(lines) != 1:
                errors.append("An overpayment must have exactly one line item")
            amount = _line_amount(lines[0]) if len(lines) == 1 else None
            if amount is not None and amount <= 0:
                errors.append("The overpayment amount must be greater than zero")
            if _debtors(tenant) is None:
                errors.append("The organisation has no Accounts Receivable account")
            return errors

        def build(tenant: Tenant, contact: Contact, account: Account, when: date, code: str, rate: Decimal) -> Built:
            amount, debtors = _line_amount(lines[0]), _debtors(tenant)
            assert debtors is not None
            line = LineItem(self.new_id(), lines[0].description, Decimal(1), amount, debtors.code, "NONE", ZERO, amount)
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
            return overpayment, "NoTax", ([line], amount, ZERO, amount)

        return self._create_prepaid_credit(
            tenant_id,
            "overpayment",
            type,
            ("RECEIVE-OVERPAYMENT",),
            line_errors,
            build,
            bank_account_id=bank_account_id,
            bank_account_code=bank_account_code,
            contact_id=contact_id,
            contact_name=contact_name,
            date=date,
            reference=reference,
            currency=currency,
            currency_rate=currency_rate,
            is_reconciled=is_reconciled,
            status=status,
        )

    def _create_prepaid_credit(
        self,
        tenant_id: str,
        kind: str,
        type: str,
        types: tuple[str, ...],
        line_errors: Callable[[Tenant], list[str]],
        build: Callable[[Tenant, Contact, Account, date, str, Decimal], Built],
        *,
        bank_account_id: str | None,
        bank_account_code: str | None,
        contact_id: str | None,
        contact_name: str | None,
        date: date | None,
        reference: str | None,
        currency: str | None,
        currency_rate: Decimal | None,
        is_reconciled: bool,
        status: str,
    ) -> BankTransaction:
        """The bank transaction that creates an overpayment or a prepayment (``kind``), and that
        credit: the checks both share (one of ``types``, AUTHORISED, into an active bank account
        in its currency), then ``line_errors`` (the kind's own line rules) and ``build`` (which
        makes the credit, puts it in the tenant's books and gives its line amount types and
        booked lines)."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            account, errors = self._bank_account_checked(
                tenant, type, types, f"{kind}s", status, bank_account_id, bank_account_code
            )
            if account is not None and account.is_bank and account.status != "ACTIVE":
                errors.append(f"Account code '{account.code}' has been archived, or deleted.")
            errors += line_errors(tenant)
            if errors:
                raise LedgerError(*errors)
            assert account is not None
            code, rate = self._currency(tenant, currency or account.currency, currency_rate)
            if account.currency and account.currency != code:
                raise LedgerError(f"The {kind} currency must be the bank account's currency")
            contact = self.resolve_contact(tenant, contact_id, contact_name)
            when = date or self.today(tenant_id)
            credit, line_amount_types, booked = build(tenant, contact, account, when, code, rate)
            tx = self._add_bank_transaction(
                tenant,
                type,
                account,
                contact,
                when,
                code,
                rate,
                line_amount_types,
                booked,
                reference=reference,
                is_reconciled=is_reconciled,
                tx_id=credit.bank_transaction_id,
                overpayment_id=credit.id if kind == "overpayment" else None,
                prepayment_id=credit.id if kind == "prepayment" else None,
            )
            self._record(kind, tenant, credit.id)
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
        credit = tenant.overpayments.get(overpayment_id.lower())
        return self._check_prepaid_allocation(
            tenant,
            credit,
            "overpayment",
            invoice_ref,
            amount,
            pending,
            above_credit=MSG_ALLOCATE_ABOVE_CREDIT,
            above_due=MSG_ALLOCATE_ABOVE_DUE,
        )

    def _check_prepaid_allocation(
        self,
        tenant: Tenant,
        credit: Overpayment | Prepayment | None,
        noun: str,
        invoice_ref: str,
        amount: Decimal | None,
        pending: dict[str, Decimal],
        *,
        above_credit: str,
        above_due: str,
    ) -> list[str]:
        """The allocation checks of an overpayment's or a prepayment's (``noun``) credit: their
        shared status rules, and the AmountDue weighed only for an AUTHORISED invoice."""
        return self._check_credit_allocation(
            tenant,
            credit,
            noun,
            invoice_ref,
            amount,
            pending,
            prepaid_credit_refusals(noun),
            above_credit=above_credit,
            above_due=above_due,
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
        return self._allocate_prepaid_credit(
            tenant_id,
            lambda tenant: tenant.overpayments.get(overpayment_id.lower()),
            invoice_id,
            amount,
            date,
            self.check_overpayment_allocation,
            bump_version=False,
        )

    def _allocate_prepaid_credit(
        self,
        tenant_id: str,
        find: Callable[[Tenant], Overpayment | Prepayment | None],
        invoice_id: str,
        amount: Decimal | str | int,
        date: date | None,
        check: AllocationCheck,
        *,
        bump_version: bool,
    ) -> Allocation:
        """Allocate an overpayment's or a prepayment's (``find``) credit to an invoice: the
        credit is PAID when none is left. ``bump_version``: the allocation moves the tenant's
        version (a prepayment's does, an overpayment's does not)."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            credit, inv, allocation = self._allocate_credit(tenant, find(tenant), invoice_id, amount, date, check)
            if credit.remaining_credit == 0:
                credit.status = "PAID"
            credit.updated_ms = self.now_ms()
            if bump_version:
                tenant.version += 1
            self._touch_invoice(tenant, inv)
            return allocation


def prepaid_credit_refusals(noun: str) -> Callable[[Overpayment | Prepayment, Invoice], list[str]]:
    """The status rules for allocating an overpayment's or a prepayment's (``noun``) credit."""

    def refusals(credit: Overpayment | Prepayment, inv: Invoice) -> list[str]:
        errors: list[str] = []
        if credit.status == "VOIDED":
            errors.append(f"A voided {noun} cannot be allocated")
        if inv.status == "PAID":
            errors.append(MSG_ALLOCATE_PAID)
        elif inv.status != "AUTHORISED":
            errors.append(f"{noun.capitalize()}s can only be allocated to Authorised invoices")
        if inv.type != "ACCREC":
            errors.append(f"A received {noun} can only be allocated to a sales invoice")
        return errors

    return refusals


def _debtors(tenant: Tenant) -> Account | None:
    """The organisation's Accounts Receivable account."""
    return next((a for a in tenant.accounts.values() if a.system_account == "DEBTORS"), None)


def _line_amount(line: LineInput) -> Decimal:
    """LineAmount, or Quantity × UnitAmount, rounded to cents as Xero keeps every amount."""
    if line.line_amount is not None:
        return money(line.line_amount)
    quantity = line.quantity if line.quantity is not None else Decimal(1)
    return money(quantity * (line.unit_amount if line.unit_amount is not None else ZERO))
