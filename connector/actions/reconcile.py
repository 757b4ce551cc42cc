"""Reconcile a connection now, and the one-click fix where the difference is ours to repair."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import select

from connector.actions.context import Actor
from connector.actions.errors import NotFound, RefusedAction
from connector.actions.results import InvoiceOutcome
from connector.ledgers.errors import LedgerError
from connector.mapping import load_mapping
from connector.runtime import Runtime
from connector.store.models import Connection, Invoice, OutboxEntry, ReconciliationFinding, SyncRun
from connector.store.types import utcnow
from connector.sync.apply import log_activity
from connector.sync.connect import ledger_for
from connector.sync.reconcile import (
    Draft,
    PayoutMovement,
    clearing_history,
    compare,
    payout_movements,
    read_ledger,
    read_platform,
    store_findings,
)
from connector.sync.runner import LedgerFactory, connection_ids
from connector.sync.runs import LockOwner, acquire_lock, release_lock, start_run


@dataclass
class ReconcileResult:
    """One connection's reconciliation: what differs, what is new, what was resolved, what it cost."""

    connection: str
    state: str  # succeeded | failed | skipped
    findings: list[Draft] = field(default_factory=list)
    new: int = 0
    resolved: int = 0
    api_calls: int = 0
    seconds: float = 0.0
    error: str | None = None
    run_id: int | None = None
    in_transit: str = ""
    clearing_balance: str = ""
    #: What clearing held before the connection began (its own history).
    clearing_opening: str = "0"
    payouts: list[PayoutMovement] = field(default_factory=list)

    def by_kind(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for d in self.findings:
            counts[d.kind] = counts.get(d.kind, 0) + 1
        return dict(sorted(counts.items()))

    def summary(self) -> str:
        """The line the sync-run history shows."""
        if self.error:
            return f"reconcile failed: {self.error}"
        kinds = ", ".join(f"{k} {n}" for k, n in self.by_kind().items()) or "no differences"
        return f"{len(self.findings)} findings ({kinds}); {self.new} new, {self.resolved} resolved"


def run_reconcile(
    rt: Runtime, *, connection: str | None = None, make_ledger: LedgerFactory = ledger_for
) -> list[ReconcileResult]:
    """Reconcile each connection (or the one named); one failing never stops the others."""
    ids = connection_ids(rt, connection)
    if connection and not ids:
        raise NotFound(f"no connection named {connection!r}", field="connection")
    return [_reconcile_one(rt, i, make_ledger) for i in ids]


def due_for_reconcile(rt: Runtime, now: datetime | None = None) -> list[str]:
    """Connections whose last reconciliation is older than their ``reconcile_every`` (or never ran)."""
    now = now or utcnow()
    due = []
    with rt.sessions() as session:
        for conn in session.scalars(select(Connection).order_by(Connection.name)):
            settings = conn.settings or {}
            if not settings.get("enabled", True) or conn.state == "needs_reconnect":
                continue
            every = timedelta(seconds=int((settings.get("schedule_seconds") or {}).get("reconcile_every", 86400)))
            last = session.scalars(
                select(SyncRun.started_at)
                .where(SyncRun.connection_id == conn.id, SyncRun.job == "reconcile", SyncRun.state == "succeeded")
                .order_by(SyncRun.id.desc())
                .limit(1)
            ).first()
            if last is None or now - last >= every:
                due.append(conn.name)
    return due


def _reconcile_one(rt: Runtime, connection_id: int, make_ledger: LedgerFactory) -> ReconcileResult:
    started = time.perf_counter()
    owner = LockOwner.new()
    with rt.transaction() as session:
        conn = session.get(Connection, connection_id)
        name, provider = conn.name, conn.provider
        clearing = str(((conn.settings or {}).get("accounts") or {}).get("clearing", ""))
        # the connection's lock: a sync writing meanwhile would show as differences that are not
        taken = acquire_lock(session, connection_id, owner)
        if not taken:
            return ReconcileResult(name, "skipped", error=f"being synced by {taken.holder}")
        run_id = start_run(session, connection_id, "reconcile", owner=owner).id
    result = ReconcileResult(name, "succeeded", run_id=run_id)
    ledger = None
    try:
        with rt.sessions() as session:
            ledger = make_ledger(rt, session.get(Connection, connection_id))
        books = read_ledger(ledger, clearing)  # outside any transaction: ledger calls
        with rt.transaction() as session:
            platform = read_platform(session, session.get(Connection, connection_id))
            drafts = compare(platform, books, load_mapping(provider))
            outcome = store_findings(session, connection_id, drafts, run_id)
        result.findings, result.new, result.resolved = drafts, outcome.new, outcome.resolved
        result.in_transit = str(platform.in_transit)
        result.payouts = payout_movements(platform, books.by_marker())
        result.clearing_balance = str(books.clearing_balance)
        result.clearing_opening = str(clearing_history(platform, books)[0])
    except LedgerError as exc:
        result.state, result.error = "failed", f"the ledger did not answer well enough to reconcile: {exc}"
    result.api_calls = ledger.calls.total if ledger else 0
    result.seconds = time.perf_counter() - started
    with rt.transaction() as session:
        release_lock(session, connection_id, owner)
        run = session.get(SyncRun, run_id)
        run.state, run.error, run.finished_at, run.api_calls = result.state, result.error, utcnow(), result.api_calls
        run.counts = {
            "findings": len(result.findings),
            "new": result.new,
            "resolved": result.resolved,
            "by_kind": result.by_kind(),
            "summary": result.summary(),
        }
    return result


def repost_payment(rt: Runtime, finding_id: int, *, actor: Actor, on: date | None = None) -> InvoiceOutcome:
    """A payment the ledger lost is queued again under a new key (the old marker is gone from the ledger).

    Only for an open ``payment_missing`` finding; the next push posts it, the next reconcile resolves
    the finding. Recorded in the invoice's timeline with who did it.
    """
    with rt.transaction() as session:
        finding = session.get(ReconciliationFinding, finding_id)
        if finding is None:
            raise NotFound(f"no reconciliation finding {finding_id}", field="finding")
        if finding.resolved_at is not None or finding.fix_action != "repost_payment":
            raise RefusedAction(
                f"finding {finding_id} is {'resolved' if finding.resolved_at else finding.kind}: "
                "only an open missing payment can be re-posted"
            )
        old = session.get(OutboxEntry, finding.outbox_entry_id)
        waiting = session.scalars(
            select(OutboxEntry.id).where(
                OutboxEntry.invoice_id == old.invoice_id,
                OutboxEntry.kind == "payment",
                OutboxEntry.state.in_(("pending", "sending")),
            )
        ).first()
        if waiting is not None:
            raise RefusedAction(f"a payment for this invoice is already waiting to be posted (entry {waiting})")
        payload: dict[str, Any] = dict(old.payload)
        if on is not None:
            payload["date"] = on.isoformat()
        entry = OutboxEntry(
            connection_id=old.connection_id,
            invoice_id=old.invoice_id,
            kind="payment",
            idempotency_key=uuid.uuid4().hex,
            payload=payload,
            state="pending",
            attempts=0,
        )
        session.add(entry)
        session.flush()
        # The lost one is no longer expected in the ledger: the new entry stands for the same money.
        old.state, old.last_error = "replaced", f"lost in the ledger; replaced by entry {entry.id}"
        invoice = session.get(Invoice, old.invoice_id)
        detail = (
            f"payment of {payload['amount']} {payload['currency']} queued again: the ledger lost the first one "
            f"(finding {finding_id})"
        )
        log_activity(
            session,
            invoice,
            "transition",
            "payment_reposted",
            invoice.status,
            invoice.status,
            actor.source,
            detail,
            actor=actor.name,
            data={"finding": finding_id},
        )
        return InvoiceOutcome(invoice.id, invoice.number, "transition", invoice.status, invoice.status, detail)
