"""What the platform may read back: one invoice with its timeline, and invoices changed since a time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from connector import reports
from connector.domain import InvoiceStatus
from connector.store.models import Invoice

MAX_PAGE = 500


def invoice(session: Session, invoice_id: int) -> dict[str, Any] | None:
    if not 0 < invoice_id < 2**31:  # beyond any id: PostgreSQL would refuse the comparison itself
        return None
    row = session.get(Invoice, invoice_id)
    return None if row is None else reports.timeline(session, row)


def changed_invoices(
    session: Session,
    *,
    status: str | None = None,
    updated_since: datetime | None = None,
    after: tuple[datetime, int] | None = None,
    limit: int = 100,
) -> tuple[list[dict[str, Any]], tuple[datetime, int] | None]:
    """Invoices oldest change first, keyset-paged on (updated_at, id); the cursor of the next page."""
    query = select(Invoice).order_by(Invoice.updated_at, Invoice.id).limit(min(limit, MAX_PAGE) + 1)
    if status:
        query = query.where(Invoice.status == InvoiceStatus(status).value)
    if updated_since:
        query = query.where(Invoice.updated_at >= updated_since)
    if after:
        stamp, last_id = after
        query = query.where(or_(Invoice.updated_at > stamp, and_(Invoice.updated_at == stamp, Invoice.id > last_id)))
    rows = list(session.scalars(query))
    more = len(rows) > min(limit, MAX_PAGE)
    rows = rows[: min(limit, MAX_PAGE)]
    following = (rows[-1].updated_at, rows[-1].id) if more and rows else None
    return [summary(row) for row in rows], following


def summary(row: Invoice) -> dict[str, Any]:
    return {
        "id": row.id,
        "number": row.number,
        "connection_id": row.connection_id,
        "external_id": row.external_id,
        "status": row.status,
        "currency": row.currency,
        "total": str(row.total),
        "amount_due": str(row.amount_due),
        "due_date": row.due_date.isoformat() if row.due_date else None,
        "collection_date": row.collection_date.isoformat() if row.collection_date else None,
        "needs_attention": row.needs_attention,
        "updated_at": row.updated_at.isoformat(),
    }
