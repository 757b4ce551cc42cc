"""The books every rule module works on: tenants, ids, the clock, change events, batches,
contacts, line arithmetic, and the invoice bookkeeping (touch, settle) that payments, credit
notes and overpayments all share.

``Books`` is the root of the ledger's class chain (``Books`` → ``BankingRules`` →
``OverpaymentRules`` → ``state.Ledger``): each rule module imports only what is below it,
so no module needs the final ``Ledger`` class and there is no import circle.
"""

from __future__ import annotations

import random
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from connector.sandbox.common.clock import Clock
from connector.sandbox.xero.model import (
    ONE,
    ZERO,
    Account,
    Allocation,
    Contact,
    CreditNote,
    HistoryRecord,
    Invoice,
    Item,
    LineItem,
    Overpayment,
    Prepayment,
    money,
    to_ms,
)
from connector.sandbox.xero.tenant import (
    LINE_AMOUNT_TYPES,
    ChangeEvent,
    LedgerError,
    LineInput,
    NotFound,
    Tenant,
)

Listener = Callable[[ChangeEvent], None]
#: What ``build_lines`` gives: the lines, SubTotal, TotalTax and Total.
Booked = tuple[list[LineItem], Decimal, Decimal, Decimal]
#: What can be allocated to an invoice: a credit note's, an overpayment's or a prepayment's credit.
Credit = TypeVar("Credit", CreditNote, Overpayment, Prepayment)
#: ``check_allocation`` / ``check_overpayment_allocation``: (tenant, credit id, invoice, amount, pending).
AllocationCheck = Callable[[Tenant, str, str, Decimal | None, dict[str, Decimal]], list[str]]

#: System accounts Xero keeps for itself: a line item cannot be coded to them.
_CONTROL_ACCOUNTS = ("DEBTORS", "CREDITORS")


def line_account_problem(account: Account) -> str | None:
    """Why Xero refuses a line item coded to this account (None when it takes it).

    An archived account is refused with Xero's own words ("Account code '310' has been
    archived, or deleted."); bank accounts and the receivable/payable control accounts
    cannot carry line items (money reaches them through payments and transfers).
    """
    if account.status != "ACTIVE":
        return f"Account code '{account.code}' has been archived, or deleted."
    if account.is_bank:
        return f"Account code '{account.code}' is a bank account and cannot be used on a line item."
    if account.system_account in _CONTROL_ACCOUNTS:
        return f"Account code '{account.code}' is a system account and cannot be used on a line item."
    return None


class Books:
    """All tenants' records and the plumbing every rule uses; safe to call from any thread."""

    def __init__(self, clock: Clock, id_seed: int | None = None) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.tenants: dict[str, Tenant] = {}
        self._listeners: list[Listener] = []
        self._ids = random.Random(id_seed) if id_seed is not None else None
        self._journal: list[tuple[str, Tenant, str]] | None = None
        self._held: list[ChangeEvent] | None = None

    # --- plumbing -------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def new_id(self) -> str:
        if self._ids is None:
            return str(uuid.uuid4())
        return str(uuid.UUID(int=self._ids.getrandbits(128), version=4))

    def tenant(self, tenant_id: str) -> Tenant:
        tenant = self.tenants.get(tenant_id.lower())
        if tenant is None:
            raise NotFound(f"unknown tenant {tenant_id}")
        return tenant

    def add_tenant(self, tenant: Tenant) -> Tenant:
        with self.lock:
            self.tenants[tenant.id] = tenant
            tenant.rebuild_index()
        return tenant

    def now_ms(self) -> int:
        return to_ms(self.clock.now())

    def today(self, tenant_id: str) -> date:
        """The organisation's own calendar date now (Auckland is often a day ahead of UTC)."""
        return self.tenant(tenant_id).org.local_date(self.clock.now())

    def _emit(self, tenant: Tenant, category: str, resource_id: str, created: bool, **data: str) -> None:
        event = ChangeEvent(
            tenant.id, category, resource_id, "CREATE" if created else "UPDATE", self.now_ms(), data
        )
        if self._held is not None:
            self._held.append(event)
            return
        for listener in self._listeners:
            listener(event)

    def _record(self, kind: str, tenant: Tenant, record_id: str) -> None:
        if self._journal is not None:
            self._journal.append((kind, tenant, record_id))

    @contextmanager
    def batch(self) -> Iterator[None]:
        """All-or-nothing creation: if the block raises, records it created are removed
        and their change events never go out (Xero's summarizeErrors=true batches)."""
        with self.lock:
            if self._journal is not None:  # already inside a batch
                yield
                return
            self._journal, self._held = [], []
            try:
                yield
            except BaseException:
                for kind, tenant, record_id in reversed(self._journal):
                    self._undo_create(kind, tenant, record_id)
                raise
            else:
                held = self._held
            finally:
                self._journal, self._held = None, None
            for event in held:
                for listener in self._listeners:
                    listener(event)

    def _undo_create(self, kind: str, tenant: Tenant, record_id: str) -> None:
        if kind == "invoice":
            inv = tenant.invoices.pop(record_id)
            tenant._index_remove(inv)
            if tenant.invoice_numbers.get(inv.number) == inv.id:
                del tenant.invoice_numbers[inv.number]
        elif kind == "credit_note":
            tenant.credit_notes.pop(record_id, None)
        elif kind == "bank_transfer":
            transfer = tenant.bank_transfers.pop(record_id)
            tenant.bank_transactions.pop(transfer.from_transaction_id, None)
            tenant.bank_transactions.pop(transfer.to_transaction_id, None)
        elif kind == "bank_transaction":
            tenant.bank_transactions.pop(record_id, None)
        elif kind == "overpayment":
            overpayment = tenant.overpayments.pop(record_id)
            tenant.bank_transactions.pop(overpayment.bank_transaction_id, None)
        elif kind == "prepayment":
            prepayment = tenant.prepayments.pop(record_id)
            tenant.bank_transactions.pop(prepayment.bank_transaction_id, None)
        elif kind == "contact":
            tenant.contacts.pop(record_id, None)
        elif kind == "item":
            tenant.items.pop(record_id, None)
        elif kind == "batch_payment":
            batch = tenant.batch_payments.pop(record_id)
            for payment_id in batch.payment_ids:
                payment = tenant.payments.pop(payment_id)
                tenant.remove_history_of(payment_id)
                inv = tenant.invoices.get(payment.invoice_id or "")
                if inv is not None:
                    inv.payment_ids.remove(payment_id)
                    inv.amount_paid -= payment.amount
                    self._settle_check(tenant, inv)
                    self._touch_invoice(tenant, inv)
        tenant.remove_history_of(record_id)
        tenant.version += 1

    def _history(
        self, tenant: Tenant, record_id: str, changes: str, details: str, user: str = "System Generated"
    ) -> HistoryRecord:
        """Add a line to a record's History and notes ("System Generated" is what Xero shows for
        changes made through the API)."""
        record = HistoryRecord(self.new_id(), record_id, changes, details, self.now_ms(), user)
        tenant.add_history(record)
        return record

    def _touch_invoice(self, tenant: Tenant, inv: Invoice, created: bool = False) -> None:
        """Every change bumps UpdatedDateUTC and moves the invoice to the end of the index."""
        if not created:
            tenant._index_remove(inv)
        tenant.seq += 1
        inv.updated_ms = max(self.now_ms(), inv.updated_ms)
        inv.seq = tenant.seq
        tenant._index_insert(inv)
        tenant.version += 1
        self._emit(tenant, "INVOICE", inv.id, created)

    def _touch_credit_note(self, tenant: Tenant, note: CreditNote, created: bool = False) -> None:
        note.updated_ms = max(self.now_ms(), note.updated_ms)
        tenant.version += 1
        self._emit(tenant, "CREDITNOTE", note.id, created, Type=note.type, Status=note.status)

    # --- contacts -------------------------------------------------------------------------
    def create_contact(self, tenant_id: str, name: str, email: str | None = None, **extra: Any) -> Contact:
        with self.lock:
            tenant = self.tenant(tenant_id)
            if not name or not name.strip():
                raise LedgerError("The contact name must be specified.")
            if tenant.contact_by_name(name):
                raise LedgerError(f"The contact name {name} is already assigned to another contact.")
            contact = Contact(
                id=self.new_id(), name=name.strip(), updated_ms=self.now_ms(), email=email, **extra
            )
            tenant.contacts[contact.id] = contact
            tenant.version += 1
            self._record("contact", tenant, contact.id)
            self._emit(tenant, "CONTACT", contact.id, True)
            self._history(tenant, contact.id, "Created", f"Contact {contact.name} created.")
            return contact

    def update_contact(self, tenant_id: str, contact_id: str, name: str | None = None, **fields: Any) -> Contact:
        """Change a contact's name or details (``None`` leaves a field as it is)."""
        with self.lock:
            tenant = self.tenant(tenant_id)
            contact = tenant.contacts.get(contact_id.lower())
            if contact is None:
                raise NotFound("The resource you're looking for cannot be found")
            if name is not None and name.strip() and name.strip().lower() != contact.name.lower():
                clash = tenant.contact_by_name(name)
                if clash is not None and clash.id != contact.id:
                    raise LedgerError(f"The contact name {name} is already assigned to another contact.")
                contact.name = name.strip()
            for key, value in fields.items():
                if value is not None:
                    setattr(contact, key, value)
            contact.updated_ms = max(self.now_ms(), contact.updated_ms)
            tenant.version += 1
            self._emit(tenant, "CONTACT", contact.id, False)
            self._history(tenant, contact.id, "Edited", f"Contact {contact.name} edited.")
            return contact

    def resolve_contact(self, tenant: Tenant, contact_id: str | None, name: str | None) -> Contact:
        if contact_id:
            contact = tenant.contacts.get(contact_id.lower())
            if contact is None:
                raise LedgerError("The contact does not exist or is not valid.")
            return contact
        if name:
            return tenant.contact_by_name(name) or self.create_contact(tenant.id, name)
        raise LedgerError("A Contact must be specified for this type of transaction")

    # --- lines and totals -----------------------------------------------------------------
    def build_lines(
        self, tenant: Tenant, lines: list[LineInput], amount_types: str, default_tax: str, *, sales: bool = True
    ) -> Booked:
        """Compute line amounts, tax and totals the way Xero does for each LineAmountTypes.

        A line naming an ``ItemCode`` takes what it leaves out (description, unit price, account,
        tax type) from the item's sales details (``sales``) or purchase details; an unknown code
        is refused."""
        if amount_types not in LINE_AMOUNT_TYPES:
            raise LedgerError(f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}")
        built: list[LineItem] = []
        errors: list[str] = []
        for line in lines:
            if line.item_code:
                item = tenant.item(code=line.item_code)
                if item is None:
                    errors.append(f"Item code '{line.item_code}' is not valid.")
                    continue
                line = _with_item(line, item, sales)
            code = line.account_code
            account = tenant.account(code=code) if code else None
            if code and account is None:
                errors.append(f"Account code '{code}' is not a valid code for this document.")
                continue
            if account is not None and (problem := line_account_problem(account)):
                errors.append(problem)
                continue
            tax_type = line.tax_type or (account.tax_type if account and account.tax_type else default_tax)
            if amount_types == "NoTax":
                tax_type = "NONE"
            rate = tenant.org.tax_rates.get(tax_type)
            if rate is None:
                errors.append(
                    f"The TaxType code {tax_type} does not exist or cannot be used for this type of "
                    "transaction."
                )
                continue
            if line.quantity is None and line.unit_amount is None and line.line_amount is not None:
                quantity, unit = Decimal("1"), line.line_amount
            else:
                quantity = line.quantity if line.quantity is not None else Decimal("1")
                unit = line.unit_amount if line.unit_amount is not None else ZERO
            line_amount = money(quantity * unit)
            if amount_types == "Exclusive":
                tax = money(line_amount * rate)
            elif amount_types == "Inclusive":
                tax = money(line_amount * rate / (1 + rate))
            else:
                tax = ZERO
            built.append(
                LineItem(
                    self.new_id(),
                    line.description or "",
                    quantity,
                    unit,
                    code or "",
                    tax_type,
                    tax,
                    line_amount,
                    line.item_code,
                )
            )
        if errors:
            raise LedgerError(*errors)
        line_sum = sum((li.line_amount for li in built), ZERO)
        tax_sum = sum((li.tax_amount for li in built), ZERO)
        if amount_types == "Inclusive":
            return built, line_sum - tax_sum, tax_sum, line_sum
        return built, line_sum, tax_sum, line_sum + tax_sum

    def _currency(self, tenant: Tenant, currency: str | None, rate: Decimal | None) -> tuple[str, Decimal]:
        code = (currency or tenant.org.base_currency).upper()
        if code == tenant.org.base_currency:
            return code, ONE
        if code not in tenant.currencies:
            raise LedgerError(f"Organisation is not subscribed to currency {code}")
        return code, rate if rate is not None else tenant.currencies[code]

    def _settle_check(self, tenant: Tenant, inv: Invoice) -> None:
        """PAID exactly when nothing is due; FullyPaidOnDate is the latest settling date."""
        if inv.amount_due == 0 and inv.total > 0:
            dates = [
                tenant.payments[p].date for p in inv.payment_ids if tenant.payments[p].status != "DELETED"
            ]
            dates += [
                tenant.allocations[a].date for a in inv.allocation_ids if not tenant.allocations[a].is_deleted
            ]
            inv.status = "PAID"
            inv.fully_paid_on = max(dates) if dates else self.today(tenant.id)
        elif inv.status == "PAID":
            inv.status = "AUTHORISED"
            inv.fully_paid_on = None

    # --- credit allocated to invoices (credit notes and overpayments) ----------------------
    def _check_credit_allocation(
        self,
        tenant: Tenant,
        credit: Credit | None,
        noun: str,
        invoice_ref: str,
        amount: Decimal | None,
        pending: dict[str, Decimal],
        refusals: Callable[[Credit, Invoice], list[str]],
        *,
        above_credit: str,
        above_due: str,
        due_only_if_authorised: bool = False,
    ) -> list[str]:
        """Why Xero would refuse to allocate ``amount`` of a credit note's or an overpayment's
        (the ``noun``) credit to an invoice; ``pending`` tracks earlier ones in the batch.

        ``refusals`` are the credit's own status rules for the invoice; then the rules every
        allocation shares: same contact, same currency, an amount above zero, within the credit
        left and within the invoice's AmountDue (weighed only for an AUTHORISED invoice when
        ``due_only_if_authorised``). An accepted amount is claimed in ``pending``.
        """
        inv = tenant.find_invoice(invoice_ref) if invoice_ref else None
        if credit is None:
            return [f"The {noun} could not be found"]
        if inv is None:
            return ["Invoice could not be found"]
        errors = refusals(credit, inv)
        if inv.contact_id != credit.contact_id:
            errors.append(f"The {noun} and the invoice must be for the same contact")
        if inv.currency != credit.currency:
            errors.append(f"The {noun} and the invoice must be in the same currency")
        if amount is None or amount <= 0:
            errors.append("Allocation amount must be greater than zero")
        else:
            if amount > credit.remaining_credit - pending.get(credit.id, ZERO):
                errors.append(above_credit)
            weigh_due = inv.status == "AUTHORISED" or not due_only_if_authorised
            if weigh_due and amount > inv.amount_due - pending.get(inv.id, ZERO):
                errors.append(above_due)
        if not errors and amount is not None:
            pending[credit.id] = pending.get(credit.id, ZERO) + amount
            pending[inv.id] = pending.get(inv.id, ZERO) + amount
        return errors

    def _allocate_credit(
        self,
        tenant: Tenant,
        credit: Credit | None,
        invoice_id: str,
        amount: Decimal | str | int,
        when: date | None,
        check: AllocationCheck,
    ) -> tuple[Credit, Invoice, Allocation]:
        """Allocate ``amount`` of a credit note's or an overpayment's credit to an invoice, if
        ``check`` (the credit's ``check_*allocation``) finds nothing wrong: the credit left falls,
        AmountCredited rises and the invoice settles if nothing is due. NotFound when there is
        no such credit. The caller updates the credit's status and stamps (a credit note and an
        overpayment keep them differently)."""
        if credit is None:
            raise NotFound("The resource you're looking for cannot be found")
        value = money(amount)
        errors = check(tenant, credit.id, invoice_id, value, {})
        if errors:
            raise LedgerError(*errors)
        inv = tenant.find_invoice(invoice_id)
        assert inv is not None
        allocation = Allocation(
            self.new_id(),
            credit.id if isinstance(credit, CreditNote) else "",
            inv.id,
            value,
            when or self.today(tenant.id),
            self.now_ms(),
            overpayment_id=credit.id if isinstance(credit, Overpayment) else None,
            prepayment_id=credit.id if isinstance(credit, Prepayment) else None,
        )
        tenant.allocations[allocation.id] = allocation
        credit.allocation_ids.append(allocation.id)
        inv.allocation_ids.append(allocation.id)
        credit.remaining_credit -= value
        inv.amount_credited += value
        self._settle_check(tenant, inv)
        contact = tenant.contacts[inv.contact_id].name
        on = history_date(allocation.date)
        words = f"Credit applied from {contact} on {on} for {history_amount(value)}."
        self._history(tenant, inv.id, "Credit Applied", words)
        if inv.status == "PAID":
            self._history(tenant, inv.id, "Paid", f"{inv.number} to {contact} for {history_amount(inv.total)}.")
        return credit, inv, allocation


def history_amount(value: Decimal) -> str:
    """An amount as Xero's history wording writes it: 1,234.50."""
    return f"{value:,.2f}"


def history_date(day: date) -> str:
    return f"{day.day} {day:%B %Y}"


def _with_item(line: LineInput, item: Item, sales: bool) -> LineInput:
    """The line with what it leaves out taken from the item (Xero fills these in)."""
    price = item.sales_unit_price if sales else item.purchase_unit_price
    description = item.description if sales else (item.purchase_description or item.description)
    return LineInput(
        description=line.description or description or "",
        quantity=line.quantity,
        unit_amount=line.unit_amount if line.unit_amount is not None or line.line_amount is not None else price,
        line_amount=line.line_amount,
        account_code=line.account_code or (item.sales_account_code if sales else item.purchase_account_code),
        tax_type=line.tax_type or (item.sales_tax_type if sales else item.purchase_tax_type),
        item_code=item.code,
    )
