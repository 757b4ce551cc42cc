"""Finding what an action acts on, with the person-readable errors every shell shows."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation

from sqlalchemy.orm import Session

from connector.actions.errors import InvalidInput, NotFound
from connector.store.invoices import AmbiguousInvoice, InvoiceNotFound, find_invoice
from connector.store.models import Invoice


def invoice(session: Session, ref: str, connection: str | None = None) -> Invoice:
    """By ``#id``, invoice number or ledger id (narrowed by connection name)."""
    try:
        return find_invoice(session, ref, connection)
    except (InvoiceNotFound, AmbiguousInvoice) as exc:
        raise NotFound(str(exc), field="invoice") from None


def reason(text: str, field: str = "reason") -> str:
    """A person's change always says why: the timeline keeps it."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput(f"{field} must say why", field=field)
    return text


def amount(value: str | Decimal, field: str) -> Decimal:
    """A non-negative, finite amount from text such as ``120.50``."""
    try:
        parsed = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"{field}: expected an amount such as 120.50, got {value!r}", field=field) from None
    if not parsed.is_finite() or parsed < 0:
        raise InvalidInput(f"{field}: expected a positive amount, got {value!r}", field=field)
    return parsed


def day(value: str | date | None, field: str = "date") -> date:
    """A calendar date (``YYYY-MM-DD``); today when not given."""
    if value is None:
        return date.today()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field}: expected YYYY-MM-DD, got {value!r}", field=field) from None
