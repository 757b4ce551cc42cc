"""QuickBooks Online records as the sandbox keeps them: companies (realms) and entities.

An entity is stored as its wire document (QBO JSON field names, amounts as ``Decimal``)
plus the system fields QBO maintains itself (Id, SyncToken, MetaData, status). Keeping the
document instead of a typed model lets the sandbox echo any field the XSD allows and a
client sent (BillEmail, CustomerMemo, ...) without modelling each one.

Change stamps are whole epoch seconds: QBO writes ``LastUpdatedTime`` to the second, so two
changes within one second share a stamp, exactly the boundary an incremental sync must
survive. ``seq`` orders such ties inside the sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from typing import Any

CENT = Decimal("0.01")
ZERO = Decimal("0")

# Entities the sandbox serves, by the name QBO uses in JSON and in queries.
TRANSACTIONS = ("Invoice", "CreditMemo", "Payment", "Deposit", "Transfer", "Purchase")
NAME_LISTS = ("Account", "Customer")
ENTITIES = TRANSACTIONS + NAME_LISTS
BY_LOWER = {name.lower(): name for name in ENTITIES}

#: One booking of a transaction: (account id, debit-positive home-currency amount, the same amount
#: in the transaction's currency). An account in a foreign currency keeps its balance in that currency.
Posting = tuple[str, Decimal, Decimal]


def money(value: Any) -> Decimal:
    """Round to two decimals half-up, whatever the caller had (float, int, str, Decimal).

    QBO keeps line amounts, totals and balances to two decimal places in every currency: a
    whole-yen JPY amount stays exact (``150000``), a three-decimal KWD/BHD amount loses its last
    digit (``12.345`` -> ``12.35``). Only Qty/UnitPrice carry more digits (up to seven)."""
    if type(value) is Decimal:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    if isinstance(value, float):
        value = repr(value)
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@lru_cache(maxsize=64)
def fixed_zone(offset_minutes: int) -> timezone:
    return timezone(timedelta(minutes=offset_minutes))


def to_epoch(when: datetime) -> int:
    """Whole seconds since the epoch (QBO's stamp precision)."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return int(when.timestamp())


@dataclass(slots=True)
class Company:
    """One QBO company (realm): its home currency, its fixed UTC offset and its rates.

    Offsets are fixed (no daylight saving) so that a seed always gives the same stamps;
    QBO itself follows the company's zone rules.
    """

    realm_id: str
    name: str
    legal_name: str
    country: str
    currency: str
    utc_offset_minutes: int
    created: int  # epoch seconds
    email: str
    city: str
    # foreign currency code -> home-currency units per one foreign unit (QBO's ExchangeRate direction)
    rates: dict[str, Decimal] = field(default_factory=dict)
    #: "Close the books" (Preferences.AccountingInfoPrefs.BookCloseDate, ISO date): transactions dated
    #: on or before it can't be created, changed, voided or deleted (fault 6200).
    book_close_date: str | None = None

    @property
    def tz(self) -> timezone:
        return fixed_zone(self.utc_offset_minutes)

    @property
    def multicurrency(self) -> bool:
        return bool(self.rates)

    def local_date(self, when: datetime) -> date:
        """The company's calendar date at ``when`` (what "today" means to its owner)."""
        return when.astimezone(self.tz).date()

    def rate(self, currency: str) -> Decimal | None:
        if currency == self.currency:
            return Decimal("1")
        return self.rates.get(currency)


@dataclass(slots=True)
class Record:
    """One stored entity. ``doc`` holds every field except the system ones listed here.

    ``json`` caches the rendered document (it only changes with ``sync``); entities whose
    rendering depends on other records (an account's balance) are never cached.
    """

    kind: str
    id: str
    sync: int
    created: int
    updated: int
    seq: int
    doc: dict[str, Any]
    deleted: bool = False
    json: str | None = None
    # internal links that are not part of the document
    postings: list[Posting] = field(default_factory=list)
    deposited_in: str | None = None  # a payment held in Undeposited Funds, once deposited

    @property
    def key(self) -> tuple[int, int]:
        return (self.updated, self.seq)

    @property
    def voided(self) -> bool:
        return str(self.doc.get("PrivateNote", "")).startswith("Voided")


CURRENCY_NAMES = {
    "USD": "United States Dollar",
    "CAD": "Canadian Dollar",
    "EUR": "Euro",
    "GBP": "British Pound Sterling",
    "AUD": "Australian Dollar",
    "NZD": "New Zealand Dollar",
    "JPY": "Japanese Yen",
    "KWD": "Kuwaiti Dinar",
    "BHD": "Bahraini Dinar",
}


def currency_ref(code: str) -> dict[str, str]:
    return {"value": code, "name": CURRENCY_NAMES.get(code, code)}
