"""The Xero ledger's records as plain dataclasses (slots: benchmarks hold 100,000 invoices).

Amounts are ``Decimal`` with two places; calendar dates are ``date`` in the
organisation's own time zone; change stamps are integer epoch milliseconds (UTC), the
precision Xero writes.
"""

from __future__ import annotations

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
    """Credit applied to an invoice: from a credit note (``credit_note_id``) or from an
    overpayment (``overpayment_id``, with ``credit_note_id`` empty)."""

    id: str
    credit_note_id: str
    invoice_id: str
    amount: Decimal
    date: date
    updated_ms: int
    is_deleted: bool = False
    overpayment_id: str | None = None


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
