"""What an invoice may hold before the engines see it: the store's limits, and amounts that make sense.

Both wire parsers run every invoice they read through :func:`check_invoice`. What can be made
right without changing its meaning is normalised (a currency written ``nzd``, a NUL character in
a name, ``46.000000000``); anything else becomes a :class:`~connector.ledgers.records.Malformed`
with the reason, so the record is quarantined and the rest of the page goes on. SQLite would
store what PostgreSQL refuses (it keeps amounts as text and ignores column lengths), so checking
here is what makes both databases take and refuse the same records.

The limits mirror ``connector/store/models.py`` (the adapters import nothing from the store);
``tests/ledgers/test_validate.py`` holds the two together.
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from typing import Any

from connector.ledgers.records import LedgerInvoice, Malformed

#: Default ceiling on an invoice's amounts (in its own currency): above it, nothing is collected
#: and the record is quarantined. Adapters take ``max_amount`` to change it.
MAX_AMOUNT = Decimal(10) ** 12
#: Amounts are NUMERIC(18, 4): four decimals, and under 10**14. No configured ceiling goes above it.
AMOUNT_DECIMALS = 4
STORE_MAX_AMOUNT = Decimal("99999999999999.9999")
#: Column lengths of ``invoices`` (and ``quarantined_records.external_id``).
EXTERNAL_ID_MAX = 100
NUMBER_MAX = 100
CONTACT_NAME_MAX = 300
EMAIL_MAX = 320
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

_CURRENCY = re.compile(r"^[A-Z]{3}$")
_SURROGATE = re.compile("[\ud800-\udfff]")
_QUANTUM = Decimal(1).scaleb(-AMOUNT_DECIMALS)


class Refused(ValueError):
    """The record cannot be taken as it is; the message is the reason support reads."""


def clean_text(value: str) -> str:
    """Text the store can hold: no NUL (PostgreSQL refuses it), no lone surrogate (not UTF-8)."""
    if "\x00" in value:
        value = value.replace("\x00", "")
    if _SURROGATE.search(value):
        value = _SURROGATE.sub("\ufffd", value)
    return value


def quarantine_id(external_id: Any) -> str | None:
    """A ledger id as a quarantined record can keep it: None when it does not fit the column."""
    if external_id is None or isinstance(external_id, bool):
        return None
    text = clean_text(str(external_id)).strip()
    return text if text and len(text) <= EXTERNAL_ID_MAX else None


def currency_code(value: str, field: str = "currency") -> str:
    """``nzd`` and `` NZD `` are NZD; anything that is not three letters is refused."""
    code = clean_text(value).strip().upper()
    if not _CURRENCY.match(code):
        raise Refused(f"{field} {value!r} is not a three-letter ISO 4217 code")
    return code


def amount(value: Decimal, field: str, *, max_amount: Decimal = MAX_AMOUNT) -> Decimal:
    """An amount the store keeps exactly on both databases, within the ceiling."""
    ceiling = min(abs(max_amount), STORE_MAX_AMOUNT)
    if not value.is_finite():
        raise Refused(f"{field} {value} is not an amount")
    if abs(value) > ceiling:
        raise Refused(f"{field} {value} is above the ceiling of {ceiling:f}: an amount that size is not collected")
    try:
        exact = value.quantize(_QUANTUM)
    except InvalidOperation:  # pragma: no cover - within the ceiling it always fits
        raise Refused(f"{field} {value} cannot be stored") from None
    if exact != value:
        raise Refused(
            f"{field} {value} has more than {AMOUNT_DECIMALS} decimal places; "
            "the store keeps 4 and would round it (PostgreSQL) or keep it (SQLite)"
        )
    # 46.000000000 is 46: keep at most four decimals, so both databases store the same figure.
    return exact if value.as_tuple().exponent < -AMOUNT_DECIMALS else value  # type: ignore[operator]


def check_invoice(invoice: LedgerInvoice, raw: Any, *, max_amount: Decimal = MAX_AMOUNT) -> LedgerInvoice | Malformed:
    """``invoice`` normalised to what the store holds, or a :class:`Malformed` saying why not."""
    try:
        return _checked(invoice, max_amount)
    except Refused as exc:
        return Malformed(
            external_id=quarantine_id(invoice.external_id),
            reason=f"refused: {exc}",
            raw=raw,
            updated_at=invoice.updated_at,
        )


def _checked(inv: LedgerInvoice, max_amount: Decimal) -> LedgerInvoice:
    external_id = clean_text(inv.external_id)
    if not external_id.strip():
        raise Refused("the ledger id is empty")
    if len(external_id) > EXTERNAL_ID_MAX:
        raise Refused(f"the ledger id is {len(external_id)} characters; the store keeps at most {EXTERNAL_ID_MAX}")
    number = clean_text(inv.number)
    if len(number) > NUMBER_MAX:
        raise Refused(f"the invoice number is {len(number)} characters; the store keeps at most {NUMBER_MAX}")
    # A name is shown, never matched on by a person: a long one is cut (the same way every time,
    # so the fingerprint of a re-read is the same), not quarantined.
    contact = clean_text(inv.contact_name)[:CONTACT_NAME_MAX]
    email = clean_text(inv.contact_email or "")
    # An address is only used to send notices: one that cannot be one is dropped, never quarantined.
    email = email if EMAIL.match(email) and len(email) <= EMAIL_MAX else None
    currency = currency_code(inv.currency)
    total = amount(inv.total, "total", max_amount=max_amount)
    due = amount(inv.amount_due, "amount due", max_amount=max_amount)
    paid = amount(inv.amount_paid, "amount paid", max_amount=max_amount)
    credited = amount(inv.amount_credited, "amount credited", max_amount=max_amount)
    if due > total + credited:
        raise Refused(
            f"amount due {due} is more than the total {total} plus credits {credited}: "
            "the ledger's figures do not add up, so nothing is collected until they do"
        )
    payments = tuple(
        replace(p, external_id=clean_text(p.external_id), reference=clean_text(p.reference)) for p in inv.payments
    )
    return replace(
        inv,
        external_id=external_id,
        number=number,
        contact_name=contact,
        contact_email=email,
        currency=currency,
        total=total,
        amount_due=due,
        amount_paid=paid,
        amount_credited=credited,
        status=clean_text(inv.status),
        type=clean_text(inv.type),
        customer_id=clean_text(inv.customer_id),
        payments=payments,
    )
