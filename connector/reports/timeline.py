"""One invoice and every activity event it has: ``connector activity``, the demo and the API."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.domain.money import format_amount
from connector.reports.common import PLATFORM_CHANNEL
from connector.store.models import ActivityEvent, Invoice


def timeline(session: Session, invoice: Invoice) -> dict[str, Any]:
    """One invoice and every activity event it has, oldest first."""
    events = session.scalars(
        select(ActivityEvent).where(ActivityEvent.invoice_id == invoice.id).order_by(ActivityEvent.id)
    )
    return {
        "invoice": {
            "id": invoice.id,
            "number": invoice.number,
            "connection": invoice.connection.name if invoice.connection else PLATFORM_CHANNEL,
            "external_id": invoice.external_id,
            "contact": invoice.contact_name,
            "status": invoice.status,
            "mode": invoice.mode,
            "paid_via": invoice.paid_via,
            "currency": invoice.currency,
            "total": format_amount(invoice.total, invoice.currency),
            "amount_due": format_amount(invoice.amount_due, invoice.currency),
            "paid_amount": format_amount(invoice.paid_amount, invoice.currency) if invoice.paid_amount else None,
            "refund_due": format_amount(invoice.refund_due, invoice.currency) if invoice.refund_due else None,
            "attention_reason": invoice.attention_reason,
            "due_date": _iso(invoice.due_date),
            "collection_date": _iso(invoice.collection_date),
            "attempts": invoice.attempts,
            "needs_attention": invoice.needs_attention,
            "ledger_status": invoice.ledger_status,
            "duplicate_of": invoice.duplicate_of_id,
            "deleted": invoice.deleted_at is not None,
        },
        "events": [
            {
                "at": e.occurred_at.isoformat(timespec="seconds"),
                "kind": e.kind,
                "outcome": e.outcome,
                "from": e.from_status,
                "to": e.to_status,
                "source": e.source,
                "actor": e.actor,
                "detail": e.detail,
            }
            for e in events
        ],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None
