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

from connector.sandbox.xero.accounts import AccountRules
from connector.sandbox.xero.books import history_amount, history_date
from connector.sandbox.xero.items import ItemRules
from connector.sandbox.xero.model import (
    ZERO,
    Allocation,
    BatchPayment,
    CreditNote,
    Invoice,
    Payment,
    money,
)
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


#: Unverified wording: Xero refuses deleting one payment of a batch, the message was not found.
MSG_IN_BATCH = "This payment is part of a batch payment; delete the batch payment instead"
#: What a status change is called in an invoice's History and notes.
_STATUS_CHANGE = {
    "SUBMITTED": "Submitted",
    "AUTHORISED": "Approved",
    "VOIDED": "Voided",
    "DELETED": "Deleted",
    "DRAFT": "Edited",
}


class Ledger(ItemRules, AccountRules):
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
            summary = _invoice_summary(tenant, inv)
            self._history(tenant, inv.id, "Created", summary)
            if inv.status != "DRAFT":
                self._history(tenant, inv.id, _STATUS_CHANGE[inv.status], summary)
            return inv

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
            edited = changed
            if status is not None and status != inv.status:
                inv.status = status
                changed = True
            if changed:
                self._touch_invoice(tenant, inv)
                summary = _invoice_summary(tenant, inv)
                if edited:
                    self._history(tenant, inv.id, "Edited", summary)
                if inv.status == status:
                    self._history(tenant, inv.id, _STATUS_CHANGE.get(status, "Edited"), summary)
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

    def email_invoice(self, tenant_id: str, invoice_id: str) -> Invoice:
        """What ``POST /Invoices/{id}/Email`` does: mark the invoice sent to its contact. Only an
        approved sales invoice (AUTHORISED or PAID) whose contact has an email address can go."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            inv = self.get_invoice(tenant_id, invoice_id)
            contact = tenant.contacts[inv.contact_id]
            errors = []
            if inv.type != "ACCREC":
                errors.append("Only sales invoices (ACCREC) can be emailed")
            elif inv.status not in ("AUTHORISED", "PAID"):
                errors.append(f"An invoice with status {inv.status} cannot be emailed")
            if not contact.email:
                errors.append(f"The contact {contact.name} has no email address")
            if errors:
                raise LedgerError(*errors)
            if not inv.sent_to_contact:
                inv.sent_to_contact = True
                self._touch_invoice(tenant, inv)
            self._history(tenant, inv.id, "Sent", f"This invoice has been emailed to {contact.name} ({contact.email}).")
            return inv

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
            contact = tenant.contacts[inv.contact_id].name
            received = "Payment Received" if inv.type == "ACCREC" else "Payment Made"
            words = f"on {history_date(payment.date)} for {history_amount(payment.amount)}."
            self._history(tenant, inv.id, received, f"{received} from {contact} {words}")
            self._history(tenant, payment.id, "Created", f"Payment of {inv.number} {words}")
            if inv.status == "PAID":
                self._history(tenant, inv.id, "Paid", _invoice_summary(tenant, inv))
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
            batch = tenant.batch_payments.get(payment.batch_payment_id or "")
            if batch is not None and batch.status != "DELETED":
                raise LedgerError(MSG_IN_BATCH)
            return self._delete_payment(tenant, payment)

    def _delete_payment(self, tenant: Tenant, payment: Payment) -> Payment:
        payment.status = "DELETED"
        payment.updated_ms = self.now_ms()
        if payment.invoice_id:
            inv = tenant.invoices[payment.invoice_id]
            inv.amount_paid -= payment.amount
            self._settle_check(tenant, inv)
            self._touch_invoice(tenant, inv)
            self._history(tenant, inv.id, "Payment Deleted", f"Payment of {history_amount(payment.amount)} deleted.")
        self._history(tenant, payment.id, "Deleted", f"Payment of {history_amount(payment.amount)} deleted.")
        return payment

    # --- batch payments -------------------------------------------------------------------
    def check_batch_payment(
        self, tenant: Tenant, account_id: str | None, account_code: str | None, payments: list[PaymentInput]
    ) -> list[list[str]]:
        """Why Xero would refuse each payment of a batch (made into the batch's account)."""
        pending: dict[str, Decimal] = {}
        out = []
        types = set()
        for p in payments:
            p.account_id, p.account_code = account_id, account_code
            errors = self.check_payment(tenant, p, pending)
            inv = tenant.find_invoice(p.invoice_id or p.invoice_number or "")
            if inv is not None:
                types.add(inv.type)
            out.append(errors)
        if len(types) > 1:
            out = [[*e, "A batch payment cannot mix sales invoices and bills"] for e in out]
        if not payments:
            out = [["A batch payment must contain at least one payment"]]
        return out

    def create_batch_payment(
        self,
        tenant_id: str,
        payments: list[PaymentInput],
        *,
        account_id: str | None = None,
        account_code: str | None = None,
        date: date | None = None,
        reference: str | None = None,
    ) -> BatchPayment:
        """Several payments into one account as one batch (one line on the bank statement)."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            problems = self.check_batch_payment(tenant, account_id, account_code, payments)
            errors = [m for e in problems for m in e]
            if errors:
                raise LedgerError(*dict.fromkeys(errors))
            account = tenant.account(account_id, account_code)
            assert account is not None
            when = date or self.today(tenant_id)
            batch = BatchPayment(self.new_id(), "", account.id, when, ZERO, self.now_ms(), reference=reference)
            for p in payments:
                p.date = when
                p.reference = p.reference or reference
                payment = self.apply_payment(tenant_id, p)
                payment.batch_payment_id = batch.id
                batch.payment_ids.append(payment.id)
                batch.total += payment.amount
                inv = tenant.invoices[payment.invoice_id or ""]
                batch.type = "RECBATCH" if inv.type == "ACCREC" else "PAYBATCH"
            tenant.batch_payments[batch.id] = batch
            tenant.version += 1
            self._record("batch_payment", tenant, batch.id)
            self._history(tenant, batch.id, "Created", f"Batch payment of {history_amount(batch.total)}.")
            return batch

    def delete_batch_payment(self, tenant_id: str, batch_id: str) -> BatchPayment:
        """Delete a batch and every payment in it (the invoices owe the amounts again)."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            batch = tenant.batch_payments.get(batch_id.lower())
            if batch is None:
                raise NotFound("The resource you're looking for cannot be found")
            if batch.status == "DELETED":
                raise LedgerError("This batch payment has already been deleted")
            if batch.is_reconciled or any(tenant.payments[p].is_reconciled for p in batch.payment_ids):
                raise LedgerError(MSG_RECONCILED)
            batch.status = "DELETED"
            for payment_id in batch.payment_ids:
                payment = tenant.payments[payment_id]
                if payment.status != "DELETED":
                    self._delete_payment(tenant, payment)
            batch.updated_ms = self.now_ms()
            tenant.version += 1
            self._history(tenant, batch.id, "Deleted", f"Batch payment of {history_amount(batch.total)} deleted.")
            return batch

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
        return self._check_credit_allocation(
            tenant,
            tenant.credit_notes.get(credit_note_id.lower()),
            "credit note",
            invoice_ref,
            amount,
            pending,
            _credit_note_refusals,
            above_credit="The amount allocated exceeds the remaining credit on the credit note",
            above_due="The amount allocated exceeds the amount outstanding on the invoice",
        )

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
            note, inv, allocation = self._allocate_credit(
                tenant, tenant.credit_notes.get(credit_note_id.lower()), invoice_id, amount, date, self.check_allocation
            )
            if note.remaining_credit == 0:
                note.status, note.fully_paid_on = "PAID", allocation.date
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


def _credit_note_refusals(note: CreditNote, inv: Invoice) -> list[str]:
    errors: list[str] = []
    if note.status != "AUTHORISED":
        errors.append("Only an Authorised credit note can be allocated")
    if inv.status != "AUTHORISED":
        errors.append("Credit can only be allocated to Authorised invoices")
    return errors


def _invoice_summary(tenant: Tenant, inv: Invoice) -> str:
    """How an invoice's history lines describe it: "INV-0001 to Acme Ltd for 1,150.00."."""
    contact = tenant.contacts[inv.contact_id].name
    return f"{inv.number or 'Bill'} to {contact} for {history_amount(inv.total)}."
