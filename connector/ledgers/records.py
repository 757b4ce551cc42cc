"""Provider-neutral records: what every ledger adapter hands to the engines, and takes back."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True, slots=True)
class LedgerPayment:
    """A payment applied to an invoice, as the ledger shows it."""

    external_id: str
    amount: Decimal
    on: date | None
    reference: str = ""


@dataclass(frozen=True, slots=True)
class LedgerInvoice:
    """A sales invoice in the ledger's terms, with the ledger's own status word kept as it was."""

    external_id: str
    number: str
    contact_name: str
    currency: str
    total: Decimal
    amount_due: Decimal
    amount_paid: Decimal
    issue_date: date | None
    due_date: date | None
    #: The ledger's word (Xero ``AUTHORISED``; QuickBooks a derived ``Open``/``Voided``/``Deleted``).
    status: str
    #: The ledger's type (Xero ``ACCREC``/``ACCPAY``...; QuickBooks ``Invoice``).
    type: str
    updated_at: datetime
    payments: tuple[LedgerPayment, ...] = ()
    amount_credited: Decimal = Decimal(0)
    #: The customer's email as the ledger holds it (Xero: the contact's EmailAddress; QuickBooks:
    #: BillEmail), where customer notices go; None when the ledger has none.
    contact_email: str | None = None
    #: The ledger's customer id, where a payment must name the customer (QuickBooks).
    customer_id: str = ""


@dataclass(frozen=True, slots=True)
class Malformed:
    """A record the adapter could not read: quarantined with its reason, the page goes on."""

    external_id: str | None
    reason: str
    raw: Any
    #: The ledger's update stamp, when it could be read: the cursor moves past the record all the same.
    updated_at: datetime | None = None


class InvoicePage:
    """One page of changed invoices, oldest change first.

    ``more`` is True when the ledger may hold more changes after this page; ``cursor`` is the opaque
    cursor to store once this page is committed (None leaves the stored one as it is).

    The records are given read, or (:meth:`deferred`) as the function that reads them, called once
    on first use, by whichever thread uses them. The adapters defer their invoice pages so that the
    import's read-ahead thread only fetches (the HTTP round trip, the JSON decode, the page's update
    stamps for the next request) and the reading of each record, pure Python, runs in the thread
    that writes the page. Two threads both busy in Python only take turns on the GIL, and the
    SQLite driver hands the GIL back for every row it inserts and waits to get it back each time:
    with the records read in the read-ahead thread, a page's INSERTs took three times their CPU time.
    """

    __slots__ = ("_read", "_records", "cursor", "more")

    def __init__(self, records: list[LedgerInvoice | Malformed], more: bool, cursor: str | None = None) -> None:
        self._records: list[LedgerInvoice | Malformed] | None = records
        self._read: Callable[[], list[LedgerInvoice | Malformed]] | None = None
        self.more = more
        self.cursor = cursor

    @classmethod
    def deferred(
        cls, read: Callable[[], list[LedgerInvoice | Malformed]], more: bool, cursor: str | None = None
    ) -> InvoicePage:
        """A page whose records ``read()`` gives, when they are first asked for."""
        page = cls([], more, cursor)
        page._records, page._read = None, read
        return page

    @property
    def records(self) -> list[LedgerInvoice | Malformed]:
        if self._records is None:
            assert self._read is not None
            self._records, self._read = self._read(), None
        return self._records

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, InvoicePage):
            return NotImplemented
        return (self.records, self.more, self.cursor) == (other.records, other.more, other.cursor)

    __hash__ = None  # type: ignore[assignment]  # mutable: its records are read once, later

    def __repr__(self) -> str:
        records = "<unread>" if self._records is None else f"{len(self._records)} records"
        return f"InvoicePage({records}, more={self.more}, cursor={self.cursor!r})"


@dataclass(frozen=True, slots=True)
class PaymentToPost:
    """Money the platform collected for one invoice: ``key`` makes the write idempotent.

    ``amount`` is applied to the invoice (it may be 0 when the ledger no longer has anything
    due, e.g. the invoice was voided while the debit was in flight). ``unapplied`` is the
    excess the platform collected beyond what the ledger shows due: it is recorded as the
    customer's credit into the same clearing account (Xero: an Overpayment, a
    RECEIVE-OVERPAYMENT bank transaction; QuickBooks: the unapplied part of one Payment),
    so every cent collected is in the ledger and clearing still nets to zero at payout.
    Both writes carry the ``cx:`` marker in their reference.
    """

    key: str
    invoice_external_id: str
    amount: Decimal
    on: date
    account: str
    currency: str
    reference: str = ""
    customer_id: str = ""
    unapplied: Decimal = Decimal(0)


@dataclass(frozen=True, slots=True)
class PaymentResult:
    key: str
    #: The ledger's id for the payment, when it was accepted (for an unapplied-only write, its id).
    external_id: str | None = None
    #: The ledger's reason, when it refused this one payment (the others may have gone through).
    error: str | None = None
    #: The ledger's id for the unapplied credit (Xero Overpayment), when one was written separately.
    unapplied_id: str | None = None


@dataclass(frozen=True, slots=True)
class PayoutToPost:
    """A payout: the net amount moved clearing → bank, and the fee spent from clearing.

    ``net`` may be zero (no transfer, only the fee) or negative: the fee exceeded what was
    collected, so ``-net`` is moved bank → clearing to cover it. Either way the clearing
    account nets to zero for the payout.
    """

    key: str
    on: date
    currency: str
    net: Decimal
    fee: Decimal
    clearing_account: str
    bank_account: str
    fees_account: str
    reference: str = ""


@dataclass(frozen=True, slots=True)
class PayoutResult:
    transfer_id: str | None
    fee_id: str | None
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OrganisationFacts:
    """What the connector must know of the organisation to decide dates and currencies."""

    #: ISO 4217 code of the organisation's base (home) currency.
    base_currency: str
    #: IANA time zone name (``Pacific/Auckland``) when the ledger tells it (Xero), else None.
    timezone: str | None = None
    #: Fixed offset from UTC in minutes, when only that is known (QuickBooks learns it from stamps).
    utc_offset_minutes: int | None = None
