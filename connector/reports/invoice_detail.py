"""One invoice in the console: the ledger's view beside the platform's, and a confirmation's brief."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from connector.domain.money import format_amount
from connector.reports.common import PLATFORM_CHANNEL, _money, ledger_link
from connector.reports.invoices import _invoice_row
from connector.store.models import ActivityEvent, Connection, Invoice, OutboxEntry, ReconciliationFinding


def invoice_detail(session: Session, invoice_id: int) -> dict[str, Any] | None:
    """One invoice: the ledger's view beside the platform's, its timeline, its ledger writes, its findings.

    Four queries, however long its story.
    """
    original = aliased(Invoice)
    found = session.execute(
        select(Invoice, Connection.name, Connection.provider, original.number)
        .outerjoin(Connection, Connection.id == Invoice.connection_id)
        .outerjoin(original, original.id == Invoice.duplicate_of_id)
        .where(Invoice.id == invoice_id)
    ).first()
    if found is None:
        return None
    inv, connection, provider, original_number = found
    cur = inv.currency
    events = [
        {
            "id": e.id,
            "at": e.occurred_at,
            "kind": e.kind,
            "outcome": e.outcome,
            "from": e.from_status,
            "to": e.to_status,
            "source": e.source,
            "actor": e.actor,
            "detail": e.detail,
            "reason": (e.data or {}).get("reason") or (e.data or {}).get("note"),
            "notify_customer": (e.data or {}).get("notify_customer"),
            "ledger_id": (e.data or {}).get("ledger_id") or (e.data or {}).get("ledger_reference"),
            "sync_run_id": e.sync_run_id,
        }
        for e in session.scalars(
            select(ActivityEvent).where(ActivityEvent.invoice_id == inv.id).order_by(ActivityEvent.id)
        )
    ]
    outbox = [
        {
            "id": o.id,
            "kind": o.kind,
            "state": o.state,
            "attempts": o.attempts,
            "amount": str(o.payload.get("amount", "")),
            "currency": o.payload.get("currency", ""),
            "ledger_reference": o.ledger_reference,
            "error": o.last_error,
            "created_at": o.created_at,
            "next_attempt_at": o.next_attempt_at if o.state == "pending" else None,
            "done_at": o.done_at,
            "failed": o.state == "rejected" or (o.state == "pending" and bool(o.last_error) and o.attempts > 0),
        }
        for o in session.scalars(select(OutboxEntry).where(OutboxEntry.invoice_id == inv.id).order_by(OutboxEntry.id))
    ]
    findings = [
        {"id": f.id, "kind": f.kind, "explanation": f.explanation, "fix": f.suggested_fix, "fix_action": f.fix_action}
        for f in session.scalars(
            select(ReconciliationFinding)
            .where(ReconciliationFinding.invoice_id == inv.id, ReconciliationFinding.resolved_at.is_(None))
            .order_by(ReconciliationFinding.id)
        )
    ]
    return {
        "id": inv.id,
        "number": inv.number,
        "version": inv.version,
        "connection": connection or PLATFORM_CHANNEL,
        "provider": provider,
        "contact": inv.contact_name,
        "currency": cur,
        "status": inv.status,
        "needs_attention": inv.needs_attention,
        "attention_reason": inv.attention_reason,
        "refund_due": _money(inv.refund_due, cur),
        "deleted": inv.deleted_at is not None,
        "duplicate_of": {"id": inv.duplicate_of_id, "number": original_number} if inv.duplicate_of_id else None,
        "ledger_link": ledger_link(provider, inv.external_id),
        "platform": {
            "status": inv.status,
            "mode": inv.mode,
            "amount_due": format_amount(inv.amount_due, cur),
            "paid_amount": _money(inv.paid_amount, cur),
            "paid_via": inv.paid_via,
            "collection_date": inv.collection_date,
            "attempts": inv.attempts,
            "payment_posted": inv.payment_posted,
        },
        "ledger": {
            "id": inv.external_id,
            "status": inv.ledger_status,
            "total": format_amount(inv.total, cur),
            "amount_due": _money(inv.ledger_amount_due, cur),
            "issue_date": inv.issue_date,
            "due_date": inv.ledger_due_date or inv.due_date,
            "updated_at": inv.ledger_updated_at,
        },
        "events": events,
        "outbox": outbox,
        "findings": findings,
    }


def invoice_brief(session: Session, invoice_id: int) -> dict[str, Any] | None:
    """What a confirmation step shows of an invoice (one query)."""
    found = session.execute(
        select(Invoice, Connection.name, Connection.provider)
        .outerjoin(Connection, Connection.id == Invoice.connection_id)
        .where(Invoice.id == invoice_id)
    ).first()
    return _invoice_row(found) if found else None
