"""The ledger: Xero's accounting rules over the tenants' books.

One re-entrant lock guards the whole ledger (the server is threaded; a write touches an
invoice, its payments and the change index together). Invoices are kept in a list sorted
by (UpdatedDateUTC, change sequence) so ``If-Modified-Since`` starts with a bisect and a
page of 1,000 out of 100,000 never scans the rest (see ``tenant.Tenant``).

Rules follow what Xero does: a payment lowers AmountDue and raises AmountPaid, a full
payment (or credit) makes the invoice PAID with FullyPaidOnDate, deleting the payment
undoes that, a payment above AmountDue is refused, an invoice with payments or credit
allocated cannot be voided or edited, and every change bumps UpdatedDateUTC.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from connector.sandbox.xero.model import (
    ZERO,
    Allocation,
    CreditNote,
    Invoice,
    Payment,
    money,
)
from connector.sandbox.xero.overpayments import OverpaymentRules
from connector.sandbox.xero.tenant import (
    CREATE_STATUSES,
    CREDIT_NOTE_TYPES,
    INVOICE_TYPES,
    MSG_BAD_STATUS,
    MSG_HAS_PAYMENTS,
    MSG_OVERPAY,
    MSG_RECONCILED,
    PAYMENT_TYPE,
    ChangeEvent,
    LedgerError,
    LineInput,
    NotFound,
    PaymentInput,
    Tenant,
)

__all__ = ["ChangeEvent", "Ledger", "LedgerError", "LineInput", "NotFound", "PaymentInput", "Tenant"]


class Ledger(OverpaymentRules):
    """All tenants' books and the operations on them; safe to call from any thread."""

    # --- invoices -------------------------------------------------------------------------
    def create_invoice(
        self,
        tenant_id: str,
        *,
        contact_id: str | None = None,
        contact_name: str | None = None,
        lines: list[LineInput] | None = None,
        amount: Decimal | str | int | None = None,
        type: str = "ACCREC",
        status: str = "AUTHORISED",
        date: date | None = None,
        due_date: date | None = None,
        number: str | None = None,
        reference: str | None = None,
        currency: str | None = None,
        currency_rate: Decimal | None = None,
        line_amount_types: str = "Exclusive",
        created_by: str | None = None,
    ) -> Invoice:
        """Create an invoice. ``amount`` is a shortcut for one untaxed line of that total."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            if type not in INVOICE_TYPES:
                raise LedgerError(f"Invoice Type must be one of {', '.join(INVOICE_TYPES)}")
            if status not in CREATE_STATUSES:
                raise LedgerError(f"Invoice Status must be one of {', '.join(CREATE_STATUSES)} when creating")
            if amount is not None and not lines:
                lines = [
                    LineInput("Services", Decimal("1"), money(amount), account_code="200", tax_type="NONE")
                ]
            lines = lines or []
            if status == "AUTHORISED" and not lines:
                raise LedgerError("Line Items must be specified to approve an invoice")
            contact = self.resolve_contact(tenant, contact_id, contact_name)
            code, rate = self._currency(tenant, currency, currency_rate)
            if number and type == "ACCREC" and number in tenant.invoice_numbers:
                raise LedgerError("Invoice # must be unique.")
            default_tax = tenant.org.sales_tax_type if type == "ACCREC" else "NONE"
            built, sub, tax, total = self.build_lines(tenant, lines, line_amount_types, default_tax)
            if not number:
                number = self._next_invoice_number(tenant) if type == "ACCREC" else ""
            issued = date or self.today(tenant_id)
            inv = Invoice(
                id=self.new_id(),
                type=type,
                number=number,
                contact_id=contact.id,
                date=issued,
                due_date=due_date or issued + timedelta(days=20),
                status=status,
                currency=code,
                line_amount_types=line_amount_types,
                lines=built,
                sub_total=sub,
                total_tax=tax,
                total=total,
                updated_ms=0,
                seq=0,
                currency_rate=rate,
                reference=reference,
                created_by=created_by,
            )
            tenant.invoices[inv.id] = inv
            if inv.type == "ACCREC" and inv.number:
                tenant.invoice_numbers[inv.number] = inv.id
            self._touch_invoice(tenant, inv, created=True)
            self._record("invoice", tenant, inv.id)
            return inv

    def _next_invoice_number(self, tenant: Tenant) -> str:
        while True:
            number = f"INV-{tenant.next_invoice_no:04d}"
            tenant.next_invoice_no += 1
            if number not in tenant.invoice_numbers:
                return number

    def get_invoice(self, tenant_id: str, ref: str) -> Invoice:
        inv = self.tenant(tenant_id).find_invoice(ref)
        if inv is None:
            raise NotFound("The resource you're looking for cannot be found")
        return inv

    def update_invoice(
        self,
        tenant_id: str,
        invoice_id: str,
        *,
        status: str | None = None,
        due_date: date | None = None,
        date: date | None = None,
        reference: str | None = None,
        lines: list[LineInput] | None = None,
        line_amount_types: str | None = None,
        sent_to_contact: bool | None = None,
    ) -> Invoice:
        """Change an invoice the way the Xero UI or API would; refuses what Xero refuses."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            inv = self.get_invoice(tenant_id, invoice_id)
            settled = inv.amount_paid > 0 or inv.amount_credited > 0
            if inv.status in ("VOIDED", "DELETED"):
                raise LedgerError(MSG_BAD_STATUS)
            if status is not None and status != inv.status:
                self._check_status_change(inv, status, has_lines=bool(lines) if lines is not None else None)
            changed = False
            if lines is not None or line_amount_types is not None:
                if settled or inv.status == "PAID":
                    raise LedgerError(MSG_HAS_PAYMENTS)
                types = line_amount_types or inv.line_amount_types
                default_tax = tenant.org.sales_tax_type if inv.type == "ACCREC" else "NONE"
                current = [
                    LineInput(li.description, li.quantity, li.unit_amount, None, li.account_code, li.tax_type)
                    for li in inv.lines
                ]
                built, sub, tax, total = self.build_lines(
                    tenant, lines if lines is not None else current, types, default_tax
                )
                inv.lines, inv.sub_total, inv.total_tax, inv.total = built, sub, tax, total
                inv.line_amount_types = types
                changed = True
            if date is not None and date != inv.date:
                if settled:
                    raise LedgerError(MSG_HAS_PAYMENTS)
                inv.date, changed = date, True
            if due_date is not None and due_date != inv.due_date:
                inv.due_date, changed = due_date, True
            if reference is not None and reference != inv.reference:
                inv.reference, changed = reference, True
            if sent_to_contact is not None and sent_to_contact != inv.sent_to_contact:
                inv.sent_to_contact, changed = sent_to_contact, True
            if status is not None and status != inv.status:
                inv.status = status
                changed = True
            if changed:
                self._touch_invoice(tenant, inv)
            return inv

    def _check_status_change(self, inv: Invoice, status: str, has_lines: bool | None) -> None:
        """Refuse, before anything is changed, a status move Xero would refuse."""
        current = inv.status
        allowed = {
            "DRAFT": ("SUBMITTED", "AUTHORISED", "DELETED"),
            "SUBMITTED": ("DRAFT", "AUTHORISED", "DELETED"),
            "AUTHORISED": ("VOIDED",),
        }.get(current, ())
        if (
            status == "VOIDED"
            and current == "AUTHORISED"
            and (inv.amount_paid > 0 or inv.amount_credited > 0)
        ):
            raise LedgerError(MSG_HAS_PAYMENTS)
        if current == "PAID" and status == "VOIDED":
            raise LedgerError(MSG_HAS_PAYMENTS)
        if status not in allowed:
            raise LedgerError(MSG_BAD_STATUS)
        if status == "AUTHORISED" and not (inv.lines if has_lines is None else has_lines):
            raise LedgerError("Line Items must be specified to approve an invoice")

    def void_invoice(self, tenant_id: str, invoice_id: str) -> Invoice:
        return self.update_invoice(tenant_id, invoice_id, status="VOIDED")

    def delete_invoice(self, tenant_id: str, invoice_id: str) -> Invoice:
        return self.update_invoice(tenant_id, invoice_id, status="DELETED")

    # --- payments -------------------------------------------------------------------------
    def check_payment(self, tenant: Tenant, p: PaymentInput, pending: dict[str, Decimal]) -> list[str]:
        """Why Xero would refuse this payment (empty when it would accept it).

        ``pending`` holds amounts already claimed by earlier payments in the same batch.
        """
        errors: list[str] = []
        inv = None
        if p.credit_note_given and not (p.invoice_id or p.invoice_number):
            errors.append("The sandbox only takes payments against invoices")
        elif not (p.invoice_id or p.invoice_number):
            errors.append("An Invoice, CreditNote, Prepayment or Overpayment must be specified")
        else:
            inv = tenant.find_invoice(p.invoice_id or p.invoice_number or "")
            if inv is None:
                errors.append("Invoice could not be found")
        account = tenant.account(p.account_id, p.account_code)
        if not (p.account_id or p.account_code):
            errors.append("An Account must be specified")
        elif account is None:
            errors.append("Account could not be found")
        elif not (account.is_bank or account.enable_payments) or account.status != "ACTIVE":
            errors.append("Payments can only be made to a bank account or an account with payments enabled")
        if p.amount is None or p.amount <= 0:
            errors.append("Payment amount must be greater than zero")
        if inv is not None:
            if inv.status != "AUTHORISED":
                errors.append("Payments can only be made against Authorised documents")
            elif p.amount is not None and p.amount > inv.amount_due - pending.get(inv.id, ZERO):
                errors.append(MSG_OVERPAY)
            if (
                account is not None
                and account.currency
                and account.currency not in (inv.currency, tenant.org.base_currency)
            ):
                errors.append("The bank account currency must be the invoice currency or the base currency")
        if not errors and inv is not None and p.amount is not None:
            pending[inv.id] = pending.get(inv.id, ZERO) + p.amount
        return errors

    def add_payment(
        self,
        tenant_id: str,
        invoice_id: str,
        amount: Decimal | str | int,
        *,
        account_code: str | None = "090",
        account_id: str | None = None,
        date: date | None = None,
        reference: str | None = None,
        currency_rate: Decimal | None = None,
        is_reconciled: bool = False,
    ) -> Payment:
        """Record a payment (the API's PUT /Payments, or "paid in Xero by someone else")."""
        p = PaymentInput(
            amount=money(amount),
            invoice_id=invoice_id,
            account_id=account_id,
            account_code=None if account_id else account_code,
            date=date,
            reference=reference,
            currency_rate=currency_rate,
            is_reconciled=is_reconciled,
        )
        return self.apply_payment(tenant_id, p)

    def apply_payment(self, tenant_id: str, p: PaymentInput) -> Payment:
        with self.lock:
            tenant = self.tenant(tenant_id)
            errors = self.check_payment(tenant, p, {})
            if errors:
                raise LedgerError(*errors)
            inv = tenant.find_invoice(p.invoice_id or p.invoice_number or "")
            account = tenant.account(p.account_id, p.account_code)
            assert inv is not None and account is not None and p.amount is not None
            paid_on = p.date or self.today(tenant_id)
            payment = Payment(
                id=self.new_id(),
                account_id=account.id,
                date=paid_on,
                amount=p.amount,
                payment_type=PAYMENT_TYPE[inv.type],
                updated_ms=self.now_ms(),
                invoice_id=inv.id,
                currency_rate=p.currency_rate if p.currency_rate is not None else inv.currency_rate,
                reference=p.reference,
                is_reconciled=p.is_reconciled,
            )
            tenant.payments[payment.id] = payment
            inv.payment_ids.append(payment.id)
            inv.amount_paid += payment.amount
            self._settle_check(tenant, inv)
            self._touch_invoice(tenant, inv)
            return payment

    def reconcile_payment(self, tenant_id: str, payment_id: str, reconciled: bool = True) -> Payment:
        """What an accountant does in bank reconciliation (matching a statement line to the
        payment): Xero's API cannot do it, so the sandbox offers it on its admin surface.
        A reconciled payment can no longer be deleted through the API."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            payment = tenant.payments.get(payment_id.lower())
            if payment is None:
                raise NotFound("The resource you're looking for cannot be found")
            if payment.status != "AUTHORISED":
                raise LedgerError("Only an Authorised payment can be reconciled")
            payment.is_reconciled = reconciled
            payment.updated_ms = self.now_ms()
            tenant.version += 1
            return payment

    def delete_payment(self, tenant_id: str, payment_id: str) -> Payment:
        with self.lock:
            tenant = self.tenant(tenant_id)
            payment = tenant.payments.get(payment_id.lower())
            if payment is None:
                raise NotFound("The resource you're looking for cannot be found")
            if payment.status == "DELETED":
                raise LedgerError("This payment has already been deleted")
            if payment.is_reconciled:
                raise LedgerError(MSG_RECONCILED)
            payment.status = "DELETED"
            payment.updated_ms = self.now_ms()
            if payment.invoice_id:
                inv = tenant.invoices[payment.invoice_id]
                inv.amount_paid -= payment.amount
                self._settle_check(tenant, inv)
                self._touch_invoice(tenant, inv)
            return payment

    # --- credit notes ---------------------------------------------------------------------
    def create_credit_note(
        self,
        tenant_id: str,
        *,
        contact_id: str | None = None,
        contact_name: str | None = None,
        lines: list[LineInput] | None = None,
        amount: Decimal | str | int | None = None,
        type: str = "ACCRECCREDIT",
        status: str = "AUTHORISED",
        date: date | None = None,
        number: str | None = None,
        reference: str | None = None,
        currency: str | None = None,
        currency_rate: Decimal | None = None,
        line_amount_types: str = "Exclusive",
    ) -> CreditNote:
        with self.lock:
            tenant = self.tenant(tenant_id)
            if type not in CREDIT_NOTE_TYPES:
                raise LedgerError(f"CreditNote Type must be one of {', '.join(CREDIT_NOTE_TYPES)}")
            if status not in CREATE_STATUSES:
                raise LedgerError(
                    f"CreditNote Status must be one of {', '.join(CREATE_STATUSES)} when creating"
                )
            if amount is not None and not lines:
                lines = [
                    LineInput("Credit", Decimal("1"), money(amount), account_code="200", tax_type="NONE")
                ]
            contact = self.resolve_contact(tenant, contact_id, contact_name)
            code, rate = self._currency(tenant, currency, currency_rate)
            default_tax = tenant.org.sales_tax_type if type == "ACCRECCREDIT" else "NONE"
            built, sub, tax, total = self.build_lines(tenant, lines or [], line_amount_types, default_tax)
            if not number:
                number = f"CN-{tenant.next_credit_no:04d}"
                tenant.next_credit_no += 1
            note = CreditNote(
                id=self.new_id(),
                type=type,
                number=number,
                contact_id=contact.id,
                date=date or self.today(tenant_id),
                status=status,
                currency=code,
                line_amount_types=line_amount_types,
                lines=built,
                sub_total=sub,
                total_tax=tax,
                total=total,
                remaining_credit=total,
                updated_ms=0,
                currency_rate=rate,
                reference=reference,
            )
            tenant.credit_notes[note.id] = note
            self._touch_credit_note(tenant, note, created=True)
            self._record("credit_note", tenant, note.id)
            return note

    def check_allocation(
        self,
        tenant: Tenant,
        credit_note_id: str,
        invoice_ref: str,
        amount: Decimal | None,
        pending: dict[str, Decimal],
    ) -> list[str]:
        """Why Xero would refuse this allocation; ``pending`` tracks earlier ones in the batch."""
        note = tenant.credit_notes.get(credit_note_id.lower())
        inv = tenant.find_invoice(invoice_ref) if invoice_ref else None
        if note is None:
            return ["The credit note could not be found"]
        if inv is None:
            return ["Invoice could not be found"]
        errors: list[str] = []
        if note.status != "AUTHORISED":
            errors.append("Only an Authorised credit note can be allocated")
        if inv.status != "AUTHORISED":
            errors.append("Credit can only be allocated to Authorised invoices")
        if inv.contact_id != note.contact_id:
            errors.append("The credit note and the invoice must be for the same contact")
        if inv.currency != note.currency:
            errors.append("The credit note and the invoice must be in the same currency")
        if amount is None or amount <= 0:
            errors.append("Allocation amount must be greater than zero")
        else:
            if amount > note.remaining_credit - pending.get(note.id, ZERO):
                errors.append("The amount allocated exceeds the remaining credit on the credit note")
            if amount > inv.amount_due - pending.get(inv.id, ZERO):
                errors.append("The amount allocated exceeds the amount outstanding on the invoice")
        if not errors and amount is not None:
            pending[note.id] = pending.get(note.id, ZERO) + amount
            pending[inv.id] = pending.get(inv.id, ZERO) + amount
        return errors

    def allocate_credit_note(
        self,
        tenant_id: str,
        credit_note_id: str,
        invoice_id: str,
        amount: Decimal | str | int,
        date: date | None = None,
    ) -> Allocation:
        """Apply part of a credit note to an invoice: the invoice's AmountDue falls."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            if credit_note_id.lower() not in tenant.credit_notes:
                raise NotFound("The resource you're looking for cannot be found")
            value = money(amount)
            errors = self.check_allocation(tenant, credit_note_id, invoice_id, value, {})
            if errors:
                raise LedgerError(*errors)
            note = tenant.credit_notes[credit_note_id.lower()]
            inv = tenant.find_invoice(invoice_id)
            assert inv is not None
            when = date or self.today(tenant_id)
            allocation = Allocation(self.new_id(), note.id, inv.id, value, when, self.now_ms())
            tenant.allocations[allocation.id] = allocation
            note.allocation_ids.append(allocation.id)
            inv.allocation_ids.append(allocation.id)
            note.remaining_credit -= value
            if note.remaining_credit == 0:
                note.status, note.fully_paid_on = "PAID", when
            inv.amount_credited += value
            self._settle_check(tenant, inv)
            self._touch_credit_note(tenant, note)
            self._touch_invoice(tenant, inv)
            return allocation

    def delete_allocation(self, tenant_id: str, credit_note_id: str, allocation_id: str) -> Allocation:
        with self.lock:
            tenant = self.tenant(tenant_id)
            allocation = tenant.allocations.get(allocation_id.lower())
            if (
                allocation is None
                or allocation.credit_note_id != credit_note_id.lower()
                or allocation.is_deleted
            ):
                raise NotFound("The resource you're looking for cannot be found")
            note = tenant.credit_notes[allocation.credit_note_id]
            inv = tenant.invoices[allocation.invoice_id]
            allocation.is_deleted = True
            allocation.updated_ms = self.now_ms()
            note.remaining_credit += allocation.amount
            if note.status == "PAID":
                note.status, note.fully_paid_on = "AUTHORISED", None
            inv.amount_credited -= allocation.amount
            self._settle_check(tenant, inv)
            self._touch_credit_note(tenant, note)
            self._touch_invoice(tenant, inv)
            return allocation
