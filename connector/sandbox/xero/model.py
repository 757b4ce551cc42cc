"""The Xero ledger's records as plain dataclasses (slots: benchmarks hold 100,000 invoices).

Amounts are ``Decimal`` with two places; calendar dates are ``date`` in the
organisation's own time zone; change stamps are integer epoch milliseconds (UTC), the
precision Xero writes.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone, tzinfo
from decimal import ROUND_HALF_UP, Decimal

from connector.sandbox.xero.zones import zone_of

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
ONE = Decimal("1.000000")


def money(value: Decimal | int | str | float) -> Decimal:
    """Round to cents the way invoices do (half up), from whatever the caller had."""
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


_GUID_FORMS = re.compile(
    r"^(?:(?P<n>[0-9a-f]{32})"
    r"|(?P<d>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})"
    r"|\{(?P<b>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\}"
    r"|\((?P<p>[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\))$",
    re.IGNORECASE,
)


def parse_guid(value: object) -> str | None:
    """A GUID in any format .NET's ``Guid.Parse`` reads and Xero takes: ``N`` (32 digits), ``D``
    (hyphenated), ``B`` (in braces) or ``P`` (in parentheses), any case; as the canonical
    lower-case ``D`` form every record id is kept in. ``None`` for anything else."""
    if not isinstance(value, str):
        return None
    match = _GUID_FORMS.match(value.strip())
    if match is None:
        return None
    return str(uuid.UUID(next(g for g in match.groups() if g)))


def id_key(ref: str) -> str:
    """The key a record is looked up by: the canonical GUID when ``ref`` is one (in any format),
    else ``ref`` lower-cased (a number or code is matched separately by the caller)."""
    return parse_guid(ref) or ref.strip().lower()


def to_ms(when: datetime) -> int:
    return int(when.timestamp() * 1000) if when.tzinfo else int(when.replace(tzinfo=UTC).timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


@dataclass(slots=True)
class Organisation:
    id: str
    name: str
    legal_name: str
    version: str  # Xero "Version": NZ, US, AU, UK, GLOBAL
    country: str
    base_currency: str
    timezone: str  # Xero TimeZone enum value; local dates follow it, DST included
    utc_offset_minutes: int  # the zone's usual offset: lays out seeded timestamps, shown by the CLI
    short_code: str
    created_ms: int
    line_of_business: str
    tax_rates: dict[str, Decimal]
    sales_tax_type: str  # default TaxType on sales lines
    sales_tax_basis: str = "ACCRUALS"
    sales_tax_period: str = "TWOMONTHS"
    year_end_day: int = 31
    year_end_month: int = 3

    @property
    def tz(self) -> tzinfo:
        """The organisation's real zone (DST included); the fixed offset for an unknown name."""
        return zone_of(self.timezone) or timezone(timedelta(minutes=self.utc_offset_minutes))

    def local_date(self, when: datetime) -> date:
        """The organisation's calendar date at ``when`` (what "today" means to its owner)."""
        return when.astimezone(self.tz).date()


@dataclass(slots=True)
class Account:
    id: str
    code: str
    name: str
    type: str  # AccountType enum
    account_class: str  # ASSET, EQUITY, EXPENSE, LIABILITY, REVENUE
    updated_ms: int
    status: str = "ACTIVE"
    currency: str | None = None
    bank_account_number: str | None = None
    enable_payments: bool = False
    system_account: str | None = None
    tax_type: str | None = None
    description: str | None = None

    @property
    def is_bank(self) -> bool:
        return self.type == "BANK"


@dataclass(slots=True)
class Contact:
    id: str
    name: str
    updated_ms: int
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    number: str | None = None
    status: str = "ACTIVE"
    is_customer: bool = True
    is_supplier: bool = False
    default_currency: str | None = None
    street: str | None = None
    city: str | None = None
    country: str | None = None


@dataclass(slots=True)
class LineItem:
    id: str
    description: str
    quantity: Decimal
    unit_amount: Decimal
    account_code: str
    tax_type: str
    tax_amount: Decimal
    line_amount: Decimal
    item_code: str | None = None


@dataclass(slots=True)
class Invoice:
    id: str
    type: str
    number: str
    contact_id: str
    date: date
    due_date: date
    status: str
    currency: str
    line_amount_types: str
    lines: list[LineItem]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    updated_ms: int
    seq: int
    currency_rate: Decimal = ONE
    reference: str | None = None
    amount_paid: Decimal = ZERO
    amount_credited: Decimal = ZERO
    fully_paid_on: date | None = None
    sent_to_contact: bool = False
    created_by: str | None = None  # client_id of the app that created it (createdByMyApp)
    payment_ids: list[str] = field(default_factory=list)
    allocation_ids: list[str] = field(default_factory=list)

    @property
    def amount_due(self) -> Decimal:
        return self.total - self.amount_paid - self.amount_credited

    @property
    def index_key(self) -> tuple[int, int]:
        return (self.updated_ms, self.seq)


@dataclass(slots=True)
class Payment:
    id: str
    account_id: str
    date: date
    amount: Decimal
    payment_type: str
    updated_ms: int
    invoice_id: str | None = None
    credit_note_id: str | None = None
    currency_rate: Decimal = ONE
    reference: str | None = None
    status: str = "AUTHORISED"
    is_reconciled: bool = False
    bank_amount: Decimal | None = None
    batch_payment_id: str | None = None  # the BatchPayment it was made in, if any


@dataclass(slots=True)
class CreditNote:
    id: str
    type: str
    number: str
    contact_id: str
    date: date
    status: str
    currency: str
    line_amount_types: str
    lines: list[LineItem]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    remaining_credit: Decimal
    updated_ms: int
    currency_rate: Decimal = ONE
    reference: str | None = None
    fully_paid_on: date | None = None
    allocation_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class Allocation:
    """Credit applied to an invoice: from a credit note (``credit_note_id``), an overpayment
    (``overpayment_id``) or a prepayment (``prepayment_id``; ``credit_note_id`` is empty for both)."""

    id: str
    credit_note_id: str
    invoice_id: str
    amount: Decimal
    date: date
    updated_ms: int
    is_deleted: bool = False
    overpayment_id: str | None = None
    prepayment_id: str | None = None


@dataclass(slots=True)
class BankTransaction:
    id: str
    type: str
    bank_account_id: str
    date: date
    status: str
    currency: str
    line_amount_types: str
    lines: list[LineItem]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    updated_ms: int
    contact_id: str | None = None
    reference: str | None = None
    currency_rate: Decimal = ONE
    is_reconciled: bool = False
    transfer_id: str | None = None
    overpayment_id: str | None = None
    prepayment_id: str | None = None


@dataclass(slots=True)
class BankTransfer:
    id: str
    from_account_id: str
    to_account_id: str
    amount: Decimal
    date: date
    from_transaction_id: str
    to_transaction_id: str
    created_ms: int
    reference: str | None = None
    currency_rate: Decimal = ONE
    from_reconciled: bool = False
    to_reconciled: bool = False
    status: str = "AUTHORISED"


@dataclass(slots=True)
class Overpayment:
    """A customer's credit from money received beyond what was due (RECEIVE-OVERPAYMENT).

    Xero creates it with a bank transaction (``bank_transaction_id``, a different id) into
    ``bank_account_id``; its one line is coded to Accounts Receivable with no tax.
    """

    id: str
    type: str
    contact_id: str
    bank_account_id: str
    bank_transaction_id: str
    date: date
    status: str  # AUTHORISED, PAID (no credit left), VOIDED
    currency: str
    lines: list[LineItem]
    total: Decimal
    remaining_credit: Decimal
    updated_ms: int
    currency_rate: Decimal = ONE
    reference: str | None = None
    allocation_ids: list[str] = field(default_factory=list)

    # Xero books an overpayment with no tax: its amounts follow from the total.
    @property
    def line_amount_types(self) -> str:
        return "NoTax"

    @property
    def sub_total(self) -> Decimal:
        return self.total

    @property
    def total_tax(self) -> Decimal:
        return ZERO


@dataclass(slots=True)
class Prepayment:
    """Money received before it was invoiced (RECEIVE-PREPAYMENT), kept as the customer's credit.

    Like an overpayment Xero creates it with a bank transaction (``bank_transaction_id``); unlike
    one its lines are ordinary lines (any revenue account, tax included), and allocating it to an
    invoice lowers that invoice's AmountDue.
    """

    id: str
    type: str
    number: str  # Xero numbers a receive prepayment from the invoice sequence (its Reference too)
    contact_id: str
    bank_account_id: str
    bank_transaction_id: str
    date: date
    status: str  # AUTHORISED, PAID (no credit left), VOIDED
    currency: str
    line_amount_types: str
    lines: list[LineItem]
    sub_total: Decimal
    total_tax: Decimal
    total: Decimal
    remaining_credit: Decimal
    updated_ms: int
    currency_rate: Decimal = ONE
    reference: str | None = None
    allocation_ids: list[str] = field(default_factory=list)


@dataclass(slots=True)
class BatchPayment:
    """Several payments made as one (one line on the bank statement); RECBATCH for sales invoices."""

    id: str
    type: str  # RECBATCH, PAYBATCH
    account_id: str
    date: date
    total: Decimal
    updated_ms: int
    payment_ids: list[str] = field(default_factory=list)
    reference: str | None = None
    status: str = "AUTHORISED"
    is_reconciled: bool = False


@dataclass(slots=True)
class Item:
    """A product or service (``/Items``): what an invoice line's ItemCode fills in."""

    id: str
    code: str
    name: str
    updated_ms: int
    description: str | None = None
    purchase_description: str | None = None
    is_sold: bool = True
    is_purchased: bool = True
    sales_unit_price: Decimal | None = None
    sales_account_code: str | None = None
    sales_tax_type: str | None = None
    purchase_unit_price: Decimal | None = None
    purchase_account_code: str | None = None
    purchase_tax_type: str | None = None


@dataclass(slots=True)
class HistoryRecord:
    """One line of a document's "History and notes": a change the ledger made, or a note."""

    id: str
    record_id: str  # the invoice, payment, contact... it belongs to
    changes: str  # "Created", "Approved", "Note"...
    details: str
    date_ms: int
    user: str = "System Generated"
