"""Apply an event to a stored invoice: the one-transaction rule of docs/architecture.md.

Every function here takes a session inside a transaction the caller owns and writes, in
that one transaction, the invoice's new state, its activity event(s) and any outbox entry
the ledger must receive. A refused or conflicting event writes only its activity event.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from connector.domain import (
    CollectionMode,
    CollectionPolicy,
    Conflict,
    EventSource,
    LedgerStatus,
    LedgerWrite,
    Money,
    NoChange,
    Outcome,
    PayoutSent,
    Refused,
    Transition,
    apply,
    place_new,
)
from connector.domain.events import Event
from connector.domain.fingerprint import fingerprint
from connector.domain.money import format_amount
from connector.domain.notes import ledger_note
from connector.store.bulk import insert_rows
from connector.store.invoices import each_matching, state_columns, state_of, write_state
from connector.store.models import ActivityEvent, Connection, Invoice, OutboxEntry
from connector.store.types import utcnow

OUTCOME_NAMES: dict[type, str] = {
    Transition: "transition",
    Conflict: "conflict",
    Refused: "refused",
    NoChange: "no_change",
}


class PayoutError(ValueError):
    """A payout that does not add up, or spans connections or currencies."""


@dataclass(frozen=True, slots=True)
class NewInvoice:
    """What is needed to place an invoice that arrives from a ledger or another channel."""

    number: str
    contact_name: str
    currency: str
    total: Decimal
    amount_due: Decimal
    issue_date: date | None
    due_date: date | None
    ledger_status: LedgerStatus
    external_id: str | None = None
    ledger_updated_at: datetime | None = None
    #: How the ledger's status read (from the mapping file), for the activity log.
    label: str = ""
    contact_email: str | None = None


def policy_for(connection: Connection | None) -> CollectionPolicy:
    """The collection policy stored with the connection (a snapshot of its config entry)."""
    if connection is None:
        return CollectionPolicy()
    from connector.store.connections import policy_from_settings

    return policy_from_settings(connection.settings)


def create_invoice(
    session: Session,
    connection: Connection | None,
    new: NewInvoice,
    *,
    today: date,
    source: EventSource = EventSource.LEDGER,
    sync_run_id: int | None = None,
) -> Invoice:
    """Place one new invoice (see :func:`create_invoices`)."""
    return create_invoices(session, connection, [new], today=today, source=source, sync_run_id=sync_run_id)[0]


def create_invoices(
    session: Session,
    connection: Connection | None,
    news: list[NewInvoice],
    *,
    today: date,
    source: EventSource = EventSource.LEDGER,
    sync_run_id: int | None = None,
    load: bool = True,
) -> list[Invoice]:
    """Place new invoices: open ones land in Scheduled (or Outstanding), a known one is a Duplicate.

    Built for import: one query finds every duplicate, and the rows and their activity events go in
    as two bulk INSERTs (SQLAlchemy's insertmanyvalues) instead of one ORM object each, which is
    what lets a first import run at thousands of invoices a second. ``load=False`` skips reading
    the new rows back as ORM objects (the import does not need them).
    """
    if not news:
        return []
    # Every invoice has an id in its channel: the ledger's, or one of ours for the platform's own.
    news = [n if n.external_id else replace(n, external_id=f"platform-{uuid.uuid4().hex}") for n in news]
    prints = [fingerprint(n.contact_name, n.number, n.total, n.currency) for n in news]
    originals = _already_known(session, prints, connection)
    mode = CollectionMode(connection.collection_mode) if connection else CollectionMode.AUTO_COLLECT
    policy = policy_for(connection)
    now = utcnow()
    rows: list[dict[str, Any]] = []
    for new, fp in zip(news, prints, strict=True):
        original = originals.get(fp)
        state = place_new(
            ledger_status=new.ledger_status,
            mode=mode,
            amount_due=Money(new.amount_due, new.currency),
            due_date=new.due_date,
            today=today,
            policy=policy,
            duplicate=original is not None,
        )
        rows.append(
            {
                "connection_id": connection.id if connection else None,
                "external_id": new.external_id,
                "number": new.number,
                "contact_name": new.contact_name,
                "contact_email": new.contact_email,
                "currency": new.currency,
                "total": new.total,
                "issue_date": new.issue_date,
                "fingerprint": fp,
                "duplicate_of_id": original.id if original else None,
                "ledger_amount_due": new.amount_due,
                "ledger_due_date": new.due_date,
                "ledger_updated_at": new.ledger_updated_at,
                "created_at": now,
                "updated_at": now,
                "version": 1,
                **state_columns(state),
            }
        )
    ids = _insert_invoices(session, rows)
    kind = "imported" if source is EventSource.LEDGER else "created"
    events = []
    for invoice_id, row, new, fp in zip(ids, rows, news, prints, strict=True):
        original = originals.get(fp)
        detail = f"placed in {row['status']}"
        if original is not None:
            detail = f"same invoice as #{original.id} ({original.number}) from another channel"
        elif row["collection_date"]:
            detail += f"; collection date {row['collection_date'].isoformat()}"
        if new.label:
            detail = f"{new.label}: {detail}"
        events.append(
            {
                "invoice_id": invoice_id,
                "occurred_at": now,
                "kind": kind,
                "outcome": "created",
                "from_status": None,
                "to_status": row["status"],
                "source": source.value,
                "detail": detail,
                "data": None,
                "sync_run_id": sync_run_id,
            }
        )
    insert_rows(session, ActivityEvent.__table__, events)
    if not load:
        return []
    by_id = {inv.id: inv for inv in session.scalars(select(Invoice).where(Invoice.id.in_(ids)))}
    return [by_id[i] for i in ids]


#: An invoice whose money is in flight or taken: one entered again in the same ledger is the same invoice.
_MONEY_TAKEN = ("submitted", "paid", "settled")


def _insert_invoices(session: Session, rows: list[dict[str, Any]]) -> list[int]:
    """Insert the rows in bulk; their ids, in order (:func:`connector.store.bulk.insert_rows`: the page
    converted once, then COPY on PostgreSQL or one driver executemany on SQLite; ids without any
    read-back that depends on the planner's statistics)."""
    return insert_rows(session, Invoice.__table__, rows, ids=True)


def _already_known(session: Session, prints: list[str], connection: Connection | None) -> dict[str, Invoice]:
    """For each fingerprint, the earliest live invoice with it from another connection or channel,
    or from this one while its debit is in flight or paid (voided and entered again: charged once)."""
    conditions: list[Any] = [Invoice.deleted_at.is_(None)]
    if connection is not None and connection.id is not None:
        conditions.append(
            (Invoice.connection_id != connection.id)
            | Invoice.connection_id.is_(None)
            | ((Invoice.status.in_(_MONEY_TAKEN)) & (Invoice.paid_via.is_(None) | (Invoice.paid_via == "platform")))
        )
    elif connection is None:
        conditions.append(Invoice.connection_id.is_not(None))
    found: dict[str, Invoice] = {}
    for inv in sorted(each_matching(session, Invoice.fingerprint, prints, *conditions), key=lambda i: i.id):
        found.setdefault(inv.fingerprint, inv)
    return found


def apply_event(
    session: Session,
    invoice: Invoice,
    event: Event,
    *,
    source: EventSource | None = None,
    sync_run_id: int | None = None,
    data: dict[str, Any] | None = None,
    actor: str | None = None,
) -> Outcome:
    """Ask the domain, then write the outcome; the caller commits (or rolls back) the whole.

    A conflict is never only a line in the log: the invoice is flagged for a person with the
    reason (and any refund the event says is due), until someone resolves it.
    """
    source = source or event.default_source
    before = state_of(invoice)
    outcome = apply(before, event, policy_for(invoice.connection))
    name = OUTCOME_NAMES[type(outcome)]
    if isinstance(outcome, Transition):
        to_status = outcome.after.status.value if outcome.after else None
        detail = outcome.note or event.detail
        if event.detail and outcome.note:
            detail = f"{outcome.note} ({event.detail})"
        if outcome.after is None:
            invoice.deleted_at = utcnow()
            detail = "draft deleted" + (f" ({event.detail})" if event.detail else "")
        else:
            write_state(invoice, outcome.after)
        log_activity(
            session,
            invoice,
            name,
            event.kind,
            before.status.value,
            to_status,
            source,
            detail,
            sync_run_id=sync_run_id,
            data=data,
            actor=actor,
        )
        if outcome.after is not None and outcome.after.needs_attention and not before.needs_attention:
            flag_attention(invoice, detail)
        elif outcome.after is not None and not outcome.after.needs_attention:
            invoice.attention_reason = None
        if outcome.ledger_write is not None and outcome.ledger_write is not LedgerWrite.PAYOUT:
            _outbox_for_invoice(session, invoice, outcome.ledger_write, event)
        if (text := ledger_note(outcome)) is not None:
            _note_for_invoice(session, invoice, text, event)
    else:
        if isinstance(outcome, Conflict):
            flag_attention(invoice, outcome.reason + (f" ({event.detail})" if event.detail else ""))
            refund = getattr(event, "refund_due", None)
            if refund is not None and refund.is_positive:
                invoice.refund_due = (invoice.refund_due or Decimal(0)) + refund.amount
        log_activity(
            session,
            invoice,
            name,
            event.kind,
            before.status.value,
            before.status.value,
            source,
            outcome.reason + (f" ({event.detail})" if event.detail else ""),
            sync_run_id=sync_run_id,
            data=data,
            actor=actor,
        )
    return outcome


def flag_attention(invoice: Invoice, reason: str) -> None:
    """Put the invoice on the attention list with why; an earlier reason is kept in front."""
    invoice.needs_attention = True
    if not invoice.attention_reason:
        invoice.attention_reason = reason
    elif reason not in invoice.attention_reason:
        invoice.attention_reason = f"{invoice.attention_reason}; {reason}"


def record_payout(
    session: Session,
    invoices: list[Invoice],
    *,
    on: date,
    fee: Decimal,
    reference: str,
    net: Decimal | None = None,
    source: EventSource = EventSource.PLATFORM,
    actor: str | None = None,
) -> tuple[list[Outcome], OutboxEntry | None]:
    """Settle paid invoices with one payout: one transfer (net) and one fee expense in the ledger."""
    if not invoices:
        raise PayoutError("a payout needs at least one invoice")
    connections = {inv.connection_id for inv in invoices}
    currencies = {inv.currency for inv in invoices}
    if len(connections) > 1:
        raise PayoutError("one payout covers invoices of one connection; split it per connection")
    if len(currencies) > 1:
        raise PayoutError(
            f"one payout covers invoices of one currency, these are in {', '.join(sorted(currencies))}: "
            "the platform must report one payout per currency"
        )
    settled = [inv for inv in invoices if inv.status == "paid" and inv.paid_via == "platform"]
    gross = sum((_paid_amount(inv) for inv in settled), Decimal(0))
    expected_net = gross - fee
    if fee < 0:
        raise PayoutError("the fee cannot be negative")
    if net is not None and net != expected_net:
        raise PayoutError(f"net {net} ≠ paid {gross} − fee {fee} = {expected_net}")
    event = PayoutSent(occurred_on=on, detail=f"payout {reference}" if reference else "", reference=reference)
    outcomes = [apply_event(session, inv, event, source=source, actor=actor) for inv in invoices]
    moved = [
        inv
        for inv, out in zip(invoices, outcomes, strict=True)
        if isinstance(out, Transition) and out.ledger_write is LedgerWrite.PAYOUT
    ]
    if not moved or moved[0].connection_id is None:
        return outcomes, None
    currency = moved[0].currency
    paid_out = sum((_paid_amount(i) for i in moved), Decimal(0))
    payload = {
        "reference": reference,
        "date": on.isoformat(),
        "currency": currency,
        "gross": format_amount(paid_out, currency),
        "fee": format_amount(fee, currency),
        "net": format_amount(paid_out - fee, currency),
        "invoice_ids": [i.id for i in moved],
    }
    entry = OutboxEntry(
        connection_id=moved[0].connection_id,
        invoice_id=None,
        kind=LedgerWrite.PAYOUT.value,
        idempotency_key=uuid.uuid4().hex,
        payload=payload,
        state="pending",
        attempts=0,
    )
    session.add(entry)
    return outcomes, entry


def _paid_amount(invoice: Invoice) -> Decimal:
    """What the platform collected for this invoice."""
    return invoice.paid_amount if invoice.paid_amount is not None else Decimal(0)


def _outbox_for_invoice(session: Session, invoice: Invoice, write: LedgerWrite, event: Event) -> None:
    if invoice.connection_id is None:
        return  # raised in the platform itself: no ledger to tell
    payload: dict[str, Any] = {
        "invoice_id": invoice.id,
        "external_id": invoice.external_id,
        "number": invoice.number,
        "date": event.occurred_on.isoformat(),
        "currency": invoice.currency,
    }
    if write is LedgerWrite.PAYMENT:
        paid = invoice.paid_amount if invoice.paid_amount is not None else invoice.amount_due
        payload.update(
            amount=format_amount(paid, invoice.currency), reference=getattr(event, "reference", "") or invoice.number
        )
    session.add(
        OutboxEntry(
            connection_id=invoice.connection_id,
            invoice_id=invoice.id,
            kind=write.value,
            idempotency_key=uuid.uuid4().hex,
            payload=payload,
            state="pending",
            attempts=0,
        )
    )


#: The outbox kind of a note on the ledger's invoice (see connector/domain/notes.py).
LEDGER_NOTE = "ledger_note"


def notes_on(connection: Connection | None) -> bool:
    """Whether this connection leaves notes on the ledger's invoices (``ledger_notes``, default on)."""
    return connection is not None and bool((connection.settings or {}).get("ledger_notes", True))


def _note_for_invoice(session: Session, invoice: Invoice, text: str, event: Event) -> None:
    """The note goes to the outbox in the event's own transaction: written exactly once, after the
    money writes it describes, and never in the way of one (a refused note is only a failed push)."""
    if invoice.connection_id is None or not notes_on(invoice.connection):
        return
    session.add(
        OutboxEntry(
            connection_id=invoice.connection_id,
            invoice_id=invoice.id,
            kind=LEDGER_NOTE,
            idempotency_key=uuid.uuid4().hex,
            payload={
                "invoice_id": invoice.id,
                "external_id": invoice.external_id,
                "number": invoice.number,
                "date": event.occurred_on.isoformat(),
                "event": event.kind,
                "text": text,
            },
            state="pending",
            attempts=0,
        )
    )


def log_activity(
    session: Session,
    invoice: Invoice,
    outcome: str,
    kind: str,
    from_status: str | None,
    to_status: str | None,
    source: EventSource,
    detail: str,
    *,
    sync_run_id: int | None = None,
    data: dict[str, Any] | None = None,
    actor: str | None = None,
) -> None:
    session.add(
        ActivityEvent(
            actor=actor,
            invoice_id=invoice.id,
            occurred_at=utcnow(),
            kind=kind,
            outcome=outcome,
            from_status=from_status,
            to_status=to_status,
            source=source.value,
            detail=detail,
            data=data,
            sync_run_id=sync_run_id,
        )
    )
