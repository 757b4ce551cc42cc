"""Invoice rows ↔ domain state, and the look-ups the CLI and the engines share."""

from __future__ import annotations

import json
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import String, bindparam, func, or_, select, true
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session, aliased

from connector.domain import CollectionMode, InvoiceState, InvoiceStatus, LedgerStatus, Money, PaidVia
from connector.store.models import Connection, Invoice


class InvoiceNotFound(LookupError):
    """No invoice answers to that number or id."""


class AmbiguousInvoice(LookupError):
    """Several invoices share that number (in different connections)."""


def state_of(row: Invoice) -> InvoiceState:
    return InvoiceState(
        status=InvoiceStatus(row.status),
        mode=CollectionMode(row.mode),
        amount_due=Money(row.amount_due, row.currency),
        due_date=row.due_date,
        collection_date=row.collection_date,
        attempts=row.attempts,
        paid_via=PaidVia(row.paid_via) if row.paid_via else None,
        needs_attention=row.needs_attention,
        ledger_status=LedgerStatus(row.ledger_status),
        payment_posted=row.payment_posted,
        paid_amount=Money(row.paid_amount, row.currency) if row.paid_amount is not None else None,
    )


def state_columns(state: InvoiceState) -> dict[str, object]:
    """The invoice columns that hold the domain state, for bulk inserts."""
    return {
        "status": state.status.value,
        "mode": state.mode.value,
        "amount_due": state.amount_due.amount,
        "due_date": state.due_date,
        "collection_date": state.collection_date,
        "attempts": state.attempts,
        "paid_via": state.paid_via.value if state.paid_via else None,
        "needs_attention": state.needs_attention,
        "ledger_status": state.ledger_status.value,
        "payment_posted": state.payment_posted,
        "paid_amount": state.paid_amount.amount if state.paid_amount else None,
    }


def write_state(row: Invoice, state: InvoiceState) -> None:
    for column, value in state_columns(state).items():
        setattr(row, column, value)


def find_invoice(session: Session, ref: str, connection: str | None = None) -> Invoice:
    """By id (``#12`` or ``12``), invoice number or ledger id; narrowed by connection name if given."""
    query = select(Invoice).where(Invoice.deleted_at.is_(None))
    if connection:
        query = query.join(Connection).where(Connection.name == connection)
    key = ref.removeprefix("#")
    conditions = [Invoice.number == ref, Invoice.external_id == ref]
    if key.isdigit():
        conditions.append(Invoice.id == int(key))
    rows = list(session.scalars(query.where(or_(*conditions))).unique())
    if ref.startswith("#") and key.isdigit():
        rows = [r for r in rows if r.id == int(key)]
    if not rows:
        where = f" in connection {connection!r}" if connection else ""
        raise InvoiceNotFound(f"no invoice {ref!r}{where}")
    if len(rows) > 1:
        ids = ", ".join(f"#{r.id}" for r in rows)
        raise AmbiguousInvoice(f"{ref!r} matches several invoices ({ids}); name one by #id or --connection")
    return rows[0]


def as_amount(value: str | Decimal) -> Decimal:
    return value if isinstance(value, Decimal) else Decimal(value)


def each_matching(session: Session, column: Any, keys: Iterable[str], *conditions: Any) -> list[Invoice]:
    """The invoices whose ``column`` is one of ``keys`` (and that meet ``conditions``), found key by key.

    On PostgreSQL each key is looked up on its own through a LATERAL subquery fenced by ``OFFSET 0``,
    so the planner must probe the index on ``column`` once per key, whatever it believes of the
    table's size: a first import meets an un-analysed table, where ``column IN (…)`` was planned as
    a scan of the whole connection on every page and the import went quadratic. On SQLite the keys
    go in as one JSON array (``IN (SELECT value FROM json_each(?))``), which its planner probes the
    index with key by key: one bound parameter, so the statement is compiled once, not once per
    page for a thousand expanded ones.
    """
    keys = sorted(set(keys))
    if not keys:
        return []
    return list(session.scalars(matching_query(session.get_bind().dialect.name, column, keys, *conditions)))


def matching_query(dialect: str, column: Any, keys: list[str], *conditions: Any) -> Any:
    """The statement :func:`each_matching` runs (the plan tests EXPLAIN it)."""
    if dialect == "sqlite":
        each = func.json_each(bindparam("keys", json.dumps(keys), type_=String)).table_valued("value")
        return select(Invoice).where(column.in_(select(each.c.value)), *conditions)
    if dialect != "postgresql":
        return select(Invoice).where(column.in_(keys), *conditions)
    wanted = select(func.unnest(bindparam("keys", keys, type_=ARRAY(String))).label("key")).subquery("wanted")
    match = select(Invoice).where(column == wanted.c.key, *conditions).offset(0).lateral("match")
    found = aliased(Invoice, match)
    return select(found).select_from(wanted).join(match, true())
