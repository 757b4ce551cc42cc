"""Ledger <-> JSON, so ``--data FILE`` can carry a demo's books across restarts.

Records are stored as rows under a field list per collection (compact, and fast enough
for 100,000 invoices): Decimals as strings, dates as ISO strings. A file written before a
collection or a trailing field existed still loads (the collection empty, the field at its
default); any other difference in the field lists is refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from operator import attrgetter
from typing import Any

from connector.sandbox.xero import model
from connector.sandbox.xero.state import Ledger, Tenant

FORMAT = 3

_COLLECTIONS: dict[str, type] = {
    "accounts": model.Account,
    "contacts": model.Contact,
    "invoices": model.Invoice,
    "payments": model.Payment,
    "credit_notes": model.CreditNote,
    "allocations": model.Allocation,
    "bank_transactions": model.BankTransaction,
    "bank_transfers": model.BankTransfer,
    "overpayments": model.Overpayment,
    "prepayments": model.Prepayment,
    "batch_payments": model.BatchPayment,
    "items": model.Item,
    "history": model.HistoryRecord,
}


def _opt(fn: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda v: None if v is None else fn(v)


class _Codec:
    """Row codec for one dataclass, derived from its field annotations (never eval'd)."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        fields = dataclasses.fields(cls)
        self.names = [f.name for f in fields]
        self.get = attrgetter(*self.names)
        self.enc: list[Callable[[Any], Any] | None] = []
        self.dec: list[Callable[[Any], Any] | None] = []
        for f in fields:
            kind = str(f.type).replace(" ", "")
            if kind.startswith("Decimal"):
                self.enc.append(_opt(str))
                self.dec.append(_opt(Decimal))
            elif kind.startswith("date"):
                self.enc.append(_opt(date.isoformat))
                self.dec.append(_opt(date.fromisoformat))
            elif kind == "list[LineItem]":
                self.enc.append(lambda v: [_LINES.row(li) for li in v])
                self.dec.append(lambda v: [_LINES.obj(r) for r in v])
            elif kind == "dict[str,Decimal]":
                self.enc.append(lambda v: {k: str(x) for k, x in v.items()})
                self.dec.append(lambda v: {k: Decimal(x) for k, x in v.items()})
            elif kind.startswith(("list", "dict")):
                self.enc.append(list if kind.startswith("list") else dict)
                self.dec.append(list if kind.startswith("list") else dict)
            else:
                self.enc.append(None)
                self.dec.append(None)

    def row(self, obj: Any) -> list[Any]:
        values = self.get(obj)
        return [v if fn is None else fn(v) for v, fn in zip(values, self.enc, strict=True)]

    def obj(self, row: list[Any]) -> Any:
        """A record from a row; a shorter row (an older file) leaves the trailing fields at their defaults."""
        return self.cls(*[v if fn is None else fn(v) for v, fn in zip(row, self.dec[: len(row)], strict=True)])


_LINES = _Codec(model.LineItem)
_CODECS = {name: _Codec(cls) for name, cls in _COLLECTIONS.items()}
_ORG = _Codec(model.Organisation)


def dump_ledger(ledger: Ledger) -> dict[str, Any]:
    with ledger.lock:
        tenants = []
        for t in ledger.tenants.values():
            doc: dict[str, Any] = {
                "org": _ORG.row(t.org),
                "currencies": {k: str(v) for k, v in t.currencies.items()},
                "next_invoice_no": t.next_invoice_no,
                "next_credit_no": t.next_credit_no,
                "seq": t.seq,
            }
            for name, codec in _CODECS.items():
                doc[name] = [codec.row(record) for record in getattr(t, name).values()]
            tenants.append(doc)
    return {
        "format": FORMAT,
        "fields": {name: codec.names for name, codec in _CODECS.items()},
        "tenants": tenants,
    }


def load_ledger(ledger: Ledger, data: dict[str, Any]) -> None:
    if data.get("format") != FORMAT:
        raise ValueError(f"unsupported sandbox data format {data.get('format')!r}; delete the file to reseed")
    for name, codec in _CODECS.items():
        stored = data["fields"].get(name)
        if stored is not None and stored != codec.names[: len(stored)]:
            raise ValueError(
                f"sandbox data file was written by another version ({name}); delete it to reseed"
            )
    for doc in data["tenants"]:
        tenant = Tenant(
            org=_ORG.obj(doc["org"]),
            currencies={k: Decimal(v) for k, v in doc["currencies"].items()},
            next_invoice_no=doc["next_invoice_no"],
            next_credit_no=doc["next_credit_no"],
            seq=doc["seq"],
        )
        for name, codec in _CODECS.items():
            target = getattr(tenant, name)
            for row in doc.get(name, ()):
                record = codec.obj(row)
                target[record.id] = record
        tenant.invoice_numbers = {
            i.number: i.id for i in tenant.invoices.values() if i.type == "ACCREC" and i.number
        }
        ledger.add_tenant(tenant)
