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
from typing import Any

from connector.sandbox.common.clock import Clock
from connector.sandbox.xero.model import (
    ONE,
    ZERO,
    Account,
    Contact,
    CreditNote,
    Invoice,
    LineItem,
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

    """All tenants' books and the operations on them; safe to call from any thread."""

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
        elif kind == "contact":
            tenant.contacts.pop(record_id, None)
        tenant.version += 1

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
        self, tenant: Tenant, lines: list[LineInput], amount_types: str, default_tax: str
    ) -> tuple[list[LineItem], Decimal, Decimal, Decimal]:
        """Compute line amounts, tax and totals the way Xero does for each LineAmountTypes."""
        if amount_types not in LINE_AMOUNT_TYPES:
            raise LedgerError(f"LineAmountTypes must be one of {', '.join(LINE_AMOUNT_TYPES)}")
        built: list[LineItem] = []
        errors: list[str] = []
        for line in lines:
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
