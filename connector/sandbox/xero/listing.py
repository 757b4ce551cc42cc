"""List queries (GET /Invoices and friends): filters, order and a cache for paging.

Paging through 100,000 invoices asks the same question a hundred times with a different
``page``; the matched list is cached per (tenant, query, ledger version), so page 57
costs a slice, not a scan. Any change to the tenant's invoices bumps the version.

A keyset import asks a different question on every page: the same filter in UpdatedDateUTC order,
with a later ``If-Modified-Since`` (or ``where … UpdatedDateUTC>=DateTime(…)``) each time. Those
queries share one :class:`_Scan` per (tenant, filter, version): the filter is evaluated once per
invoice, in index order, and each page is a bisect into the matches, so a whole import is linear
instead of a scan and a count of every remaining invoice per page. The answers (records, order,
``itemCount``, and which error is raised) are exactly :func:`run_invoice_query`'s.
"""

from __future__ import annotations

import bisect
import dataclasses
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar, overload

from connector.sandbox.xero.model import Invoice, from_ms, id_key
from connector.sandbox.xero.query import (
    Getter,
    Predicate,
    compile_where,
    parse_order,
    sort_key,
    update_lower_bound,
)
from connector.sandbox.xero.state import Tenant

T = TypeVar("T")


def invoice_fields(t: Tenant) -> dict[str, Getter]:
    contacts = t.contacts
    return {
        "Type": lambda i: i.type,
        "Status": lambda i: i.status,
        "InvoiceNumber": lambda i: i.number,
        "Reference": lambda i: i.reference,
        "InvoiceID": lambda i: i.id,
        "Contact.ContactID": lambda i: i.contact_id,
        "Contact.Name": lambda i: contacts[i.contact_id].name,
        "Date": lambda i: i.date,
        "DueDate": lambda i: i.due_date,
        "FullyPaidOnDate": lambda i: i.fully_paid_on,
        "AmountDue": lambda i: i.amount_due,
        "AmountPaid": lambda i: i.amount_paid,
        "AmountCredited": lambda i: i.amount_credited,
        "Total": lambda i: i.total,
        "SubTotal": lambda i: i.sub_total,
        "TotalTax": lambda i: i.total_tax,
        "CurrencyCode": lambda i: i.currency,
        "SentToContact": lambda i: i.sent_to_contact,
        "HasAttachments": lambda i: False,
        "UpdatedDateUTC": lambda i: from_ms(i.updated_ms),
    }


CONTACT_FIELDS: dict[str, Getter] = {
    "ContactID": lambda c: c.id,
    "Name": lambda c: c.name,
    "ContactStatus": lambda c: c.status,
    "EmailAddress": lambda c: c.email,
    "ContactNumber": lambda c: c.number,
    "FirstName": lambda c: c.first_name,
    "LastName": lambda c: c.last_name,
    "IsCustomer": lambda c: c.is_customer,
    "IsSupplier": lambda c: c.is_supplier,
    "UpdatedDateUTC": lambda c: from_ms(c.updated_ms),
}

ACCOUNT_FIELDS: dict[str, Getter] = {
    "AccountID": lambda a: a.id,
    "Code": lambda a: a.code,
    "Name": lambda a: a.name,
    "Type": lambda a: a.type,
    "Status": lambda a: a.status,
    "Class": lambda a: a.account_class,
    "CurrencyCode": lambda a: a.currency,
    "EnablePaymentsToAccount": lambda a: a.enable_payments,
    "SystemAccount": lambda a: a.system_account,
    "UpdatedDateUTC": lambda a: from_ms(a.updated_ms),
}


def payment_fields(t: Tenant) -> dict[str, Getter]:
    return {
        "PaymentID": lambda p: p.id,
        "Status": lambda p: p.status,
        "PaymentType": lambda p: p.payment_type,
        "Date": lambda p: p.date,
        "Amount": lambda p: p.amount,
        "Reference": lambda p: p.reference,
        "IsReconciled": lambda p: p.is_reconciled,
        "Invoice.InvoiceID": lambda p: p.invoice_id,
        "Invoice.InvoiceNumber": lambda p: t.invoices[p.invoice_id].number if p.invoice_id else None,
        "Account.AccountID": lambda p: p.account_id,
        "Account.Code": lambda p: t.accounts[p.account_id].code,
        "UpdatedDateUTC": lambda p: from_ms(p.updated_ms),
    }


def credit_note_fields(t: Tenant) -> dict[str, Getter]:
    return {
        "CreditNoteID": lambda n: n.id,
        "CreditNoteNumber": lambda n: n.number,
        "Type": lambda n: n.type,
        "Status": lambda n: n.status,
        "Date": lambda n: n.date,
        "Total": lambda n: n.total,
        "RemainingCredit": lambda n: n.remaining_credit,
        "Contact.ContactID": lambda n: n.contact_id,
        "Contact.Name": lambda n: t.contacts[n.contact_id].name,
        "CurrencyCode": lambda n: n.currency,
        "UpdatedDateUTC": lambda n: from_ms(n.updated_ms),
    }


def bank_transaction_fields(t: Tenant) -> dict[str, Getter]:
    return {
        "BankTransactionID": lambda b: b.id,
        "Type": lambda b: b.type,
        "Status": lambda b: b.status,
        "Date": lambda b: b.date,
        "Total": lambda b: b.total,
        "Reference": lambda b: b.reference,
        "IsReconciled": lambda b: b.is_reconciled,
        "BankAccount.AccountID": lambda b: b.bank_account_id,
        "BankAccount.Code": lambda b: t.accounts[b.bank_account_id].code,
        "Contact.ContactID": lambda b: b.contact_id,
        "UpdatedDateUTC": lambda b: from_ms(b.updated_ms),
    }


def prepayment_fields(t: Tenant) -> dict[str, Getter]:
    return {
        "PrepaymentID": lambda o: o.id,
        "Type": lambda o: o.type,
        "Status": lambda o: o.status,
        "Reference": lambda o: o.number,
        "InvoiceNumber": lambda o: o.number,
        "Date": lambda o: o.date,
        "Total": lambda o: o.total,
        "SubTotal": lambda o: o.sub_total,
        "TotalTax": lambda o: o.total_tax,
        "RemainingCredit": lambda o: o.remaining_credit,
        "CurrencyCode": lambda o: o.currency,
        "Contact.ContactID": lambda o: o.contact_id,
        "Contact.Name": lambda o: t.contacts[o.contact_id].name,
        "UpdatedDateUTC": lambda o: from_ms(o.updated_ms),
    }


def batch_payment_fields(t: Tenant) -> dict[str, Getter]:
    return {
        "BatchPaymentID": lambda b: b.id,
        "Type": lambda b: b.type,
        "Status": lambda b: b.status,
        "Reference": lambda b: b.reference,
        "Date": lambda b: b.date,
        "TotalAmount": lambda b: b.total,
        "IsReconciled": lambda b: b.is_reconciled,
        "Account.AccountID": lambda b: b.account_id,
        "Account.Code": lambda b: t.accounts[b.account_id].code,
        "UpdatedDateUTC": lambda b: from_ms(b.updated_ms),
    }


ITEM_FIELDS: dict[str, Getter] = {
    "ItemID": lambda i: i.id,
    "Code": lambda i: i.code,
    "Name": lambda i: i.name,
    "Description": lambda i: i.description,
    "IsSold": lambda i: i.is_sold,
    "IsPurchased": lambda i: i.is_purchased,
    "IsTrackedAsInventory": lambda i: False,
    "SalesDetails.UnitPrice": lambda i: i.sales_unit_price,
    "SalesDetails.AccountCode": lambda i: i.sales_account_code,
    "PurchaseDetails.UnitPrice": lambda i: i.purchase_unit_price,
    "UpdatedDateUTC": lambda i: from_ms(i.updated_ms),
}
#: Currencies and tax rates are listed from (code, value) pairs.
CURRENCY_FIELDS: dict[str, Getter] = {"Code": lambda c: c[0], "Description": lambda c: c[1]}
TAX_RATE_FIELDS: dict[str, Getter] = {
    "TaxType": lambda r: r[0],
    "Name": lambda r: r[2],
    "Status": lambda r: "ACTIVE",
    "EffectiveRate": lambda r: r[1] * 100,
    "DisplayTaxRate": lambda r: r[1] * 100,
}


def overpayment_fields(t: Tenant) -> dict[str, Getter]:
    return {
        "OverpaymentID": lambda o: o.id,
        "Type": lambda o: o.type,
        "Status": lambda o: o.status,
        "Reference": lambda o: o.reference,
        "Date": lambda o: o.date,
        "Total": lambda o: o.total,
        "RemainingCredit": lambda o: o.remaining_credit,
        "CurrencyCode": lambda o: o.currency,
        "Contact.ContactID": lambda o: o.contact_id,
        "Contact.Name": lambda o: t.contacts[o.contact_id].name,
        "UpdatedDateUTC": lambda o: from_ms(o.updated_ms),
    }


def bank_transfer_fields(t: Tenant) -> dict[str, Getter]:
    return {
        "BankTransferID": lambda b: b.id,
        "Amount": lambda b: b.amount,
        "Date": lambda b: b.date,
        "Reference": lambda b: b.reference,
        "Status": lambda b: b.status,
        "FromBankAccount.AccountID": lambda b: b.from_account_id,
        "ToBankAccount.AccountID": lambda b: b.to_account_id,
        "FromBankAccount.Code": lambda b: t.accounts[b.from_account_id].code,
        "ToBankAccount.Code": lambda b: t.accounts[b.to_account_id].code,
        "CreatedDateUTC": lambda b: from_ms(b.created_ms),
        "UpdatedDateUTC": lambda b: from_ms(b.created_ms),
    }


@dataclass(frozen=True)
class InvoiceQuery:
    """Everything GET /Invoices filters on; hashable so it can key the cache."""

    since_ms: int | None = None
    where: str | None = None
    order: str | None = None
    ids: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    contact_ids: tuple[str, ...] = ()
    statuses: tuple[str, ...] = ()
    search: str | None = None
    created_by: str | None = None


def run_invoice_query(t: Tenant, q: InvoiceQuery) -> list[Invoice]:
    fields = invoice_fields(t)
    where = compile_where(q.where, fields)
    order = parse_order(q.order, fields)
    by_update = not order or (len(order) == 1 and order[0][0] == "updateddateutc")
    descending = bool(order) and order[0][2]

    candidates: Iterable[Invoice]
    if q.ids or q.numbers:
        picked: dict[str, Invoice] = {}
        for ref in q.ids:
            inv = t.invoices.get(id_key(ref))
            if inv is not None:
                picked[inv.id] = inv
        for number in q.numbers:
            inv_id = t.invoice_numbers.get(number)
            if inv_id is not None and (not q.ids or inv_id in picked):
                picked[inv_id] = t.invoices[inv_id]
        if q.ids and q.numbers:
            numbers = set(q.numbers)
            picked = {k: v for k, v in picked.items() if v.number in numbers}
        candidates = sorted(picked.values(), key=lambda inv: inv.index_key, reverse=descending)
        if q.since_ms is not None:
            candidates = [inv for inv in candidates if inv.updated_ms >= q.since_ms]
    else:
        candidates = t.invoices_by_update(q.since_ms, descending=descending and by_update)

    statuses = set(q.statuses)
    contact_ids = {id_key(c) for c in q.contact_ids}
    search = q.search.lower() if q.search else None
    out: list[Invoice] = []
    append = out.append
    for inv in candidates:
        if statuses and inv.status not in statuses:
            continue
        if contact_ids and inv.contact_id not in contact_ids:
            continue
        if q.created_by is not None and inv.created_by != q.created_by:
            continue
        if search and search not in inv.number.lower() and search not in (inv.reference or "").lower():
            continue
        if where is not None and not where(inv):
            continue
        append(inv)
    if not by_update:
        apply_order(out, order)
    return out


def apply_order(items: list[Any], order: list[tuple[str, Getter, bool]]) -> None:
    """Sort in place by several keys (stable sorts from the last key to the first)."""
    for _, getter, desc in reversed(order):
        items.sort(key=lambda obj, g=getter: sort_key(g(obj)), reverse=desc)


def simple_list(
    items: Iterable[T],
    fields: Mapping[str, Getter],
    *,
    since_ms: int | None,
    where: str | None,
    order: str | None,
    updated: Callable[[T], int],
    extra: Callable[[T], bool] | None = None,
) -> list[T]:
    """Filter and order a small collection (contacts, accounts, payments...) by a full scan."""
    predicate = compile_where(where, fields)
    ordering = parse_order(order, fields)
    out = [
        item
        for item in items
        if (since_ms is None or updated(item) >= since_ms)
        and (predicate is None or predicate(item))
        and (extra is None or extra(item))
    ]
    out.sort(key=updated)
    if ordering:
        apply_order(out, ordering)
    return out


class InvoiceView(Sequence[Invoice]):
    """The matches of an update-ordered query from one position on, without copying them."""

    __slots__ = ("_descending", "_items", "_start")

    def __init__(self, items: list[Invoice], start: int, descending: bool) -> None:
        self._items, self._start, self._descending = items, start, descending

    def __len__(self) -> int:
        return len(self._items) - self._start

    @overload
    def __getitem__(self, index: int) -> Invoice: ...
    @overload
    def __getitem__(self, index: slice) -> list[Invoice]: ...
    def __getitem__(self, index: int | slice) -> Invoice | list[Invoice]:
        if isinstance(index, slice):
            return [self._items[self._at(i)] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("InvoiceView index out of range")
        return self._items[self._at(index)]

    def __iter__(self) -> Iterator[Invoice]:
        if self._descending:
            return (self._items[i] for i in range(len(self._items) - 1, self._start - 1, -1))
        return (self._items[i] for i in range(self._start, len(self._items)))

    def _at(self, i: int) -> int:
        return len(self._items) - 1 - i if self._descending else self._start + i


@dataclass(eq=False)
class _Scan:
    """One filter's matches over the tenant's UpdatedDateUTC index, evaluated from ``lo`` to the end.

    Valid while the tenant's ``version`` is unchanged (the index positions stay put). A query
    starting before ``lo`` evaluates the positions in between and prepends them.
    """

    version: int
    lo: int
    keys: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # index keys of matches
    items: list[Invoice] = dataclasses.field(default_factory=list)
    errors: list[tuple[int, Exception]] = dataclasses.field(default_factory=list)  # (position, raised)


def _update_order(order: str | None) -> bool | None:
    """For an ``order`` that sorts by UpdatedDateUTC alone (or none): is it descending? Else None.
    The same reading as :func:`parse_order`, which still parses it (and raises) in the query."""
    if order is None or not order.strip():
        return False
    parts = [p.split() for p in order.split(",") if p.split()]
    if len(parts) != 1 or parts[0][0].lower() != "updateddateutc" or len(parts[0]) > 2:
        return None
    if len(parts[0]) == 2 and parts[0][1].upper() not in ("ASC", "DESC"):
        return None
    return len(parts[0]) == 2 and parts[0][1].upper() == "DESC"


def _keep(q: InvoiceQuery, where: Predicate | None) -> Callable[[Invoice], bool]:
    """:func:`run_invoice_query`'s filters, in its order, as one predicate."""
    statuses = set(q.statuses)
    contact_ids = {id_key(c) for c in q.contact_ids}
    search = q.search.lower() if q.search else None
    created_by = q.created_by

    def keep(inv: Invoice) -> bool:
        if statuses and inv.status not in statuses:
            return False
        if contact_ids and inv.contact_id not in contact_ids:
            return False
        if created_by is not None and inv.created_by != created_by:
            return False
        if search and search not in inv.number.lower() and search not in (inv.reference or "").lower():
            return False
        return where is None or bool(where(inv))

    return keep


class QueryCache:
    """Small LRUs of matched invoice lists and of update-ordered scans, valid while the tenant's
    version is unchanged."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, InvoiceQuery], tuple[int, list[Invoice]]] = OrderedDict()
        self._scans: OrderedDict[tuple[str, InvoiceQuery, tuple[str, ...] | None], _Scan] = OrderedDict()

    def invoices(self, t: Tenant, q: InvoiceQuery) -> Sequence[Invoice]:
        if not q.ids and not q.numbers and _update_order(q.order) is not None:
            return self._scanned(t, q)
        key = (t.id, q)
        with self._lock:
            hit = self._entries.get(key)
            if hit is not None and hit[0] == t.version:
                self._entries.move_to_end(key)
                return hit[1]
        result = run_invoice_query(t, q)
        with self._lock:
            self._entries[key] = (t.version, result)
            self._entries.move_to_end(key)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)
        return result

    def _scanned(self, t: Tenant, q: InvoiceQuery) -> InvoiceView:
        """:func:`run_invoice_query` for a query in UpdatedDateUTC order with no IDs or numbers."""
        fields = invoice_fields(t)
        where = compile_where(q.where, fields)  # parse errors first, as run_invoice_query
        order = parse_order(q.order, fields)
        descending = bool(order) and order[0][2]
        keys = t._keys
        start = 0 if q.since_ms is None else bisect.bisect_left(keys, (q.since_ms, -1))
        bound = update_lower_bound(q.where, fields) if where is not None else None
        rest_key: tuple[str, ...] | None = None
        if bound is not None:
            where, rest_key = bound.rest, bound.rest_key
            lo, hi = start, len(keys)  # the first position at or after the bound (stamps only grow)
            while lo < hi:
                mid = (lo + hi) // 2
                if bound.holds(from_ms(keys[mid][0])):
                    hi = mid
                else:
                    lo = mid + 1
            start = lo
        scan_key = (t.id, dataclasses.replace(q, since_ms=None, order=None, where=None if bound else q.where), rest_key)
        with self._lock:
            scan = self._scans.get(scan_key)
            if scan is None or scan.version != t.version:
                scan = _Scan(t.version, len(keys))
                self._scans[scan_key] = scan
            self._scans.move_to_end(scan_key)
            while len(self._scans) > self.size:
                self._scans.popitem(last=False)
            if start < scan.lo:
                self._extend(t, scan, start, _keep(q, where))
            errors = scan.errors
            if errors:
                if descending and errors[-1][0] >= start:
                    raise errors[-1][1]
                if not descending:
                    first = bisect.bisect_left(errors, start, key=lambda e: e[0])
                    if first < len(errors):
                        raise errors[first][1]
            first_match = bisect.bisect_left(scan.keys, keys[start]) if start < len(keys) else len(scan.keys)
            return InvoiceView(scan.items, first_match, descending)

    @staticmethod
    def _extend(t: Tenant, scan: _Scan, start: int, keep: Callable[[Invoice], bool]) -> None:
        """Evaluate positions ``start`` to ``scan.lo`` and put their matches (and errors) first."""
        keys, vals = t._keys, t._vals
        new_keys: list[tuple[int, int]] = []
        new_items: list[Invoice] = []
        new_errors: list[tuple[int, Exception]] = []
        for pos in range(start, scan.lo):
            inv = vals[pos]
            try:
                kept = keep(inv)
            except Exception as exc:  # raised again for every query whose range holds it
                new_errors.append((pos, exc))
                continue
            if kept:
                new_keys.append(keys[pos])
                new_items.append(inv)
        scan.keys = new_keys + scan.keys if scan.keys else new_keys
        scan.items = new_items + scan.items if scan.items else new_items
        scan.errors = new_errors + scan.errors
        scan.lo = start
