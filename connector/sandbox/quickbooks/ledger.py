"""The ledger: all companies' books and the write operations QBO offers on them.

One re-entrant lock guards everything (the server is threaded and a payment touches
invoices, customers and accounts together). Every write follows one path:

* create: clean the body, let the entity's rules normalise it, link it (a payment lowers
  invoice balances), book its postings, stamp it;
* update: the body must carry the current ``SyncToken`` (else 5010 Stale Object); a
  ``sparse`` body is merged onto the record, a full one replaces it;
* void: amounts to zero and PrivateNote "Voided" (Invoice, Payment);
* delete: the record leaves queries and reads and becomes a CDC tombstone.

Once the accountant has closed the books (``close_books``), no transaction dated on or
before the close date can be created, changed, voided or deleted: QBO's fault 6200.

Records another write changed through a link (an invoice a payment was applied to) get a
new SyncToken and LastUpdatedTime too, and listeners (webhooks) hear about every change.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from connector.sandbox.common.clock import Clock
from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import Record, to_epoch
from connector.sandbox.quickbooks.rules import RULES, Ctx
from connector.sandbox.quickbooks.rules_base import boolean, check_open_period, clean_input
from connector.sandbox.quickbooks.wire import QboError


@dataclass(frozen=True)
class ChangeEvent:
    """What a webhook reports: an entity of a realm was created/updated/deleted/voided."""

    realm_id: str
    entity: str
    entity_id: str
    operation: str  # Create | Update | Delete | Void | Merge
    when: int  # epoch seconds


Listener = Callable[[ChangeEvent], None]
_DIGITS = re.compile(r"^[0-9]{1,19}$")


def entity_id_of(value: Any) -> str:
    """An entity Id as QBO reads it: a whole number (``"0042"`` is 42); anything else, a word, a
    fraction, a sign or no digits at all, is fault 2030 Invalid ID."""
    text = str(value).strip()
    if not _DIGITS.match(text):
        raise QboError.invalid_id(text)
    return str(int(text))


class Ledger:
    """All realms' books and the operations on them; safe to call from any thread."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.lock = threading.RLock()
        self.realms: dict[str, Books] = {}
        self._listeners: list[Listener] = []
        self.at: int | None = None  # seeding writes history: the stamp to use instead of the clock
        self.seeding = False  # trusted bodies from the seeder: no input cleaning, no change diffing

    # --- plumbing ---------------------------------------------------------------------------
    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def add_realm(self, books: Books) -> Books:
        with self.lock:
            self.realms[books.realm_id] = books
        return books

    def books(self, realm_id: str) -> Books:
        books = self.realms.get(str(realm_id))
        if books is None:
            raise KeyError(f"unknown realm {realm_id}")
        return books

    def now(self) -> int:
        return self.at if self.at is not None else to_epoch(self.clock.now())

    def today(self, realm_id: str) -> date:
        """The company's own calendar date (a +10:00 company is a day ahead of UTC)."""
        return self.books(realm_id).company.local_date(self.clock.now())

    def _emit(self, books: Books, record: Record, operation: str) -> None:
        if not self._listeners:
            return
        event = ChangeEvent(books.realm_id, record.kind, record.id, operation, record.updated)
        for listener in self._listeners:
            listener(event)

    def _ctx(self, books: Books, existing: Record | None = None) -> Ctx:
        if self.at is not None:
            today = books.company.local_date(datetime.fromtimestamp(self.at, UTC))
        else:
            today = books.company.local_date(self.clock.now())
        return Ctx(books, today, existing, seeding=self.seeding)

    def _finish(self, books: Books, ctx: Ctx, main: Record, now: int) -> None:
        """Re-stamp the other records this write changed through links, and announce them."""
        for (kind, entity_id), before in ctx.affected.items():
            other = books.get(kind, entity_id)
            if other is None or other is main or (before is not None and repr(other.doc) == before):
                continue
            books.touch(other, now)
            self._emit(books, other, "Update")

    @staticmethod
    def _current(books: Books, kind: str, system: dict[str, Any]) -> Record:
        entity_id = system.get("Id")
        if entity_id in (None, ""):
            raise QboError.required("Id")
        text = entity_id_of(entity_id)
        record = books.get(kind, text)
        if record is None:
            raise QboError.not_found(kind, text)
        sync = system.get("SyncToken")
        if sync in (None, ""):
            raise QboError.required("SyncToken")
        if str(sync).strip() != str(record.sync):
            raise QboError.stale()
        return record

    # --- reads ------------------------------------------------------------------------------
    def read(self, realm_id: str, kind: str, entity_id: str) -> Record:
        """``GET /{entity}/{id}``: 2030 Invalid ID for an Id that is not a number, 610 when none has it."""
        with self.lock:
            text = entity_id_of(entity_id)
            record = self.books(realm_id).get(kind, text)
            if record is None:
                raise QboError.not_found(kind, text)
            return record

    # --- writes -----------------------------------------------------------------------------
    def write(self, realm_id: str, kind: str, body: Any, operation: str | None = None,
              include: str | None = None) -> Record:
        """Dispatch like QBO's ``POST /{entity}``: ``?operation=delete|void``, ``update&include=void``,
        otherwise an update when the body has an Id and a create when it has none."""
        op = (operation or "").lower()
        if op == "delete":
            return self.delete(realm_id, kind, body)
        if op == "void" or (op == "update" and (include or "").lower() == "void"):
            return self.void(realm_id, kind, body)
        if op not in ("", "create", "update"):
            raise QboError.unsupported_operation(operation or "", kind)
        if isinstance(body, dict) and body.get("Id") not in (None, "", 0, "0"):
            return self.update(realm_id, kind, body)
        if op == "update":
            raise QboError.required("Id")
        return self.create(realm_id, kind, body)

    def create(self, realm_id: str, kind: str, body: Any) -> Record:
        with self.lock:
            books = self.books(realm_id)
            rules = RULES[kind]
            doc = dict(body) if self.seeding else clean_input(kind, body)[0]
            doc = {k: v for k, v in doc.items() if k not in rules.readonly}
            ctx = self._ctx(books)
            rules.normalize(ctx, doc)
            check_open_period(books, doc)
            now = self.now()
            record = Record(kind, books.new_id(kind), 0, now, now, books.next_seq(), doc)
            rules.link(ctx, record)
            record.postings = rules.postings(ctx, doc)
            books.post(record.postings, +1)
            books.add(record)
            self._emit(books, record, "Create")
            self._finish(books, ctx, record, now)
            return record

    def insert(self, realm_id: str, kind: str, doc: dict[str, Any], ctx: Ctx | None = None) -> Record:
        """Store a document that is already complete (the seeder's bulk path): no cleaning, no
        normalising, but the same links, postings and stamps as ``create``."""
        with self.lock:
            books = self.books(realm_id)
            rules = RULES[kind]
            ctx = ctx or self._ctx(books)
            ctx.affected.clear()
            now = self.now()
            record = Record(kind, books.new_id(kind), 0, now, now, books.next_seq(), doc)
            rules.link(ctx, record)
            record.postings = rules.postings(ctx, doc)
            books.post(record.postings, +1)
            books.add(record)
            self._emit(books, record, "Create")
            self._finish(books, ctx, record, now)
            return record

    def context(self, realm_id: str) -> Ctx:
        """A rule context for direct use (the seeder builds documents with the rules' helpers)."""
        return self._ctx(self.books(realm_id))

    def update(self, realm_id: str, kind: str, body: Any) -> Record:
        with self.lock:
            books = self.books(realm_id)
            rules = RULES[kind]
            sent, system = clean_input(kind, body)
            record = self._current(books, kind, system)
            ctx = self._ctx(books, record)
            check_open_period(books, record.doc)
            rules.check_update(ctx, record)
            sent = {k: v for k, v in sent.items() if k not in rules.readonly}
            if boolean(system.get("sparse", False), "sparse"):
                kept = {k: copy.deepcopy(v) for k, v in record.doc.items() if k not in rules.readonly}
                doc = {**kept, **sent}
            else:
                doc = sent
            rules.unlink(ctx, record)
            books.post(record.postings, -1)
            try:
                rules.normalize(ctx, doc)
                check_open_period(books, doc)
            except QboError:
                rules.link(self._ctx(books, record), record)  # back as it was; nothing is re-stamped
                books.post(record.postings, +1)
                raise
            record.doc = doc
            rules.link(ctx, record)
            record.postings = rules.postings(ctx, doc)
            books.post(record.postings, +1)
            now = self.now()
            books.touch(record, now)
            self._emit(books, record, "Update")
            self._finish(books, ctx, record, now)
            return record

    def void(self, realm_id: str, kind: str, body: Any) -> Record:
        with self.lock:
            books = self.books(realm_id)
            rules = RULES[kind]
            _sent, system = clean_input(kind, body)
            record = self._current(books, kind, system)
            ctx = self._ctx(books, record)
            check_open_period(books, record.doc)
            rules.check_void(ctx, record)
            rules.unlink(ctx, record)
            books.post(record.postings, -1)
            rules.void(ctx, record)
            rules.link(ctx, record)
            record.postings = rules.postings(ctx, record.doc)
            books.post(record.postings, +1)
            now = self.now()
            books.touch(record, now)
            self._emit(books, record, "Void")
            self._finish(books, ctx, record, now)
            return record

    def delete(self, realm_id: str, kind: str, body: Any) -> Record:
        with self.lock:
            books = self.books(realm_id)
            rules = RULES[kind]
            _sent, system = clean_input(kind, body)
            if not rules.can_delete:
                raise QboError.unsupported_operation("Delete", kind)
            record = self._current(books, kind, system)
            ctx = self._ctx(books, record)
            check_open_period(books, record.doc)
            rules.check_delete(ctx, record)
            rules.unlink(ctx, record)
            books.post(record.postings, -1)
            record.postings = []
            now = self.now()
            books.bury(record, now)
            self._emit(books, record, "Delete")
            self._finish(books, ctx, record, now)
            return record

    # --- conveniences for tests and demos ("something happened in QuickBooks") ----------------
    def create_invoice(
        self,
        realm_id: str,
        customer_id: str | None = None,
        amount: Decimal | str | int = "100.00",
        *,
        description: str = "Services",
        txn_date: date | None = None,
        due_date: date | None = None,
        doc_number: str | None = None,
        exchange_rate: Decimal | str | None = None,
        **extra: Any,
    ) -> Record:
        """An invoice with one sales line, as someone typing it into QuickBooks would make it."""
        with self.lock:
            books = self.books(realm_id)
            customer = customer_id or next(
                r.id for r in books.records["Customer"].values() if r.doc.get("Active", True)
            )
            body: dict[str, Any] = {
                "CustomerRef": {"value": str(customer)},
                "Line": [{"Amount": Decimal(str(amount)), "DetailType": "SalesItemLineDetail",
                          "Description": description, "SalesItemLineDetail": {}}],
                **extra,
            }
            if txn_date is not None:
                body["TxnDate"] = txn_date.isoformat()
            if due_date is not None:
                body["DueDate"] = due_date.isoformat()
            if doc_number is not None:
                body["DocNumber"] = doc_number
            if exchange_rate is not None:
                body["ExchangeRate"] = Decimal(str(exchange_rate))
            return self.create(realm_id, "Invoice", body)

    def record_payment(
        self,
        realm_id: str,
        invoice_id: str,
        amount: Decimal | str | int | None = None,
        *,
        deposit_to: str | None = None,
        reference: str | None = None,
        txn_date: date | None = None,
    ) -> Record:
        """A payment received outside the platform and applied to one invoice (whole balance by default)."""
        with self.lock:
            invoice = self.read(realm_id, "Invoice", invoice_id)
            value = Decimal(str(amount)) if amount is not None else invoice.doc["Balance"]
            body: dict[str, Any] = {
                "CustomerRef": dict(invoice.doc["CustomerRef"]),
                "TotalAmt": value,
                "Line": [{"Amount": value, "LinkedTxn": [{"TxnId": invoice.id, "TxnType": "Invoice"}]}],
            }
            if deposit_to is not None:
                body["DepositToAccountRef"] = {"value": deposit_to}
            if reference is not None:
                body["PaymentRefNum"] = reference
            if txn_date is not None:
                body["TxnDate"] = txn_date.isoformat()
            return self.create(realm_id, "Payment", body)

    def create_credit_memo(self, realm_id: str, customer_id: str, amount: Decimal | str | int, *,
                           description: str = "Credit", txn_date: date | None = None, **extra: Any) -> Record:
        """A credit memo with one line, as someone crediting a customer in QuickBooks would make it."""
        body: dict[str, Any] = {
            "CustomerRef": {"value": str(customer_id)},
            "Line": [{"Amount": Decimal(str(amount)), "DetailType": "SalesItemLineDetail",
                      "Description": description, "SalesItemLineDetail": {}}],
            **extra,
        }
        if txn_date is not None:
            body["TxnDate"] = txn_date.isoformat()
        return self.create(realm_id, "CreditMemo", body)

    def close_books(self, realm_id: str, through: date | None) -> None:
        """What an accountant does once a period is reconciled: nothing dated on or before
        ``through`` may change any more (None opens the books again)."""
        with self.lock:
            books = self.books(realm_id)
            books.company.book_close_date = through.isoformat() if through else None
            books.version += 1

    def enable_currency(self, realm_id: str, code: str, rate: Decimal | str) -> None:
        """Turn a currency on for a company (multicurrency), at ``rate`` home units per unit."""
        with self.lock:
            books = self.books(realm_id)
            books.company.rates[code] = Decimal(str(rate))
            books.version += 1

    def update_entity(self, realm_id: str, kind: str, entity_id: str, **fields: Any) -> Record:
        """A sparse update with the current SyncToken (an edit made in QuickBooks)."""
        with self.lock:
            record = self.read(realm_id, kind, entity_id)
            return self.update(realm_id, kind, {"Id": record.id, "SyncToken": str(record.sync), "sparse": True,
                                                **fields})

    def void_entity(self, realm_id: str, kind: str, entity_id: str) -> Record:
        with self.lock:
            record = self.read(realm_id, kind, entity_id)
            return self.void(realm_id, kind, {"Id": record.id, "SyncToken": str(record.sync)})

    def delete_entity(self, realm_id: str, kind: str, entity_id: str) -> Record:
        with self.lock:
            record = self.read(realm_id, kind, entity_id)
            return self.delete(realm_id, kind, {"Id": record.id, "SyncToken": str(record.sync)})

    def void_invoice(self, realm_id: str, invoice_id: str) -> Record:
        return self.void_entity(realm_id, "Invoice", invoice_id)

    def delete_invoice(self, realm_id: str, invoice_id: str) -> Record:
        return self.delete_entity(realm_id, "Invoice", invoice_id)
