"""The first import: a set-up connection made active, and its progress for the progress bar."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from connector.actions.connections.common import _connection, log
from connector.actions.context import Actor
from connector.actions.errors import RefusedAction
from connector.runtime import Runtime
from connector.store.models import Invoice, SyncRun


def start_first_import(rt: Runtime, connection_id: int, *, actor: Actor) -> str:
    """Make a set-up connection active, so a sync may run; returns its name for the sync.

    The web shell runs :func:`connector.actions.sync.run_sync` for it in the background; the
    daemon picks it up on its schedule as well. Already active: nothing to change.
    """
    with rt.transaction() as session:
        row = _connection(session, connection_id)
        settings = row.settings or {}
        if row.state == "setup":
            if not settings.get("accounts"):
                raise RefusedAction("Choose the accounts first.", field="accounts")
            if "lead_days" not in settings:
                raise RefusedAction("Save the collection settings first.", field="settings")
            row.state = "active"
            row.state_reason = None
            log.info("%s started the first import of %s", actor.name, row.name)
        elif row.state == "disconnected":
            raise RefusedAction(f"{row.name} is disconnected: reconnect it first.")
        return row.name


@dataclass(frozen=True, slots=True)
class ImportProgress:
    """How the first (or latest) import of a connection is going: for the progress bar."""

    connection_id: int
    name: str
    #: waiting (no run yet) | running | succeeded | failed | interrupted | skipped
    state: str
    fetched: int = 0
    placed: int = 0
    pages: int = 0
    invoices: int = 0
    scheduled: int = 0
    error: str | None = None
    finished_at: datetime | None = None
    next_sync_at: datetime | None = None

    @property
    def finished(self) -> bool:
        return self.state not in ("waiting", "running")

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "finished": self.finished,
            "fetched": self.fetched,
            "placed": self.placed,
            "pages": self.pages,
            "invoices": self.invoices,
            "scheduled": self.scheduled,
            "error": self.error,
            "next_sync_at": self.next_sync_at.isoformat(timespec="minutes") if self.next_sync_at else None,
        }


def import_progress(rt: Runtime, connection_id: int) -> ImportProgress:
    """Read from the connection's latest sync run, whose counts the runner updates every page."""
    with rt.sessions() as session:
        row = _connection(session, connection_id)
        run = session.scalar(
            select(SyncRun)
            .where(SyncRun.connection_id == connection_id, SyncRun.job == "sync")
            .order_by(SyncRun.id.desc())
            .limit(1)
        )
        counts = dict(run.counts or {}) if run else {}
        totals = dict(
            session.execute(
                select(Invoice.status, func.count())
                .where(Invoice.connection_id == connection_id, Invoice.deleted_at.is_(None))
                .group_by(Invoice.status)
            ).all()
        )
        every = int(((row.settings or {}).get("schedule_seconds") or {}).get("import_every", 900))
        finished = run.finished_at if run else None
        return ImportProgress(
            connection_id=row.id,
            name=row.name,
            state=run.state if run else "waiting",
            fetched=int(counts.get("fetched", 0)),
            placed=int(counts.get("placed", 0)),
            pages=int(counts.get("pages", 0)),
            invoices=sum(totals.values()),
            scheduled=int(totals.get("scheduled", 0)),
            error=run.error if run else None,
            finished_at=finished,
            next_sync_at=finished + timedelta(seconds=every) if finished else None,
        )
