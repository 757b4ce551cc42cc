"""Money as an exact Decimal with its currency.

Floats never enter: ledgers send amounts such as ``46.00`` and an invoice that
is off by a binary rounding error is an invoice collected twice or never closed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

_CURRENCY = re.compile(r"^[A-Z]{3}$")

#: ISO 4217 currencies whose minor unit is not 2 decimals (the list is short and stable); any
#: other currency has 2. Fingerprints and displays use these, so KWD 10.004 and 10.001 differ.
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(
        (
            "BIF",
            "CLP",
            "DJF",
            "GNF",
            "ISK",
            "JPY",
            "KMF",
            "KRW",
            "PYG",
            "RWF",
            "UGX",
            "UYI",
            "VND",
            "VUV",
            "XAF",
            "XOF",
            "XPF",
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}


def minor_units(currency: str) -> int:
    """How many decimals an amount in ``currency`` has (ISO 4217)."""
    return MINOR_UNITS.get(currency.upper(), 2)


def format_amount(amount: Decimal, currency: str) -> str:
    """``amount`` with its currency's own decimals (JPY 1200, KWD 10.004, NZD 46.00)."""
    return f"{amount:.{minor_units(currency)}f}"


@dataclass(frozen=True, slots=True)
class Money:
    """An amount in one currency. Arithmetic across currencies is an error, never a conversion."""

    amount: Decimal
    currency: str

    def __post_init__(self) -> None:
        if isinstance(self.amount, float):
            raise TypeError("Money takes a Decimal, a str or an int, never a float")
        if not isinstance(self.amount, Decimal):
            try:
                object.__setattr__(self, "amount", Decimal(str(self.amount)))
            except InvalidOperation as exc:
                raise ValueError(f"not an amount: {self.amount!r}") from exc
        if not self.amount.is_finite():
            raise ValueError(f"not a finite amount: {self.amount}")
        if not _CURRENCY.match(self.currency):
            raise ValueError(f"currency must be a three-letter ISO code, got {self.currency!r}")

    @classmethod
    def of(cls, amount: str | int | Decimal, currency: str) -> Money:
        return cls(Decimal(str(amount)), currency.upper())

    @classmethod
    def zero(cls, currency: str) -> Money:
        return cls(Decimal("0"), currency)

    def _same(self, other: Money) -> None:
        if other.currency != self.currency:
            raise ValueError(f"cannot combine {self.currency} with {other.currency}")

    def __add__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount + other.amount, self.currency)

    def __sub__(self, other: Money) -> Money:
        self._same(other)
        return Money(self.amount - other.amount, self.currency)

    def __lt__(self, other: Money) -> bool:
        self._same(other)
        return self.amount < other.amount

    def __le__(self, other: Money) -> bool:
        self._same(other)
        return self.amount <= other.amount

    @property
    def is_zero(self) -> bool:
        return self.amount == 0

    @property
    def is_positive(self) -> bool:
        return self.amount > 0

    def __str__(self) -> str:
        return f"{format_amount(self.amount, self.currency)} {self.currency}"
