"""A tenant's books (records plus the UpdatedDateUTC index) and the ledger's vocabulary:
errors, change events and the inputs callers describe records with."""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from operator import attrgetter

from connector.sandbox.xero.model import (
    Account,
    Allocation,
    BankTransaction,
    BankTransfer,
    BatchPayment,
    Contact,
    CreditNote,
    HistoryRecord,
    Invoice,
    Item,
    Organisation,
    Overpayment,
    Payment,
    Prepayment,
    id_key,
)

INVOICE_TYPES = ("ACCREC", "ACCPAY")
CREDIT_NOTE_TYPES = ("ACCRECCREDIT", "ACCPAYCREDIT")
LINE_AMOUNT_TYPES = ("Exclusive", "Inclusive", "NoTax")
CREATE_STATUSES = ("DRAFT", "SUBMITTED", "AUTHORISED")
PAYMENT_TYPE = {"ACCREC": "ACCRECPAYMENT", "ACCPAY": "ACCPAYPAYMENT"}

# Xero's own wording where it is known (see research notes), plain wording otherwise.
MSG_OVERPAY = "Payment amount exceeds the amount outstanding on this document"
MSG_HAS_PAYMENTS = "This document cannot be edited as it has a payment or credit note allocated to it."
MSG_BAD_STATUS = "Invoice not of valid status for modification"
# Unverified wording: Xero's live answer for its sibling case, editing a reconciled bank
# transaction, is "This Bank Transaction cannot be edited as it has been reconciled with a
# Bank Statement." (captured in several public integrations); the payment one was not found.
MSG_RECONCILED = "Payment cannot be deleted as it has been reconciled"


class LedgerError(Exception):
    """A request the ledger refuses; ``messages`` become Xero ValidationErrors."""

    def __init__(self, *messages: str) -> None:
        super().__init__("; ".join(messages))
        self.messages = list(messages)


class NotFound(LedgerError):
    """The record does not exist (404 at the API)."""


@dataclass(frozen=True)
class ChangeEvent:
    """What a webhook reports: a resource of a category was created or updated."""

    tenant_id: str
    category: str  # INVOICE, CREDITNOTE, CONTACT
    resource_id: str
    event_type: str  # CREATE or UPDATE
    when_ms: int
    data: dict[str, str] = field(default_factory=dict)


@dataclass
class LineInput:
    """One line as a caller describes it; the ledger computes amounts and tax."""

    description: str = ""
    quantity: Decimal | None = None
    unit_amount: Decimal | None = None
    line_amount: Decimal | None = None
    account_code: str | None = None
    tax_type: str | None = None
    item_code: str | None = None


@dataclass
class PaymentInput:
    amount: Decimal | None
    invoice_id: str | None = None
    invoice_number: str | None = None
    account_id: str | None = None
    account_code: str | None = None
    date: date | None = None
    reference: str | None = None
    currency_rate: Decimal | None = None
    is_reconciled: bool = False
    credit_note_given: bool = False


@dataclass
class Tenant:
    """One organisation and everything in its books."""

    org: Organisation
    accounts: dict[str, Account] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    invoices: dict[str, Invoice] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    credit_notes: dict[str, CreditNote] = field(default_factory=dict)
    allocations: dict[str, Allocation] = field(default_factory=dict)
    bank_transactions: dict[str, BankTransaction] = field(default_factory=dict)
    bank_transfers: dict[str, BankTransfer] = field(default_factory=dict)
    overpayments: dict[str, Overpayment] = field(default_factory=dict)
    prepayments: dict[str, Prepayment] = field(default_factory=dict)
    batch_payments: dict[str, BatchPayment] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)
    history: dict[str, HistoryRecord] = field(default_factory=dict)
    currencies: dict[str, Decimal] = field(default_factory=dict)  # code -> default rate vs base
    invoice_numbers: dict[str, str] = field(default_factory=dict)  # ACCREC number -> id
    next_invoice_no: int = 1
    next_credit_no: int = 1
    seq: int = 0
    version: int = 0  # bumps on every invoice change; list-query caches key on it
    _keys: list[tuple[int, int]] = field(default_factory=list)
    _vals: list[Invoice] = field(default_factory=list)
    _history_of: dict[str, list[str]] = field(default_factory=dict)  # record id -> history ids, oldest first

    @property
    def id(self) -> str:
        return self.org.id

    # --- the UpdatedDateUTC index -------------------------------------------------------
    def rebuild_index(self) -> None:
        ordered = sorted(self.invoices.values(), key=attrgetter("updated_ms", "seq"))
        self._vals = ordered
        self._keys = [(inv.updated_ms, inv.seq) for inv in ordered]
        self._history_of = {}
        for record in sorted(self.history.values(), key=attrgetter("date_ms")):
            self._history_of.setdefault(record.record_id, []).append(record.id)
        self.version += 1

    # --- history and notes ----------------------------------------------------------------
    def add_history(self, record: HistoryRecord) -> None:
        self.history[record.id] = record
        self._history_of.setdefault(record.record_id, []).append(record.id)

    def remove_history_of(self, record_id: str) -> None:
        for history_id in self._history_of.pop(record_id, []):
            self.history.pop(history_id, None)

    def history_of(self, record_id: str) -> list[HistoryRecord]:
        """A record's history, newest first (as Xero lists it)."""
        return [self.history[h] for h in reversed(self._history_of.get(record_id, []))]

    def _index_remove(self, inv: Invoice) -> None:
        pos = bisect.bisect_left(self._keys, inv.index_key)
        if pos < len(self._keys) and self._vals[pos] is inv:
            del self._keys[pos]
            del self._vals[pos]

    def _index_insert(self, inv: Invoice) -> None:
        key = inv.index_key
        if not self._keys or key > self._keys[-1]:
            self._keys.append(key)
            self._vals.append(inv)
            return
        pos = bisect.bisect_left(self._keys, key)
        self._keys.insert(pos, key)
        self._vals.insert(pos, inv)

    def invoices_by_update(self, since_ms: int | None = None, descending: bool = False) -> Iterator[Invoice]:
        """Invoices in UpdatedDateUTC order, starting at ``since_ms`` without scanning before it."""
        start = 0 if since_ms is None else bisect.bisect_left(self._keys, (since_ms, -1))
        if descending:
            return (self._vals[i] for i in range(len(self._vals) - 1, start - 1, -1))
        return (self._vals[i] for i in range(start, len(self._vals)))

    # --- lookups --------------------------------------------------------------------------
    def account(self, account_id: str | None = None, code: str | None = None) -> Account | None:
        if account_id:
            return self.accounts.get(id_key(account_id))
        if code is not None:
            for acc in self.accounts.values():
                if acc.code == code:
                    return acc
        return None

    def item(self, item_id: str | None = None, code: str | None = None) -> Item | None:
        """By ItemID (any GUID format) or by Code (Xero takes either in the path)."""
        if item_id:
            found = self.items.get(id_key(item_id))
            if found is not None:
                return found
            code = code or item_id
        if code:
            for item in self.items.values():
                if item.code == code:
                    return item
        return None

    def contact_by_name(self, name: str) -> Contact | None:
        lowered = name.strip().lower()
        for contact in self.contacts.values():
            if contact.name.lower() == lowered:
                return contact
        return None

    def find_invoice(self, ref: str) -> Invoice | None:
        """By InvoiceID (in any GUID format), or by InvoiceNumber (Xero accepts either in the path)."""
        inv = self.invoices.get(id_key(ref))
        if inv is None and ref in self.invoice_numbers:
            inv = self.invoices.get(self.invoice_numbers[ref])
        return inv

