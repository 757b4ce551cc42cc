"""Prepayments, and taking back credit allocated from an overpayment or a prepayment.

As in Xero, a prepayment is created through ``PUT /BankTransactions`` with ``Type``
``RECEIVE-PREPAYMENT``: money received into a bank account before there is an invoice for it.
Its lines are ordinary lines (any revenue account, tax worked out as on an invoice), Xero
numbers it from the invoice sequence (``InvoiceNumber``, which is also its ``Reference``; the
Reference the caller sent stays on the bank transaction), and it is later allocated to that
customer's sales invoices through ``PUT /Prepayments/{id}/Allocations``: the invoice's
AmountDue falls and AmountCredited rises, the prepayment's RemainingCredit falls until it is PAID.

``DELETE /Overpayments|Prepayments/{id}/Allocations/{AllocationID}`` gives the credit back.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from connector.sandbox.xero.model import Account, Allocation, BankTransaction, Contact, Prepayment
from connector.sandbox.xero.overpayments import Built, OverpaymentRules
from connector.sandbox.xero.tenant import LedgerError, LineInput, NotFound, Tenant

PREPAYMENT_TYPES = ("RECEIVE-PREPAYMENT",)
MSG_PREPAY_ABOVE_DUE = "Prepayment cannot be allocated as amount is greater than amount outstanding"
MSG_PREPAY_ABOVE_CREDIT = "The amount allocated exceeds the remaining credit on the prepayment"


class PrepaymentRules(OverpaymentRules):
    def create_prepayment(
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
        line_amount_types: str = "Exclusive",
        currency: str | None = None,
        currency_rate: Decimal | None = None,
        is_reconciled: bool = False,
        status: str = "AUTHORISED",
    ) -> BankTransaction:
        """The RECEIVE-PREPAYMENT bank transaction and the Prepayment it creates."""

        def line_errors(tenant: Tenant) -> list[str]:
            return [] if lines else ["At least one line item must be specified"]

        def build(tenant: Tenant, contact: Contact, account: Account, when: date, code: str, rate: Decimal) -> Built:
            built, sub, tax, total = self.build_lines(tenant, lines, line_amount_types, tenant.org.sales_tax_type)
            if total <= 0:
                raise LedgerError("The prepayment amount must be greater than zero")
            prepayment = Prepayment(
                id=self.new_id(),
                type=type,
                number=self._next_invoice_number(tenant),
                contact_id=contact.id,
                bank_account_id=account.id,
                bank_transaction_id=self.new_id(),
                date=when,
                status="AUTHORISED",
                currency=code,
                line_amount_types=line_amount_types,
                lines=built,
                sub_total=sub,
                total_tax=tax,
                total=total,
                remaining_credit=total,
                updated_ms=self.now_ms(),
                currency_rate=rate,
                reference=reference,
            )
            tenant.prepayments[prepayment.id] = prepayment
            return prepayment, line_amount_types, (built, sub, tax, total)

        return self._create_prepaid_credit(
            tenant_id,
            "prepayment",
            type,
            PREPAYMENT_TYPES,
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

    def _next_invoice_number(self, tenant: Tenant) -> str:
        """The next free INV-nnnn (a receive prepayment takes one from the invoice sequence)."""
        while True:
            number = f"INV-{tenant.next_invoice_no:04d}"
            tenant.next_invoice_no += 1
            if number not in tenant.invoice_numbers:
                return number

    def check_prepayment_allocation(
        self,
        tenant: Tenant,
        prepayment_id: str,
        invoice_ref: str,
        amount: Decimal | None,
        pending: dict[str, Decimal],
    ) -> list[str]:
        """Why Xero would refuse this allocation; ``pending`` tracks earlier ones in the batch."""
        credit = tenant.prepayments.get(prepayment_id.lower())
        return self._check_prepaid_allocation(
            tenant,
            credit,
            "prepayment",
            invoice_ref,
            amount,
            pending,
            above_credit=MSG_PREPAY_ABOVE_CREDIT,
            above_due=MSG_PREPAY_ABOVE_DUE,
        )

    def allocate_prepayment(
        self,
        tenant_id: str,
        prepayment_id: str,
        invoice_id: str,
        amount: Decimal | str | int,
        date: date | None = None,
    ) -> Allocation:
        """Apply part of a prepayment to an invoice: the invoice's AmountDue falls."""
        return self._allocate_prepaid_credit(
            tenant_id,
            lambda tenant: tenant.prepayments.get(prepayment_id.lower()),
            invoice_id,
            amount,
            date,
            self.check_prepayment_allocation,
            bump_version=True,
        )

    def delete_credit_allocation(self, tenant_id: str, source: str, source_id: str, allocation_id: str) -> Allocation:
        """Take back an allocation of an overpayment's or a prepayment's (``source``) credit: the
        credit left rises again and the invoice owes the amount again. NotFound when the
        allocation is not that credit's, or is already deleted."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            allocation = tenant.allocations.get(allocation_id.lower())
            owner = None
            if allocation is not None and not allocation.is_deleted:
                owner = allocation.overpayment_id if source == "overpayment" else allocation.prepayment_id
            if allocation is None or owner is None or owner != source_id.lower():
                raise NotFound("The resource you're looking for cannot be found")
            credit = tenant.overpayments[owner] if source == "overpayment" else tenant.prepayments[owner]
            inv = tenant.invoices[allocation.invoice_id]
            allocation.is_deleted = True
            allocation.updated_ms = self.now_ms()
            credit.remaining_credit += allocation.amount
            if credit.status == "PAID":
                credit.status = "AUTHORISED"
            credit.updated_ms = self.now_ms()
            inv.amount_credited -= allocation.amount
            self._settle_check(tenant, inv)
            self._history(tenant, inv.id, "Credit Removed", f"Credit of {allocation.amount:,.2f} removed.")
            self._touch_invoice(tenant, inv)
            return allocation
