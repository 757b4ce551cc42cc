"""What every entity's rules share: input cleaning, references, amounts, the rules protocol.

QBO parses bodies strictly (an unknown property is fault 2010, and so is a date that is not
``YYYY-MM-DD``) but ignores read-only fields and treats the SDK's empty defaults (``""``,
``[]``, ``Ref.type: ""``) as absent, so ``clean_input`` refuses names the XSD does not define
for the entity and malformed dates, and drops empty values and system fields before any rule
sees the document.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar

from connector.sandbox.quickbooks.books import Books
from connector.sandbox.quickbooks.model import ZERO, Posting, Record, money
from connector.sandbox.quickbooks.wire import QboError, parse_date
from connector.sandbox.quickbooks.xsd_names import ATTRIBUTES, DATE_FIELDS, FIELDS

SYSTEM_FIELDS = frozenset({"Id", "SyncToken", "MetaData", "domain", "sparse", "status"})
BALANCE_SHEET = frozenset({
    "Bank", "Other Current Asset", "Fixed Asset", "Other Asset", "Credit Card", "Other Current Liability",
    "Long Term Liability", "Equity", "Accounts Receivable", "Accounts Payable",
})
CASH_LIKE = frozenset({"Bank", "Other Current Asset"})
#: Longest text QBO keeps in a field (Intuit's entity reference: PrivateNote "max 4000 characters").
MAX_LENGTHS = {"PrivateNote": 4000}


def check_length(name: str, value: Any) -> None:
    """QBO's fault 2050 for a string longer than its field holds, with the wording integrators quote
    (consolibyte/quickbooks-php#79: "Min:0 Max:50 supported. Supplied length:51")."""
    limit = MAX_LENGTHS.get(name)
    if limit is not None and isinstance(value, str) and len(value) > limit:
        raise QboError(
            "2050",
            "String length is either shorter or longer than supported by specification",
            f"String length specified does not match the supported length. Min:0 Max:{limit} supported. "
            f"Supplied length:{len(value)}",
            element=name,
        )


def strip_empty(value: Any) -> Any:
    """Drop ``None``, ``""``, ``[]`` and ``{}`` recursively (QBO treats them as absent)."""
    kind = type(value)
    if kind is dict:
        out = {}
        for key, item in value.items():
            item = strip_empty(item)
            if item is not None:
                out[key] = item
        return out or None
    if kind is list:
        kept = [v for v in map(strip_empty, value) if v is not None]
        return kept or None
    if kind is str:
        return value or None
    return value


def clean_input(kind: str, body: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    """Split a request body into (writable fields, system fields), refusing unknown names."""
    if not isinstance(body, dict):
        raise QboError("2010", "Request has invalid or unsupported property",
                       f"Property Name:Can not deserialize instance of {kind} out of the request body")
    allowed = FIELDS[kind]
    writable: dict[str, Any] = {}
    system: dict[str, Any] = {}
    for key, value in body.items():
        if key not in allowed and key not in ATTRIBUTES:
            raise QboError.unsupported_property(key, kind)
        if key in DATE_FIELDS:
            parse_date(value, key)  # YYYY-MM-DD or nothing: QBO's reader refuses the rest (2010)
        check_length(key, value)
        if key in SYSTEM_FIELDS:
            system[key] = value
            continue
        if key == "Line" and isinstance(value, list):
            for line in value:  # names are checked before empties go: {} is still a property
                check_line_keys(line)
        cleaned = strip_empty(value)
        if cleaned is not None:
            writable[key] = cleaned
    return writable, system


def check_line_keys(line: Any) -> dict[str, Any]:
    if not isinstance(line, dict):
        raise QboError.invalid_value(str(line), "Line")
    for key in line:
        if key not in FIELDS["Line"]:
            raise QboError.unsupported_property(key, "Line")
    return line


def amount(value: Any, what: str) -> Decimal:
    """An amount from JSON (number or numeric string) rounded to cents."""
    if value is None or isinstance(value, bool):
        raise QboError.required(what)
    try:
        return money(value)
    except (InvalidOperation, ValueError, TypeError):
        raise QboError.invalid_value(str(value), "java.math.BigDecimal") from None


def decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value)) if not isinstance(value, Decimal) else value
    except (InvalidOperation, ValueError):
        raise QboError.invalid_value(str(value), what) from None


def ref_value(doc: dict[str, Any], name: str) -> str | None:
    """The ``value`` of a reference (the SDK sends ``{"value","name","type"}``)."""
    ref = doc.get(name)
    if ref is None:
        return None
    if isinstance(ref, dict):
        value = ref.get("value")
        return None if value in (None, "") else str(value).strip()
    return str(ref).strip() or None


def boolean(value: Any, what: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise QboError.invalid_value(str(value), what)


def check_enum(doc: dict[str, Any], name: str, allowed: Iterable[str], what: str) -> None:
    value = doc.get(name)
    if value is not None and value not in allowed:
        raise QboError.invalid_value(str(value), what)


@dataclass
class Ctx:
    """What a rule may look at while it normalises one document."""

    books: Books
    today: date
    existing: Record | None = None
    # (kind, id) -> the document as it was before this operation touched it through a link
    # (None when seeding: every record a link reaches counts as changed)
    affected: dict[tuple[str, str], str | None] = field(default_factory=dict)
    seeding: bool = False

    def mark(self, record: Record) -> None:
        """Remember ``record`` as it is now; the ledger re-stamps it if it ends up different."""
        key = (record.kind, record.id)
        if key not in self.affected:
            self.affected[key] = None if self.seeding else repr(record.doc)

    @property
    def company(self) -> Any:
        return self.books.company

    def customer(self, doc: dict[str, Any], name: str = "CustomerRef", required: bool = True) -> Record | None:
        value = ref_value(doc, name)
        if value is None:
            if required:
                raise QboError.required(name)
            return None
        record = self.books.get("Customer", value)
        if record is None:
            raise QboError.invalid_reference("Customer", value)
        if record.doc.get("Active") is False:
            raise QboError.invalid_reference("Customer", value)
        return record

    def account(self, doc: dict[str, Any], name: str, types: Iterable[str] | None = None,
                required: bool = True) -> Record | None:
        value = ref_value(doc, name)
        if value is None:
            if required:
                raise QboError.required(name)
            return None
        record = self.books.get("Account", value)
        if record is None or record.doc.get("Active") is False:
            raise QboError.invalid_reference("Account", value)
        allowed = tuple(types) if types is not None else None
        if allowed is not None and record.doc.get("AccountType") not in allowed:
            raise QboError.business(
                f"{name} must be an account of type {' or '.join(allowed)}; "
                f"{record.doc.get('Name')} is {record.doc.get('AccountType')}"
            )
        return record

    def currency_of(self, customer: Record | None) -> str:
        if customer is not None:
            ref = customer.doc.get("CurrencyRef")
            if isinstance(ref, dict) and ref.get("value"):
                return str(ref["value"])
        return str(self.company.currency)

    def rate_for(self, currency: str, sent: Any) -> Decimal:
        """The exchange rate to book at: the one sent (the SDK always sends 1!) or the company's."""
        company = self.company
        if currency == company.currency:
            return Decimal("1")
        if sent is not None:
            rate = decimal(sent, "ExchangeRate")
            if rate <= 0:
                raise QboError.business("ExchangeRate must be greater than zero")
            return rate
        known = company.rate(currency)
        if known is None:
            raise QboError.business(f"The currency {currency} is not enabled for this company")
        return known


def name_ref(record: Record) -> dict[str, str]:
    """``{"value", "name"}`` the way QBO fills a reference to a customer or an account."""
    if record.kind == "Customer":
        name = record.doc.get("DisplayName")
    else:
        name = record.doc.get("FullyQualifiedName") or record.doc.get("Name")
    return {"value": record.id, "name": str(name)} if name else {"value": record.id}


def home(value: Decimal, rate: Decimal) -> Decimal:
    return money(value * rate)


def booking(account_id: str, value: Decimal, rate: Decimal) -> Posting:
    """``value`` (transaction currency, debit positive) booked to an account, with its home amount."""
    return (account_id, home(value, rate), value)


def check_open_period(books: Books, doc: dict[str, Any]) -> None:
    """Refuse a write to a transaction dated in the period the accountant closed (QBO fault 6200)."""
    closed = books.company.book_close_date
    txn_date = doc.get("TxnDate")
    if closed and txn_date and str(txn_date)[:10] <= closed:
        raise QboError.period_closed()


class Rules:
    """One entity's behaviour; subclasses override what applies to them."""

    kind: ClassVar[str] = ""
    readonly: ClassVar[frozenset[str]] = frozenset()
    can_void: ClassVar[bool] = False
    can_delete: ClassVar[bool] = True
    cacheable: ClassVar[bool] = True

    def normalize(self, ctx: Ctx, doc: dict[str, Any]) -> None:
        """Validate and complete ``doc`` in place (totals, defaults, references)."""

    def postings(self, ctx: Ctx, doc: dict[str, Any]) -> list[Posting]:
        """What this document books, per account (see :data:`~connector.sandbox.quickbooks.model.Posting`)."""
        return []

    def link(self, ctx: Ctx, record: Record) -> None:
        """Effects on other records (a payment lowers invoice balances)."""

    def unlink(self, ctx: Ctx, record: Record) -> None:
        """Undo ``link`` (before an update, a void or a delete)."""

    def check_void(self, ctx: Ctx, record: Record) -> None:
        """Refuse a void, or detach what a void would leave dangling (runs before ``unlink``)."""
        if not self.can_void:
            raise QboError.unsupported_operation("Void", self.kind)

    def void(self, ctx: Ctx, record: Record) -> None:
        """Zero the document's amounts (runs between ``unlink`` and ``link``)."""
        raise QboError.unsupported_operation("Void", self.kind)

    def check_delete(self, ctx: Ctx, record: Record) -> None:
        """Refuse a delete the ledger would not allow (runs before ``unlink``)."""
        if not self.can_delete:
            raise QboError.unsupported_operation("Delete", self.kind)

    def check_update(self, ctx: Ctx, record: Record) -> None:
        if record.voided and record.kind in ("Invoice", "Payment"):
            raise QboError.business("A voided transaction cannot be edited")

    def dynamic(self, books: Books, record: Record) -> dict[str, Any]:
        """Fields computed at render time (balances that move without a SyncToken change)."""
        return {}


def sum_amounts(values: Iterable[Decimal]) -> Decimal:
    total = ZERO
    for value in values:
        total += value
    return money(total)
