"""The system's own status changes: payment requests past their due date become Overdue."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select

from connector.actions.context import Actor
from connector.domain import DueDatePassed
from connector.runtime import Runtime
from connector.store.models import Invoice
from connector.sync.apply import apply_event
from connector.sync.calendar import local_today
from connector.sync.runs import RunCounts, finish_run, start_run


def sweep_overdue(rt: Runtime, *, today: date | None = None, now: datetime | None = None) -> int:
    """Outstanding requests whose due date has passed, in the organisation's own date, become Overdue."""
    actor = Actor.system("overdue sweep")
    moved = 0
    with rt.transaction() as session:
        run_id = start_run(session, None, "overdue_sweep").id
        rows = session.scalars(
            select(Invoice).where(
                Invoice.status == "outstanding", Invoice.due_date.is_not(None), Invoice.deleted_at.is_(None)
            )
        )
        for invoice in rows:
            day = today or local_today(invoice.connection, now)
            if invoice.due_date >= day:
                continue
            event = DueDatePassed(occurred_on=day, detail=f"due {invoice.due_date}")
            apply_event(session, invoice, event, sync_run_id=run_id, source=actor.source, actor=actor.name)
            moved += 1
        finish_run(session, run_id, RunCounts(changed=moved), 0)
    return moved
