"""The fingerprint that says two invoices from different channels are the same invoice."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from decimal import Decimal
from functools import lru_cache

from connector.domain.money import format_amount

_NOISE = re.compile(r"[^0-9a-z]+")
_COMPANY_SUFFIX = re.compile(r"\b(ltd|limited|llc|inc|pty|plc|gmbh|co)\b")


@lru_cache(maxsize=65536)
def normalise_contact(name: str) -> str:
    """Case, accents, punctuation and company suffixes do not make another customer.

    Remembered: an organisation's invoices name the same few thousand customers over and over."""
    text = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    text = _COMPANY_SUFFIX.sub(" ", text)
    return _NOISE.sub("", text)


def normalise_number(number: str) -> str:
    return _NOISE.sub("", number.casefold())


def fingerprint(contact: str, number: str, total: Decimal, currency: str) -> str:
    """sha256 over normalised contact, invoice number, total (in the currency's minor unit) and currency."""
    parts = (normalise_contact(contact), normalise_number(number), format_amount(total, currency), currency.upper())
    return hashlib.sha256("|".join(parts).encode()).hexdigest()
