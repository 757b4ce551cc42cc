"""The console's queues: conflicts, duplicates, quarantined records and failed ledger writes."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from connector.domain import InvoiceStatus
from connector.reports.common import (
    PAGE_SIZE,
    PLATFORM_CHANNEL,
    Page,
    _failed_push,
    _keyset,
    _money,
    _names,
    _queue_counts_query,
)
from connector.reports.invoices import InvoiceQuery, _invoice_row, _invoice_select
from connector.store.models import Connection, Invoice, OutboxEntry, QuarantinedRecord

#: The console's queues, in the order the overview shows them.
QUEUES = ("conflicts", "duplicates", "quarantine", "failed")


def queue_overview(session: Session) -> dict[str, Any]:
    """How many wait in each queue, per connection (two queries)."""
    names = _names(session)
    counts = {c["id"]: dict.fromkeys(QUEUES, 0) for c in names}
    refund = Invoice.refund_due.is_not(None)
    for connection_id, status, attention, refund_due, n in session.execute(
        select(Invoice.connection_id, Invoice.status, Invoice.needs_attention, refund, func.count())
        .where(
            Invoice.deleted_at.is_(None),
            Invoice.connection_id.is_not(None),
            or_(Invoice.needs_attention.is_(True), refund, Invoice.status == InvoiceStatus.DUPLICATE.value),
        )
        .group_by(Invoice.connection_id, Invoice.status, Invoice.needs_attention, refund)
    ):
        if connection_id in counts:
            if attention or refund_due:
                counts[connection_id]["conflicts"] += n
            if status == InvoiceStatus.DUPLICATE:
                counts[connection_id]["duplicates"] += n
    for connection_id, kind, n in session.execute(_queue_counts_query()):
        if connection_id in counts and kind in counts[connection_id]:
            counts[connection_id][kind] += n
    totals = {q: sum(c[q] for c in counts.values()) for q in QUEUES}
    return {"connections": [{**c, "counts": counts[c["id"]]} for c in names], "totals": totals}


def conflict_queue(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Invoices a person must decide on (a ledger change while Submitted or Paid, a refund due), oldest first."""
    query = _invoice_select(InvoiceQuery()).where(
        or_(Invoice.needs_attention.is_(True), Invoice.refund_due.is_not(None))
    )

    def row(found: Any) -> dict[str, Any]:
        inv = found[0]
        return {
            **_invoice_row(found),
            "refund_due": _money(inv.refund_due, inv.currency),
            "ledger_amount_due": _money(inv.ledger_amount_due, inv.currency),
        }

    return _keyset(session, query, Invoice.id, after=after, before=None, descending=False, limit=limit, row=row)


def duplicate_queue(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Invoices held as duplicates of another, with the one they duplicate, oldest first."""
    original = aliased(Invoice)
    other = aliased(Connection)
    query = (
        select(Invoice, Connection.name, Connection.provider, original.id, original.number, other.name)
        .outerjoin(Connection, Connection.id == Invoice.connection_id)
        .outerjoin(original, original.id == Invoice.duplicate_of_id)
        .outerjoin(other, other.id == original.connection_id)
        .where(Invoice.status == InvoiceStatus.DUPLICATE.value, Invoice.deleted_at.is_(None))
    )

    def row(found: Any) -> dict[str, Any]:
        base = _invoice_row(found[:3])
        base["original"] = (
            {"id": found[3], "number": found[4], "connection": found[5] or PLATFORM_CHANNEL} if found[3] else None
        )
        return base

    return _keyset(session, query, Invoice.id, after=after, before=None, descending=False, limit=limit, row=row)


#: How much of a quarantined record's raw payload a page shows (the rest is in the database).
RAW_SHOWN = 20_000


def _quarantine_row(found: Any) -> dict[str, Any]:
    r, name = found
    raw = r.raw or ""
    return {
        "id": r.id,
        "connection": name,
        "stream": r.stream,
        "external_id": r.external_id,
        "reason": r.reason,
        "raw": raw[:RAW_SHOWN],
        "raw_truncated": len(raw) > RAW_SHOWN,
        "created_at": r.created_at,
        "resolved_at": r.resolved_at,
        "resolved_by": r.resolved_by,
        "dismissed_reason": r.dismissed_reason,
    }


def quarantine_queue(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Ledger records the import could not take, still open, oldest first, with their raw payload."""
    query = (
        select(QuarantinedRecord, Connection.name)
        .join(Connection, Connection.id == QuarantinedRecord.connection_id)
        .where(QuarantinedRecord.resolved_at.is_(None))
    )
    return _keyset(
        session,
        query,
        QuarantinedRecord.id,
        after=after,
        before=None,
        descending=False,
        limit=limit,
        row=_quarantine_row,
    )


def quarantined_record(session: Session, record_id: int) -> dict[str, Any] | None:
    """One quarantined record, for its confirmation step (one query)."""
    found = session.execute(
        select(QuarantinedRecord, Connection.name)
        .join(Connection, Connection.id == QuarantinedRecord.connection_id)
        .where(QuarantinedRecord.id == record_id)
    ).first()
    return _quarantine_row(found) if found else None


def _push_row(found: Any) -> dict[str, Any]:
    e, number, invoice_id, name = found
    return {
        "id": e.id,
        "connection": name,
        "kind": e.kind,
        "state": e.state,
        "invoice_id": invoice_id,
        "invoice": number or e.payload.get("reference") or "",
        "amount": str(e.payload.get("amount", e.payload.get("net", ""))),
        "currency": e.payload.get("currency", ""),
        "attempts": e.attempts,
        "error": e.last_error or "",
        "next_attempt_at": e.next_attempt_at if e.state == "pending" else None,
        "created_at": e.created_at,
    }


def _push_select() -> Any:
    return (
        select(OutboxEntry, Invoice.number, Invoice.id, Connection.name)
        .outerjoin(Invoice, Invoice.id == OutboxEntry.invoice_id)
        .join(Connection, Connection.id == OutboxEntry.connection_id)
    )


def failed_push_queue(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Ledger writes refused by the ledger, or waiting again after an error, oldest first."""
    return _keyset(
        session,
        _push_select().where(_failed_push()),
        OutboxEntry.id,
        after=after,
        before=None,
        descending=False,
        limit=limit,
        row=_push_row,
    )


def outbox_entry(session: Session, entry_id: int) -> dict[str, Any] | None:
    """One ledger write, for its confirmation step (one query)."""
    found = session.execute(_push_select().where(OutboxEntry.id == entry_id)).first()
    return _push_row(found) if found else None
