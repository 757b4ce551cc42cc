"""The one protocol every ledger adapter implements, and what the engines rely on."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any, Protocol

from connector.ledgers.records import (
    InvoicePage,
    LedgerInvoice,
    Malformed,
    OrganisationFacts,
    PaymentResult,
    PaymentToPost,
    PayoutResult,
    PayoutToPost,
)


class TokenStore(Protocol):
    """Where an adapter reads its connection's token and saves a refreshed one (before using it).

    A store may also offer ``refreshing()``, a context manager held around a refresh: the one in
    connector/store/secrets.py serialises refreshes of a shared grant across processes.
    """

    def load(self) -> dict[str, Any] | None: ...

    def save(self, token: dict[str, Any]) -> None: ...


def refresh_lease(tokens: TokenStore) -> AbstractContextManager[Any]:
    """The store's cross-process refresh lease when it has one; nothing otherwise."""
    refreshing = getattr(tokens, "refreshing", None)
    return refreshing() if callable(refreshing) else nullcontext()


@dataclass
class CallCounter:
    """Ledger API calls made, by kind: the scarce resource every benchmark and sync run reports."""

    counts: dict[str, int] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, kind: str) -> None:
        with self._lock:
            self.counts[kind] = self.counts.get(kind, 0) + 1

    @property
    def total(self) -> int:
        return sum(v for k, v in self.counts.items() if not k.startswith("token"))


class Ledger(Protocol):
    """A connected ledger organisation, as the import and push engines see it."""

    provider: str
    calls: CallCounter
    #: How many payments one write request may carry.
    payment_batch_size: int

    def changed_invoices(self, cursor: str | None, overlap: timedelta) -> Iterator[InvoicePage]:
        """Pages of sales invoices changed since ``cursor`` (minus ``overlap``), oldest first."""
        ...

    def get_invoices(self, external_ids: list[str]) -> list[LedgerInvoice | Malformed]:
        """Re-read some invoices (before paying them, so nothing is paid twice)."""
        ...

    def post_payments(self, payments: list[PaymentToPost]) -> list[PaymentResult]:
        """Post payments; each result says whether that one was accepted."""
        ...

    def delete_payment(self, payment_external_id: str, key: str) -> None:
        """Remove a payment we posted. Raises ``NotFound`` when gone, ``ValidationError`` with the
        ledger's reason when the ledger refuses (e.g. the accountant has reconciled it)."""
        ...

    def post_payout(self, payout: PayoutToPost) -> PayoutResult:
        """The transfer clearing → bank for the net amount, and the fee spent from clearing.

        Every element of every write is checked: an element the ledger refused raises
        ``ValidationError`` with the ledger's message (never recorded as posted)."""
        ...

    def add_invoice_note(self, note: NoteToPost) -> bool:
        """Leave ``note`` on the invoice where an accountant reads it (Xero: History and notes;
        QuickBooks: appended to the private note, what is there kept). Exactly once: the note
        carries the entry's marker, and unless this is the first attempt the invoice is read first;
        False when the note is there already. ``NotFound`` when the invoice is gone."""
        ...

    def organisation(self) -> OrganisationFacts:
        """Base currency and time zone of the organisation (one call; the runner caches it)."""
        ...

    def account_balance(self, account: str) -> Decimal:
        """The ledger's own balance of one account (by the code/id used in the connection's
        settings), read through its API: how reconciliation and the tests check clearing nets to zero."""
        ...


@dataclass(frozen=True, slots=True)
class NoteToPost:
    """One note for one invoice in the ledger (connector/domain/notes.py says what it reads)."""

    key: str
    invoice_external_id: str
    text: str
    #: True when no earlier attempt can have reached the ledger (the entry's first send): the
    #: adapter may write without looking for the marker first, which saves a call per note.
    first_attempt: bool = False


def note_with_marker(text: str, key: str, limit: int) -> str:
    """``text (cx:…)`` in at most ``limit`` characters: the text is cut (with an ellipsis), never
    the marker, which is how a re-run recognises the note as ours and does not write it again."""
    tag = f" ({marker(key)})"
    room = limit - len(tag)
    body = " ".join(text.split())
    if len(body) > room:
        body = body[: max(room - 1, 0)].rstrip() + "…"
    return f"{body}{tag}"


def marker(key: str) -> str:
    """The tag a write carries in its reference, so a re-read can recognise our own earlier write."""
    return f"cx:{key[:12]}"


#: Finds every marker in a reference or note with one scan (the 12 characters of a key, whatever they are).
MARKERS = re.compile(r"cx:[^\s()]{12}")
