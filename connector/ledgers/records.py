"""Provider-neutral records: what every ledger adapter hands to the engines, and takes back."""

from __future__ import annotations

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
    #: The ledger's customer id, where a payment must name the customer (QuickBooks).
    customer_id: str = ""


@dataclass(frozen=True, slots=True)
class Malformed:
    """A record the adapter could not read: quarantined with its reason, the page goes on."""

    external_id: str | None
    reason: str
    raw: Any


@dataclass(frozen=True, slots=True)
class InvoicePage:
    """One page of changed invoices, oldest change first."""

    records: list[LedgerInvoice | Malformed]
    #: True when the ledger may hold more changes after this page.
    more: bool
    #: Opaque cursor to store once this page is committed; None leaves the stored one as it is.
    cursor: str | None = None


@dataclass(frozen=True, slots=True)
class PaymentToPost:
    """A payment for the ledger: ``key`` makes the write idempotent (the outbox entry's key)."""

    key: str
    invoice_external_id: str
    amount: Decimal
    on: date
    account: str
    currency: str
    reference: str = ""
    customer_id: str = ""


@dataclass(frozen=True, slots=True)
class PaymentResult:
    key: str
    #: The ledger's id for the payment, when it was accepted.
    external_id: str | None = None
    #: The ledger's reason, when it refused this one payment (the others may have gone through).
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PayoutToPost:
    """A payout: the net amount moved clearing → bank, and the fee spent from clearing."""

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
