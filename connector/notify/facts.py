"""What is worth telling someone, found by reading what the connector already records.

Notices are a projection of facts already stored: activity events (a payment confirmed, a
conflict), quarantined records, open reconciliation findings, failing outbox entries, a
connection that needs reconnecting, the day's API calls. Every fact has a ``source_key``, so
reading it twice makes one notice. Nothing here writes.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.domain.money import format_amount
from connector.store.models import (
    ActivityEvent,
    Connection,
    Invoice,
    OutboxEntry,
    QuarantinedRecord,
    ReconciliationFinding,
    SyncRun,
)

#: Customer notices, by the activity kind that causes them (a transition of that kind).
CUSTOMER_KINDS = {
    "request_sent": "request_sent",
    "collection_failed": "collection_failed",
    "collection_confirmed": "payment_confirmed",
    "payment_received": "payment_confirmed",
}
SUPPORT_KINDS = ("conflict", "quarantined", "needs_reconnect", "reconciliation", "push_failing", "api_limit")
#: Daily API call limits per connection, where the provider has one (Xero: 5,000 per tenant).
DAILY_LIMITS = {"xero": 5000}
NEARLY = 0.8
PUSH_FAILING_AFTER = timedelta(hours=1)
BATCH = 2000


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing to tell: to a customer (about an invoice) or to support (about a connection)."""

    audience: str
    kind: str
    connection_id: int
    source_key: str
    text: str
    invoice_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)


def from_activity(session: Session, connection: Connection, after: int) -> tuple[list[Fact], int]:
    """Customer notices and conflicts in this connection's activity since event ``after``; the new mark."""
    rows = session.execute(
        select(ActivityEvent, Invoice)
        .join(Invoice, Invoice.id == ActivityEvent.invoice_id)
        .where(Invoice.connection_id == connection.id, ActivityEvent.id > after)
        .order_by(ActivityEvent.id)
        .limit(BATCH)
    ).all()
    facts: list[Fact] = []
    mark = after
    for event, invoice in rows:
        mark = event.id
        data = event.data or {}
        if event.outcome == "conflict":
            facts.append(
                Fact(
                    "support",
                    "conflict",
                    connection.id,
                    f"conflict:event:{event.id}",
                    f"{invoice.number}: {event.detail or 'a ledger change while the platform was collecting'}",
                    invoice.id,
                )
            )
        elif event.outcome == "transition" and event.kind in CUSTOMER_KINDS:
            facts.append(_customer(CUSTOMER_KINDS[event.kind], event, invoice))
        elif event.source == "person" and data.get("notify_customer") and event.outcome == "transition":
            facts.append(_customer("status_changed", event, invoice))
    return facts, mark


def _customer(kind: str, event: ActivityEvent, invoice: Invoice) -> Fact:
    data = {
        "number": invoice.number,
        "contact": invoice.contact_name,
        "currency": invoice.currency,
        "amount_due": format_amount(invoice.amount_due, invoice.currency),
        "total": format_amount(invoice.total, invoice.currency),
        "paid_amount": None if invoice.paid_amount is None else format_amount(invoice.paid_amount, invoice.currency),
        "retry_on": invoice.collection_date.isoformat() if invoice.collection_date else None,
        "status": event.to_status,
        "reason": event.detail,
        "event_id": event.id,
    }
    return Fact(
        "customer",
        kind,
        invoice.connection_id or 0,
        f"customer:{kind}:event:{event.id}",
        f"{invoice.number}: {kind.replace('_', ' ')}",
        invoice.id,
        data,
    )


def from_quarantine(session: Session, connection: Connection, after: int) -> tuple[list[Fact], int]:
    rows = list(
        session.scalars(
            select(QuarantinedRecord)
            .where(QuarantinedRecord.connection_id == connection.id, QuarantinedRecord.id > after)
            .order_by(QuarantinedRecord.id)
            .limit(BATCH)
        )
    )
    facts = [
        Fact(
            "support",
            "quarantined",
            connection.id,
            f"quarantined:{r.id}",
            f"{r.stream} record {r.external_id or '(no id)'} quarantined: {r.reason}",
        )
        for r in rows
        if r.resolved_at is None
    ]
    return facts, (rows[-1].id if rows else after)


def standing(session: Session, connection: Connection, now: datetime) -> list[Fact]:
    """Conditions that hold now: reconnect needed, open findings, pushes failing, API budget nearly used."""
    facts: list[Fact] = []
    if connection.state == "needs_reconnect":
        reason = connection.state_reason or "the ledger refused the stored tokens"
        episode = hashlib.sha256(reason.encode()).hexdigest()[:10]
        facts.append(
            Fact(
                "support",
                "needs_reconnect",
                connection.id,
                f"needs_reconnect:{connection.id}:{episode}:{now:%Y-%m-%d}",
                f"{connection.name} needs reconnecting: {reason}",
            )
        )
    for finding in session.scalars(
        select(ReconciliationFinding)
        .where(ReconciliationFinding.connection_id == connection.id, ReconciliationFinding.resolved_at.is_(None))
        .limit(BATCH)
    ):
        facts.append(
            Fact(
                "support",
                "reconciliation",
                connection.id,
                f"reconciliation:{finding.id}",
                f"{finding.kind}: {finding.explanation}",
                finding.invoice_id,
            )
        )
    failing_since = now - PUSH_FAILING_AFTER
    for entry in session.scalars(
        select(OutboxEntry)
        .where(
            OutboxEntry.connection_id == connection.id,
            OutboxEntry.state.in_(("pending", "sending", "rejected")),
            OutboxEntry.last_error.is_not(None),
            OutboxEntry.created_at < failing_since,
        )
        .limit(BATCH)
    ):
        facts.append(
            Fact(
                "support",
                "push_failing",
                connection.id,
                f"push_failing:{entry.id}",
                f"{entry.kind} #{entry.id} not accepted for over an hour: {entry.last_error}",
                entry.invoice_id,
            )
        )
    limit = DAILY_LIMITS.get(connection.provider)
    if limit:
        day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        used = (
            session.scalar(
                select(func.coalesce(func.sum(SyncRun.api_calls), 0)).where(
                    SyncRun.connection_id == connection.id, SyncRun.started_at >= day
                )
            )
            or 0
        )
        if used >= limit * NEARLY:
            facts.append(
                Fact(
                    "support",
                    "api_limit",
                    connection.id,
                    f"api_limit:{connection.id}:{day:%Y-%m-%d}",
                    f"{connection.name} has used {used:,} of its {limit:,} ledger API calls today",
                    data={"used": int(used), "limit": limit},
                )
            )
    return facts
