"""One company's books: its records by kind, the change index, tombstones and balances.

Each kind keeps its live records (voided and inactive ones included) in an ``Index``
sorted by (LastUpdatedTime, seq), so ``WHERE MetaData.LastUpdatedTime > X ORDER BY
MetaData.LastUpdatedTime`` starts with a bisect and a 1,000-row page out of 100,000 never
scans the rest. Deleted records leave the index and become tombstones, which only CDC
shows. Ids come from two per-company sequences, one for transactions and one for name
lists, as QBO hands them out.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from connector.sandbox.quickbooks.model import ENTITIES, NAME_LISTS, ZERO, Company, Posting, Record


class Index:
    """Records sorted by ``Record.key``; appends are O(1) because time only moves forward."""

    __slots__ = ("_keys", "_vals")

    def __init__(self) -> None:
        self._keys: list[tuple[int, int]] = []
        self._vals: list[Record] = []

    def __len__(self) -> int:
        return len(self._vals)

    def insert(self, record: Record) -> None:
        key = record.key
        if not self._keys or key > self._keys[-1]:
            self._keys.append(key)
            self._vals.append(record)
            return
        pos = bisect.bisect_left(self._keys, key)
        self._keys.insert(pos, key)
        self._vals.insert(pos, record)

    def remove(self, record: Record) -> None:
        pos = bisect.bisect_left(self._keys, record.key)
        while pos < len(self._vals) and self._keys[pos] == record.key:
            if self._vals[pos] is record:
                del self._keys[pos]
                del self._vals[pos]
                return
            pos += 1

    def rebuild(self, records: list[Record]) -> None:
        ordered = sorted(records, key=lambda r: r.key)
        self._vals = ordered
        self._keys = [r.key for r in ordered]

    def position(self, epoch: float, strict: bool) -> int:
        """First position whose stamp is ``> epoch`` (strict) or ``>= epoch``."""
        first = math.floor(epoch) + 1 if strict else math.ceil(epoch)
        return bisect.bisect_left(self._keys, (first, -1))

    def upper(self, epoch: float, inclusive: bool) -> int:
        """End position for an upper bound ``<= epoch`` (inclusive) or ``< epoch``."""
        first_out = math.floor(epoch) + 1 if inclusive else math.ceil(epoch)
        return bisect.bisect_left(self._keys, (first_out, -1))

    def slice(self, start: int = 0, stop: int | None = None, descending: bool = False) -> Iterator[Record]:
        stop = len(self._vals) if stop is None else stop
        if descending:
            return (self._vals[i] for i in range(stop - 1, start - 1, -1))
        return (self._vals[i] for i in range(start, stop))

    def __iter__(self) -> Iterator[Record]:
        return iter(list(self._vals))


@dataclass
class Books:
    """Everything one realm holds; the ledger's lock guards it."""

    company: Company
    records: dict[str, dict[str, Record]] = field(default_factory=lambda: {k: {} for k in ENTITIES})
    index: dict[str, Index] = field(default_factory=lambda: {k: Index() for k in ENTITIES})
    tombstones: dict[str, Index] = field(default_factory=lambda: {k: Index() for k in ENTITIES})
    next_txn_id: int = 100
    next_list_id: int = 1
    next_doc_number: int = 1001
    seq: int = 0
    version: int = 0  # bumps on every change (autosave and caches key on it)
    balances: dict[str, Decimal] = field(default_factory=dict)  # account id -> debit-positive home amount
    native: dict[str, Decimal] = field(default_factory=dict)  # account id -> the same in the account's currency
    customer_open: dict[str, Decimal] = field(default_factory=dict)  # customer id -> open invoice balance
    #: customer id -> credit not yet used: payments' UnappliedAmt and credit memos' RemainingCredit
    customer_credit: dict[str, Decimal] = field(default_factory=dict)
    #: invoice or credit memo id -> payment id -> amount that payment applied (ids are unique across kinds)
    applied: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)  # "ar", "undeposited", "income", ... -> account id
    bulk: bool = False  # seeding: skip index upkeep, rebuild_indexes() once at the end

    @property
    def realm_id(self) -> str:
        return self.company.realm_id

    def new_id(self, kind: str) -> str:
        if kind in NAME_LISTS:
            self.next_list_id += 1
            return str(self.next_list_id - 1)
        self.next_txn_id += 1
        return str(self.next_txn_id - 1)

    def next_seq(self) -> int:
        self.seq += 1
        return self.seq

    def get(self, kind: str, entity_id: str) -> Record | None:
        return self.records[kind].get(str(entity_id).strip())

    def add(self, record: Record) -> None:
        self.records[record.kind][record.id] = record
        if not self.bulk:
            self.index[record.kind].insert(record)
        self.version += 1

    def touch(self, record: Record, epoch: int) -> None:
        """A change: new LastUpdatedTime, next SyncToken, end of the index, cache dropped."""
        index = self.index[record.kind]
        if not self.bulk:
            index.remove(record)
        record.updated = max(epoch, record.updated)
        record.seq = self.next_seq()
        record.sync += 1
        record.json = None
        if not self.bulk:
            index.insert(record)
        self.version += 1

    def bury(self, record: Record, epoch: int) -> None:
        """Delete: out of the records and the index, into the tombstones (CDC only)."""
        if not self.bulk:
            self.index[record.kind].remove(record)
        del self.records[record.kind][record.id]
        record.deleted = True
        record.updated = max(epoch, record.updated)
        record.seq = self.next_seq()
        record.json = None
        self.tombstones[record.kind].insert(record)
        self.version += 1

    def post(self, postings: list[Posting], sign: int) -> None:
        for account_id, home_amount, amount in postings:
            self.balances[account_id] = self.balances.get(account_id, ZERO) + sign * home_amount
            self.native[account_id] = self.native.get(account_id, ZERO) + sign * amount

    def credit(self, customer_id: str | None, amount: Decimal) -> None:
        """Move a customer's unused credit (an unapplied payment, a credit memo's remaining credit)."""
        if customer_id is not None and amount:
            self.customer_credit[customer_id] = self.customer_credit.get(customer_id, ZERO) + amount

    def account(self, role: str) -> Record:
        return self.records["Account"][self.roles[role]]

    def rebuild_indexes(self) -> None:
        for kind in ENTITIES:
            self.index[kind].rebuild(list(self.records[kind].values()))
            self.tombstones[kind].rebuild(list(self.tombstones[kind]))
        self.version += 1
