"""The failed-push queue: a write the ledger refused is retried now, or ignored with a reason."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from connector.actions import lookup
from connector.actions.context import Actor
from connector.actions.errors import NotFound, RefusedAction
from connector.runtime import Runtime
from connector.store.models import Invoice, OutboxEntry
from connector.store.types import utcnow
from connector.sync.apply import log_activity


@dataclass(frozen=True, slots=True)
class PushOutcome:
    entry_id: int
    kind: str
    state: str
    message: str


def retry_push(rt: Runtime, entry_id: int, *, actor: Actor) -> PushOutcome:
    """Send a refused (or waiting) write again at the next push, e.g. after the ledger was fixed."""
    with rt.transaction() as session:
        entry = _entry(session, entry_id)
        if entry.state not in ("rejected", "pending", "ignored"):
            raise RefusedAction(f"outbox entry {entry_id} is {entry.state}: only a refused or waiting write is retried")
        was = entry.state
        entry.state = "pending"
        entry.next_attempt_at = utcnow()
        message = f"{entry.kind.replace('_', ' ')} queued again by {actor.name} (was {was}: {entry.last_error or '-'})"
        _log(session, entry, "push_retry", message, actor)
        return PushOutcome(entry.id, entry.kind, entry.state, message)


def ignore_push(rt: Runtime, entry_id: int, reason: str, *, actor: Actor) -> PushOutcome:
    """Never send this write (it was recorded in the ledger by hand, say): kept, with who and why."""
    why = lookup.reason(reason)
    with rt.transaction() as session:
        entry = _entry(session, entry_id)
        if entry.state in ("done", "sending"):
            raise RefusedAction(f"outbox entry {entry_id} is {entry.state}: it cannot be ignored now")
        entry.state = "ignored"
        entry.last_error = f"ignored by {actor.name}: {why}"
        message = f"{entry.kind.replace('_', ' ')} will not be sent: {why}"
        _log(session, entry, "push_ignored", message, actor)
        return PushOutcome(entry.id, entry.kind, entry.state, message)


def _entry(session: Session, entry_id: int) -> OutboxEntry:
    entry = session.get(OutboxEntry, entry_id)
    if entry is None:
        raise NotFound(f"no outbox entry {entry_id}", field="entry")
    return entry


def _log(session: Session, entry: OutboxEntry, kind: str, message: str, actor: Actor) -> None:
    ids = [entry.invoice_id] if entry.invoice_id else list(entry.payload.get("invoice_ids", []))
    for invoice_id in ids:
        invoice = session.get(Invoice, invoice_id)
        if invoice is not None:
            log_activity(
                session,
                invoice,
                "push",
                kind,
                invoice.status,
                invoice.status,
                actor.source,
                message,
                actor=actor.name,
                data={"outbox_entry": entry.id},
            )
