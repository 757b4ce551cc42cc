"""The quarantine queue: a record the import could not take is re-read and re-applied, or dismissed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from connector.actions import lookup
from connector.actions.context import Actor
from connector.actions.errors import NotFound, RefusedAction
from connector.ledgers.records import InvoicePage
from connector.mapping import load_mapping
from connector.runtime import Runtime
from connector.store.models import Connection, QuarantinedRecord
from connector.store.types import utcnow
from connector.sync.connect import ledger_for
from connector.sync.importer import apply_page
from connector.sync.runner import LedgerFactory
from connector.sync.runs import RunCounts


@dataclass(frozen=True, slots=True)
class QuarantineOutcome:
    record_id: int
    #: released (applied now) | still_quarantined | dismissed
    state: str
    message: str


def release_record(
    rt: Runtime, record_id: int, *, actor: Actor, make_ledger: LedgerFactory = ledger_for, today: date | None = None
) -> QuarantineOutcome:
    """Re-read the record from the ledger now and apply it; if it is still unreadable it stays quarantined."""
    with rt.transaction() as session:
        record = _open_record(session, record_id)
        external_id, connection_id = record.external_id, record.connection_id
        if not external_id:
            raise RefusedAction(f"quarantined record {record_id} has no ledger id to re-read: dismiss it instead")
        connection = session.get(Connection, connection_id)
        ledger = make_ledger(rt, connection)
        provider = connection.provider
    fresh = ledger.get_invoices([external_id])  # outside any transaction: a ledger call
    counts = RunCounts()
    with rt.transaction() as session:
        record = _open_record(session, record_id)
        connection = session.get(Connection, connection_id)
        apply_page(
            session,
            connection,
            InvoicePage(fresh, more=False),
            load_mapping(provider),
            today=today or date.today(),
            run_id=None,
            counts=counts,
        )
        session.flush()
        if counts.quarantined or not fresh:
            record.resolved_at = utcnow()
            record.resolved_by = actor.name
            why = "the ledger no longer has it" if not fresh else "still unreadable; quarantined again with the reason"
            return QuarantineOutcome(record_id, "still_quarantined", f"re-read by {actor.name}: {why}")
        record.resolved_at = utcnow()
        record.resolved_by = actor.name
        return QuarantineOutcome(record_id, "released", f"re-read and applied by {actor.name}")


def dismiss_record(rt: Runtime, record_id: int, reason: str, *, actor: Actor) -> QuarantineOutcome:
    """Support decides the record needs nothing from the connector; kept, with who and why."""
    why = lookup.reason(reason)
    with rt.transaction() as session:
        record = _open_record(session, record_id)
        record.resolved_at = utcnow()
        record.resolved_by = actor.name
        record.dismissed_reason = why
        return QuarantineOutcome(record_id, "dismissed", f"dismissed by {actor.name}: {why}")


def _open_record(session: Session, record_id: int) -> QuarantinedRecord:
    record = session.get(QuarantinedRecord, record_id)
    if record is None:
        raise NotFound(f"no quarantined record {record_id}", field="record")
    if record.resolved_at is not None:
        raise RefusedAction(f"quarantined record {record_id} was already resolved", field="record")
    return record
