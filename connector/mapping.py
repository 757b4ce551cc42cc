"""Turn a ledger's invoice into the platform's terms, by the rules in ``mappings/<provider>.toml``.

External statuses are data, not code branches: a new ledger status means a new rule in a
file, and a status no rule knows is quarantined (never guessed).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError

from connector.config import ConfigError
from connector.domain import LedgerStatus
from connector.ledgers.records import LedgerInvoice

Sign = Literal["zero", "positive"]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: str
    amount_due: Sign | None = None
    amount_paid: Sign | None = None
    ledger_status: LedgerStatus
    label: str

    def matches(self, invoice: LedgerInvoice) -> bool:
        return (
            self.status.casefold() == invoice.status.casefold()
            and _sign_ok(self.amount_due, invoice.amount_due)
            and _sign_ok(self.amount_paid, invoice.amount_paid)
        )


class _Collect(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    types: list[str] = Field(min_length=1)
    skip: list[str] = Field(default_factory=list)


class Mapping(BaseModel):
    """One provider's mapping file, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    provider: str
    collect: _Collect
    rules: list[_Rule] = Field(min_length=1)
    _placements: dict[tuple[str, str, int, int], Placement | Skip] = PrivateAttr(default_factory=dict)

    def place(self, invoice: LedgerInvoice) -> Placement | Skip | Unmapped:
        """The rule for ``invoice``: the first that matches its type, status and amounts' signs.

        Remembered by exactly what the rules look at (an import asks the same few questions a
        hundred thousand times); an Unmapped answer, which names the amounts, is not remembered.
        """
        key = (invoice.type, invoice.status, _sign(invoice.amount_due), _sign(invoice.amount_paid))
        known = self._placements.get(key)
        if known is not None:
            return known
        found = self._place(invoice)
        if not isinstance(found, Unmapped):
            self._placements[key] = found
        return found

    def _place(self, invoice: LedgerInvoice) -> Placement | Skip | Unmapped:
        if invoice.type in self.collect.skip:
            return Skip(f"{invoice.type} is not collected")
        if invoice.type not in self.collect.types:
            return Unmapped(f"unknown invoice type {invoice.type!r} (not in mappings/{self.provider}.toml)")
        for rule in self.rules:
            if rule.matches(invoice):
                return Placement(rule.ledger_status, rule.label)
        return Unmapped(
            f"no rule in mappings/{self.provider}.toml for status {invoice.status!r} with amount due "
            f"{invoice.amount_due} and amount paid {invoice.amount_paid}"
        )


@dataclass(frozen=True, slots=True)
class Placement:
    """The ledger's record in the platform's terms."""

    ledger_status: LedgerStatus
    label: str


@dataclass(frozen=True, slots=True)
class Skip:
    """Not something the platform collects (a bill, a credit note): ignored, not an error."""

    reason: str


@dataclass(frozen=True, slots=True)
class Unmapped:
    """No rule fits: the record is quarantined with this reason."""

    reason: str


def _sign(amount: Decimal) -> int:
    """-1, 0 or 1: all a rule can tell of an amount (``zero``, ``positive``, or neither); 2 for NaN."""
    if amount.is_nan():
        return 2
    return (amount > 0) - (amount < 0)


def _sign_ok(expected: Sign | None, amount: Decimal) -> bool:
    if expected is None:
        return True
    return amount == 0 if expected == "zero" else amount > 0


@cache
def load_mapping(provider: str) -> Mapping:
    """Read and validate ``mappings/<provider>.toml`` (shipped with the package)."""
    name = f"{provider}.toml"
    try:
        text = resources.files("mappings").joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"mappings/{name}: no mapping for provider {provider!r}") from None
    try:
        return Mapping.model_validate(tomllib.loads(text))
    except (tomllib.TOMLDecodeError, ValidationError) as exc:
        raise ConfigError(f"mappings/{name}: {exc}".splitlines()[0]) from None
