"""The console's reconciliation page: open findings per connection and kind, and one finding."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.domain.money import format_amount
from connector.reports.common import PAGE_SIZE, _keyset, _names
from connector.reports.runs import _run_row
from connector.store.models import Connection, Invoice, ReconciliationFinding, SyncRun


def _finding_row(found: Any) -> dict[str, Any]:
    f, name, number = found
    return {
        "id": f.id,
        "connection": name,
        "kind": f.kind,
        "subject": f.subject,
        "invoice_id": f.invoice_id,
        "invoice": number,
        "amount": format_amount(f.amount, f.currency or "XXX") if f.amount is not None else "",
        "currency": f.currency or "",
        "ledger_value": f.ledger_value,
        "platform_value": f.platform_value,
        "explanation": f.explanation,
        "fix": f.suggested_fix,
        "fix_action": f.fix_action,
        "first_seen": f.first_seen_at,
        "last_seen": f.last_seen_at,
        "resolved_at": f.resolved_at,
    }


def _finding_select() -> Any:
    return (
        select(ReconciliationFinding, Connection.name, Invoice.number)
        .join(Connection, Connection.id == ReconciliationFinding.connection_id)
        .outerjoin(Invoice, Invoice.id == ReconciliationFinding.invoice_id)
    )


def reconciliation(
    session: Session, *, connection_id: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    """Open findings per connection and kind, each connection's last reconcile, and a page of findings.

    Four queries: connections, counts per kind, the last reconcile runs, the page.
    """
    names = _names(session)
    per = {c["id"]: {**c, "by_kind": {}, "open": 0, "last": None} for c in names}
    for connection_id_, kind, n in session.execute(
        select(ReconciliationFinding.connection_id, ReconciliationFinding.kind, func.count())
        .where(ReconciliationFinding.resolved_at.is_(None))
        .group_by(ReconciliationFinding.connection_id, ReconciliationFinding.kind)
    ):
        if connection_id_ in per:
            per[connection_id_]["by_kind"][kind] = n
            per[connection_id_]["open"] += n
    last_ids = (
        select(func.max(SyncRun.id)).where(SyncRun.job == "reconcile", SyncRun.connection_id.is_not(None))
    ).group_by(SyncRun.connection_id)
    for run in session.scalars(select(SyncRun).where(SyncRun.id.in_(last_ids))):
        if run.connection_id in per:
            per[run.connection_id]["last"] = _run_row(run, per[run.connection_id]["name"])
    query = _finding_select().where(ReconciliationFinding.resolved_at.is_(None))
    if connection_id:
        query = query.where(ReconciliationFinding.connection_id == connection_id)
    page = _keyset(
        session,
        query,
        ReconciliationFinding.id,
        after=after,
        before=None,
        descending=False,
        limit=limit,
        row=_finding_row,
    )
    return {"connections": list(per.values()), "page": page}


def finding(session: Session, finding_id: int) -> dict[str, Any] | None:
    """One finding, for its confirmation step (one query)."""
    found = session.execute(_finding_select().where(ReconciliationFinding.id == finding_id)).first()
    return _finding_row(found) if found else None
