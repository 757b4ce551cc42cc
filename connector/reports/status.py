"""What support reads first: status counts per connection, what needs attention, the open lists.

``connector status`` and the web status page render :func:`status_report`; the CLI's queue and
reconcile commands list :func:`failed_pushes`, :func:`open_quarantine` and :func:`open_findings`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.domain import InvoiceStatus
from connector.domain.money import format_amount
from connector.reports.common import PLATFORM_CHANNEL
from connector.store.models import (
    ActivityEvent,
    Connection,
    Invoice,
    OutboxEntry,
    QuarantinedRecord,
    ReconciliationFinding,
    SyncRun,
)
from connector.store.types import utcnow


def status_report(
    session: Session, conflict_window: timedelta = timedelta(days=30), attention_limit: int = 20
) -> dict[str, Any]:
    """Counts per status per connection, and every kind of thing a person must look at."""
    counts: dict[str, dict[str, int]] = {}
    rows = session.execute(
        select(Connection.name, Invoice.status, func.count())
        .select_from(Invoice)
        .outerjoin(Connection, Invoice.connection_id == Connection.id)
        .where(Invoice.deleted_at.is_(None))
        .group_by(Connection.name, Invoice.status)
    )
    for name, status, n in rows:
        counts.setdefault(name or PLATFORM_CHANNEL, dict.fromkeys(InvoiceStatus, 0))[InvoiceStatus(status)] = n
    for (name,) in session.execute(select(Connection.name)):
        counts.setdefault(name, dict.fromkeys(InvoiceStatus, 0))

    since = utcnow() - conflict_window
    attention = {
        "invoices_needing_attention": _count(
            session,
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.needs_attention.is_(True), Invoice.deleted_at.is_(None)),
        ),
        "refunds_due": _count(
            session,
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.refund_due.is_not(None), Invoice.deleted_at.is_(None)),
        ),
        "conflicts_recent": _count(
            session,
            select(func.count())
            .select_from(ActivityEvent)
            .where(ActivityEvent.outcome == "conflict", ActivityEvent.occurred_at >= since),
        ),
        "ledger_writes_rejected": _count(
            session, select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state == "rejected")
        ),
        "ledger_writes_waiting": _count(
            session,
            select(func.count()).select_from(OutboxEntry).where(OutboxEntry.state.in_(("pending", "sending"))),
        ),
        "quarantined_records": _count(
            session,
            select(func.count()).select_from(QuarantinedRecord).where(QuarantinedRecord.resolved_at.is_(None)),
        ),
        "reconciliation_findings": _count(
            session,
            select(func.count()).select_from(ReconciliationFinding).where(ReconciliationFinding.resolved_at.is_(None)),
        ),
        "duplicates_waiting": _count(
            session,
            select(func.count())
            .select_from(Invoice)
            .where(Invoice.status == InvoiceStatus.DUPLICATE.value, Invoice.deleted_at.is_(None)),
        ),
    }
    connections = [
        {
            "name": c.name,
            "provider": c.provider,
            "state": c.state,
            "reason": c.state_reason,
            "last_reconcile": last_reconcile(session, c.id),
        }
        for c in session.scalars(select(Connection).order_by(Connection.name))
    ]
    return {
        "attention_items": attention_items(session, limit=attention_limit),
        "statuses": [s.value for s in InvoiceStatus],
        "counts": {conn: {s.value: n for s, n in by.items()} for conn, by in sorted(counts.items())},
        "needs_attention": attention,
        "connections": connections,
    }


def last_reconcile(session: Session, connection_id: int) -> dict[str, Any] | None:
    """The latest reconciliation of a connection: when, and its one-line summary."""
    run = session.scalars(
        select(SyncRun)
        .where(SyncRun.connection_id == connection_id, SyncRun.job == "reconcile", SyncRun.finished_at.is_not(None))
        .order_by(SyncRun.id.desc())
        .limit(1)
    ).first()
    if run is None:
        return None
    return {"at": run.finished_at.isoformat(timespec="seconds"), "state": run.state, **(run.counts or {})}


def attention_items(session: Session, limit: int = 20) -> list[dict[str, Any]]:
    """The invoices a person must look at, money first (a refund due), each with why and how much."""
    rows = session.scalars(
        select(Invoice)
        .where(Invoice.needs_attention.is_(True) | (Invoice.refund_due.is_not(None)), Invoice.deleted_at.is_(None))
        .order_by(Invoice.refund_due.is_(None), Invoice.id)
        .limit(limit)
    )
    return [
        {
            "id": inv.id,
            "number": inv.number,
            "connection": inv.connection.name if inv.connection else PLATFORM_CHANNEL,
            "status": inv.status,
            "currency": inv.currency,
            "refund_due": format_amount(inv.refund_due, inv.currency) if inv.refund_due else None,
            "reason": inv.attention_reason or "needs attention",
        }
        for inv in rows
    ]


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(query) or 0)


def failed_pushes(session: Session, *, include_waiting: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """The failed-push queue: writes the ledger refused (and, if asked, those still waiting or held)."""
    states = ("rejected", "pending", "sending") if include_waiting else ("rejected",)
    rows = session.execute(
        select(OutboxEntry, Invoice.number, Connection.name)
        .outerjoin(Invoice, Invoice.id == OutboxEntry.invoice_id)
        .join(Connection, Connection.id == OutboxEntry.connection_id)
        .where(OutboxEntry.state.in_(states))
        .order_by(OutboxEntry.id)
        .limit(limit)
    )
    return [
        {
            "id": e.id,
            "connection": conn,
            "kind": e.kind,
            "state": e.state,
            "invoice": number or e.payload.get("reference") or "",
            "attempts": e.attempts,
            "error": e.last_error or "",
        }
        for e, number, conn in rows
    ]


def open_quarantine(session: Session, limit: int = 200) -> list[dict[str, Any]]:
    """Ledger records the import could not take, still waiting for a person or a readable version."""
    rows = session.execute(
        select(QuarantinedRecord, Connection.name)
        .join(Connection, Connection.id == QuarantinedRecord.connection_id)
        .where(QuarantinedRecord.resolved_at.is_(None))
        .order_by(QuarantinedRecord.id)
        .limit(limit)
    )
    return [
        {"id": r.id, "connection": name, "external_id": r.external_id, "reason": r.reason, "raw": r.raw}
        for r, name in rows
    ]


def open_findings(session: Session, connection: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    """Reconciliation findings not yet resolved, oldest first, with what each suggests."""
    query = (
        select(ReconciliationFinding, Connection.name)
        .join(Connection, Connection.id == ReconciliationFinding.connection_id)
        .where(ReconciliationFinding.resolved_at.is_(None))
        .order_by(ReconciliationFinding.id)
        .limit(limit)
    )
    if connection:
        query = query.where(Connection.name == connection)
    return [
        {
            "id": f.id,
            "connection": name,
            "kind": f.kind,
            "amount": format_amount(f.amount, f.currency or "XXX") if f.amount is not None else "",
            "first_seen": f.first_seen_at.isoformat(timespec="seconds"),
            "last_seen": f.last_seen_at.isoformat(timespec="seconds"),
            "explanation": f.explanation,
            "fix": f.suggested_fix,
            "fix_action": f.fix_action,
        }
        for f, name in session.execute(query)
    ]
