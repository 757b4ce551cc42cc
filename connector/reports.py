"""What support reads: status counts, what needs attention, one invoice's timeline.

Plain data out (dicts and lists), so the CLI can print a table or JSON and the web
status page can render the same facts.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session, aliased

from connector.domain import InvoiceStatus
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
from connector.store.types import utcnow

PLATFORM_CHANNEL = "(platform)"


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


def timeline(session: Session, invoice: Invoice) -> dict[str, Any]:
    """One invoice and every activity event it has, oldest first."""
    events = session.scalars(
        select(ActivityEvent).where(ActivityEvent.invoice_id == invoice.id).order_by(ActivityEvent.id)
    )
    return {
        "invoice": {
            "id": invoice.id,
            "number": invoice.number,
            "connection": invoice.connection.name if invoice.connection else PLATFORM_CHANNEL,
            "external_id": invoice.external_id,
            "contact": invoice.contact_name,
            "status": invoice.status,
            "mode": invoice.mode,
            "paid_via": invoice.paid_via,
            "currency": invoice.currency,
            "total": format_amount(invoice.total, invoice.currency),
            "amount_due": format_amount(invoice.amount_due, invoice.currency),
            "paid_amount": format_amount(invoice.paid_amount, invoice.currency) if invoice.paid_amount else None,
            "refund_due": format_amount(invoice.refund_due, invoice.currency) if invoice.refund_due else None,
            "attention_reason": invoice.attention_reason,
            "due_date": _iso(invoice.due_date),
            "collection_date": _iso(invoice.collection_date),
            "attempts": invoice.attempts,
            "needs_attention": invoice.needs_attention,
            "ledger_status": invoice.ledger_status,
            "duplicate_of": invoice.duplicate_of_id,
            "deleted": invoice.deleted_at is not None,
        },
        "events": [
            {
                "at": e.occurred_at.isoformat(timespec="seconds"),
                "kind": e.kind,
                "outcome": e.outcome,
                "from": e.from_status,
                "to": e.to_status,
                "source": e.source,
                "actor": e.actor,
                "detail": e.detail,
            }
            for e in events
        ],
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value else None


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


# --- the support console's read models ---------------------------------------------------------------
#
# Each page of the console reads through one function here, and each runs a fixed number of
# queries whatever the number of invoices (the console's tests count them): lists are keyset
# pages on an indexed id, and per-connection figures come from one GROUP BY each.

#: Rows per page in every console list.
PAGE_SIZE = 50
#: The provider's daily call allowance per organisation (Xero: 5,000 in a rolling 24 hours per
#: tenant; QuickBooks Online has no daily cap, only per-minute limits).
DAILY_CALL_LIMITS: dict[str, int | None] = {"xero": 5000, "quickbooks": None}
#: Statuses in which nothing is left to do for the connector: the green part of a dashboard card.
PROCESSED = frozenset({"paid", "settled", "voided"})
#: The days the dashboard's chart covers.
CHART_DAYS = 30
#: What opens an invoice in its ledger, by provider.
LEDGER_LINKS = {
    "xero": "https://go.xero.com/AccountsReceivable/View.aspx?InvoiceID={id}",
    "quickbooks": "https://app.qbo.intuit.com/app/invoice?txnId={id}",
}
#: An outbox entry on the failed-push queue: refused by the ledger, or sent back to wait after an error.
FAILED_PUSH = "failed"


def ledger_link(provider: str | None, external_id: str | None) -> str | None:
    """The address that opens the invoice in Xero or QuickBooks Online, if it has a ledger id."""
    template = LEDGER_LINKS.get(provider or "")
    return template.format(id=quote(external_id, safe="")) if template and external_id else None


def _money(value: Decimal | None, currency: str) -> str | None:
    return None if value is None else format_amount(value, currency)


@dataclass(frozen=True, slots=True)
class Page:
    """One keyset page of a list: its rows, and the ids to ask for the next and previous page."""

    rows: list[dict[str, Any]]
    #: Pass as ``after`` for the next page (None on the last page).
    next_after: int | None
    #: Pass as ``before`` for the previous page (None on the first page).
    prev_before: int | None


def _keyset(
    session: Session,
    query: Any,
    key: Any,
    *,
    after: int | None,
    before: int | None,
    descending: bool,
    limit: int,
    row: Any,
) -> Page:
    """Run ``query`` as a keyset page on the indexed column ``key``.

    ``after`` continues past a row (the next page), ``before`` goes back (the previous page): both
    probe the index at a bound, so page 2,000 costs what page 1 does, unlike OFFSET.
    """
    forward = before is None
    if descending:
        bound = (key < after if after is not None else None) if forward else key > before
        order = key.desc() if forward else key.asc()
    else:
        bound = (key > after if after is not None else None) if forward else key < before
        order = key.asc() if forward else key.desc()
    if bound is not None:
        query = query.where(bound)
    found = list(session.execute(query.order_by(order).limit(limit + 1)))
    more = len(found) > limit
    found = found[:limit]
    if not forward:
        found.reverse()
    rows = [row(r) for r in found]
    ids = [r["id"] for r in rows]
    if forward:
        next_after = ids[-1] if more and ids else None
        prev_before = ids[0] if after is not None and ids else None
    else:
        next_after = ids[-1] if ids else None
        prev_before = ids[0] if more and ids else None
    return Page(rows, next_after, prev_before)


def connection_list(session: Session) -> list[dict[str, Any]]:
    """Every connection's id, name and provider, by name (one query): filters and job forms."""
    return _names(session)


def _names(session: Session) -> list[dict[str, Any]]:
    return [
        {"id": i, "name": n, "provider": p}
        for i, n, p in session.execute(
            select(Connection.id, Connection.name, Connection.provider).order_by(Connection.name)
        )
    ]


# --- the dashboard ------------------------------------------------------------------------------------


def dashboard(session: Session, now: datetime | None = None) -> dict[str, Any]:
    """One card per connection: how much is done, sync health, what needs a person, 30 days of statuses.

    Seven queries for any number of connections and invoices.
    """
    now = now or utcnow()
    connections = list(session.scalars(select(Connection).order_by(Connection.name)))
    statuses = [s.value for s in InvoiceStatus]
    per: dict[int, dict[str, Any]] = {}
    for c in connections:
        per[c.id] = {
            "id": c.id,
            "name": c.name,
            "provider": c.provider,
            "tenant_name": c.tenant_name,
            "state": c.state,
            "state_reason": c.state_reason,
            "needs_reconnect": c.state == "needs_reconnect",
            "paused_until": c.paused_until,
            "enabled": bool((c.settings or {}).get("enabled", True)),
            "import_every": int(((c.settings or {}).get("schedule_seconds") or {}).get("import_every", 900)),
            "counts": dict.fromkeys(statuses, 0),
            "processed": 0,
            "waiting": 0,
            "attention": 0,
            "queues": {"conflicts": 0, "duplicates": 0, "quarantine": 0, "failed": 0, "findings": 0},
            "last_sync": None,
            "next_sync": None,
            "calls_24h": 0,
            "call_limit": DAILY_CALL_LIMITS.get(c.provider),
            "chart": None,
        }
    rows = session.execute(
        select(Invoice.connection_id, Invoice.status, Invoice.needs_attention, func.count())
        .where(Invoice.deleted_at.is_(None), Invoice.connection_id.is_not(None))
        .group_by(Invoice.connection_id, Invoice.status, Invoice.needs_attention)
    )
    for connection_id, status, attention, n in rows:
        card = per.get(connection_id)
        if card is None:
            continue
        card["counts"][status] = card["counts"].get(status, 0) + n
        if attention:
            card["queues"]["conflicts"] += n
        if attention or status == InvoiceStatus.DUPLICATE:
            card["attention"] += n
        elif status in PROCESSED:
            card["processed"] += n
        else:
            card["waiting"] += n
        if status == InvoiceStatus.DUPLICATE:
            card["queues"]["duplicates"] += n
    for connection_id, kind, n in session.execute(_queue_counts_query()):
        if connection_id in per:
            per[connection_id]["queues"][kind] += n
    last_ids = (select(func.max(SyncRun.id)).where(SyncRun.job == "sync", SyncRun.connection_id.is_not(None))).group_by(
        SyncRun.connection_id
    )
    for run in session.scalars(select(SyncRun).where(SyncRun.id.in_(last_ids))):
        card = per.get(run.connection_id)
        if card is not None:
            card["last_sync"] = _run_row(run, card["name"])
            if card["enabled"] and not card["needs_reconnect"]:
                card["next_sync"] = max(run.started_at + timedelta(seconds=card["import_every"]), now)
    for connection_id, calls in session.execute(
        select(SyncRun.connection_id, func.sum(SyncRun.api_calls))
        .where(SyncRun.started_at >= now - timedelta(hours=24), SyncRun.connection_id.is_not(None))
        .group_by(SyncRun.connection_id)
    ):
        if connection_id in per:
            per[connection_id]["calls_24h"] = int(calls or 0)
    for card in per.values():
        if card["paused_until"] and card["paused_until"] > now:
            card["next_sync"] = card["paused_until"]
    for connection_id, series in status_history(session, {i: c["counts"] for i, c in per.items()}, now).items():
        per[connection_id]["chart"] = series
    return {"cards": list(per.values()), "statuses": statuses, "now": now}


def _queue_counts_query() -> Any:
    """(connection id, queue, count) for the queues that are not invoices: one UNION ALL query."""
    quarantine = (
        select(QuarantinedRecord.connection_id, literal("quarantine"), func.count())
        .where(QuarantinedRecord.resolved_at.is_(None))
        .group_by(QuarantinedRecord.connection_id)
    )
    failed = (
        select(OutboxEntry.connection_id, literal("failed"), func.count())
        .where(_failed_push())
        .group_by(OutboxEntry.connection_id)
    )
    findings = (
        select(ReconciliationFinding.connection_id, literal("findings"), func.count())
        .where(ReconciliationFinding.resolved_at.is_(None))
        .group_by(ReconciliationFinding.connection_id)
    )
    return union_all(quarantine, failed, findings)


def _failed_push() -> Any:
    """An entry a person may need to act on: refused by the ledger, or waiting again after an error."""
    return or_(
        OutboxEntry.state == "rejected",
        and_(OutboxEntry.state == "pending", OutboxEntry.last_error.is_not(None), OutboxEntry.attempts > 0),
    )


def status_history(
    session: Session, current: dict[int, dict[str, int]], now: datetime | None = None, days: int = CHART_DAYS
) -> dict[int, dict[str, Any]]:
    """Invoices per status at the end of each of the last ``days`` days, per connection.

    Read back from today's counts through the activity log: each day's moves (an invoice created
    into a status, or moved from one to another) are undone, newest first. One GROUP BY over the
    period's events, whatever the number of invoices.
    """
    now = now or utcnow()
    today = now.date()
    first = today - timedelta(days=days - 1)
    since = datetime.combine(first, datetime.min.time(), tzinfo=UTC)
    day = func.date(ActivityEvent.occurred_at)
    moves: dict[int, dict[str, list[tuple[str | None, str | None, int]]]] = {}
    for connection_id, on, before, after, n in session.execute(
        select(Invoice.connection_id, day, ActivityEvent.from_status, ActivityEvent.to_status, func.count())
        .join(Invoice, Invoice.id == ActivityEvent.invoice_id)
        .where(ActivityEvent.occurred_at >= since, ActivityEvent.outcome.in_(("created", "transition")))
        .group_by(Invoice.connection_id, day, ActivityEvent.from_status, ActivityEvent.to_status)
    ):
        if connection_id in current and before != after:
            moves.setdefault(connection_id, {}).setdefault(str(on)[:10], []).append((before, after, n))
    out: dict[int, dict[str, Any]] = {}
    dates = [first + timedelta(days=i) for i in range(days)]
    for connection_id, counts in current.items():
        by_day = moves.get(connection_id, {})
        running = dict(counts)
        series: list[dict[str, int]] = []
        for d in reversed(dates):
            series.append(dict(running))
            for before, after, n in by_day.get(d.isoformat(), []):
                if after is not None:
                    running[after] = running.get(after, 0) - n
                if before is not None:
                    running[before] = running.get(before, 0) + n
        series.reverse()
        out[connection_id] = {"days": [d.isoformat() for d in dates], "counts": series}
    return out


# --- the invoice list ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InvoiceQuery:
    """The invoice list's filters, as the page's query string gives them (already checked)."""

    connection_id: int | None = None
    status: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    search: str = ""
    attention: bool = False

    def as_args(self) -> dict[str, str]:
        """The query string that gives these filters back (for links to the next page, the CSV)."""
        args = {
            "connection": str(self.connection_id) if self.connection_id else "",
            "status": self.status or "",
            "from": self.date_from.isoformat() if self.date_from else "",
            "to": self.date_to.isoformat() if self.date_to else "",
            "q": self.search,
            "attention": "1" if self.attention else "",
        }
        return {k: v for k, v in args.items() if v}


def parse_invoice_query(args: Mapping[str, str]) -> tuple[InvoiceQuery, dict[str, str]]:
    """The filters from a query string, and a message per field that could not be read (ignored then)."""
    errors: dict[str, str] = {}
    connection = (args.get("connection") or "").strip()
    connection_id = None
    if connection:
        if connection.isdigit():
            connection_id = int(connection)
        else:
            errors["connection"] = "choose a connection from the list"
    status = (args.get("status") or "").strip() or None
    if status and status not in {s.value for s in InvoiceStatus}:
        errors["status"] = f"no status {status!r}"
        status = None
    dates: dict[str, date | None] = {}
    for key in ("from", "to"):
        raw = (args.get(key) or "").strip()
        dates[key] = None
        if raw:
            try:
                dates[key] = date.fromisoformat(raw)
            except ValueError:
                errors[key] = "a date such as 2026-03-31"
    search = (args.get("q") or "").strip()[:200]
    query = InvoiceQuery(connection_id, status, dates["from"], dates["to"], search, args.get("attention") == "1")
    return query, errors


def _search_amount(text: str) -> Decimal | None:
    """The search text as an amount (``1,200.50``, ``£80``), when it reads as one."""
    cleaned = text.replace(",", "").lstrip("£$€").strip()
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    return value if value.is_finite() and value >= 0 and cleaned.replace(".", "", 1).isdigit() else None


def _invoice_filters(query: InvoiceQuery, *, exact: bool = False) -> list[Any]:
    where: list[Any] = [Invoice.deleted_at.is_(None)]
    if query.connection_id:
        where.append(Invoice.connection_id == query.connection_id)
    if query.status:
        where.append(Invoice.status == query.status)
    if query.date_from:
        where.append(Invoice.issue_date >= query.date_from)
    if query.date_to:
        where.append(Invoice.issue_date <= query.date_to)
    if query.attention:
        where.append(Invoice.needs_attention.is_(True))
    if query.search and exact:
        where.append(or_(Invoice.number == query.search, Invoice.external_id == query.search))
    elif query.search:
        text = query.search
        found = [
            Invoice.number == text,
            Invoice.external_id == text,
            Invoice.number.istartswith(text, autoescape=True),
            Invoice.contact_name.icontains(text, autoescape=True),
        ]
        amount = _search_amount(text)
        if amount is not None:
            # SQLite keeps amounts as the Decimal's text: ask for each way the same value may be written.
            texts = {f"{amount:.{places}f}" for places in range(5)} | {str(amount)}
            forms = [Decimal(t) for t in sorted(texts) if Decimal(t) == amount]
            found += [Invoice.total.in_(forms), Invoice.amount_due.in_(forms)]
        where.append(or_(*found))
    return where


def _invoice_select(query: InvoiceQuery, *, exact: bool = False) -> Any:
    return (
        select(Invoice, Connection.name, Connection.provider)
        .outerjoin(Connection, Connection.id == Invoice.connection_id)
        .where(*_invoice_filters(query, exact=exact))
    )


def _invoice_row(found: Any) -> dict[str, Any]:
    inv, connection, provider = found
    return {
        "id": inv.id,
        "number": inv.number,
        "connection": connection or PLATFORM_CHANNEL,
        "provider": provider,
        "contact": inv.contact_name,
        "currency": inv.currency,
        "total": format_amount(inv.total, inv.currency),
        "amount_due": format_amount(inv.amount_due, inv.currency),
        "paid_amount": _money(inv.paid_amount, inv.currency),
        "status": inv.status,
        "needs_attention": inv.needs_attention,
        "attention_reason": inv.attention_reason,
        "issue_date": inv.issue_date,
        "due_date": inv.due_date,
        "collection_date": inv.collection_date,
        "attempts": inv.attempts,
        "ledger_status": inv.ledger_status,
        "external_id": inv.external_id,
        "version": inv.version,
    }


def invoice_list(
    session: Session,
    query: InvoiceQuery,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int = PAGE_SIZE,
) -> dict[str, Any]:
    """A page of invoices matching ``query``, newest first; with the connections for the filter.

    Two queries: the connections, and the page (keyset on the invoice id, so the 2,000th page
    costs what the first does). A search first probes the number and ledger id indexes for an
    exact match, which is what a person pasting ``INV-0008`` or a Xero id wants; only when none
    matches does it look further (number prefix, customer, amount), which reads the table.
    """
    if query.search and after is None and before is None:
        exact = _keyset(
            session,
            _invoice_select(query, exact=True),
            Invoice.id,
            after=None,
            before=None,
            descending=True,
            limit=limit,
            row=_invoice_row,
        )
        if exact.rows:
            return {"page": exact, "connections": _names(session), "statuses": [s.value for s in InvoiceStatus]}
    page = _keyset(
        session,
        _invoice_select(query),
        Invoice.id,
        after=after,
        before=before,
        descending=True,
        limit=limit,
        row=_invoice_row,
    )
    return {"page": page, "connections": _names(session), "statuses": [s.value for s in InvoiceStatus]}


#: The columns of the invoice CSV (a row per invoice).
CSV_COLUMNS = (
    "id",
    "connection",
    "number",
    "contact",
    "currency",
    "total",
    "amount_due",
    "paid_amount",
    "status",
    "needs_attention",
    "attention_reason",
    "issue_date",
    "due_date",
    "collection_date",
    "attempts",
    "ledger_status",
    "external_id",
)
#: The columns of the detailed CSV (a row per activity event of each invoice).
DETAILED_CSV_COLUMNS = (
    "invoice_id",
    "connection",
    "number",
    "external_id",
    "at",
    "kind",
    "outcome",
    "from_status",
    "to_status",
    "source",
    "actor",
    "detail",
)


def _download_select(session: Session, query: InvoiceQuery) -> Any:
    """What a download reads: the same invoices the list shows (an exact number or ledger id first)."""
    if query.search:
        exact = _invoice_select(query, exact=True)
        if session.execute(exact.with_only_columns(Invoice.id).limit(1)).first() is not None:
            return exact
    return _invoice_select(query)


def _invoice_batches(session: Session, query: InvoiceQuery, batch: int) -> Iterator[list[dict[str, Any]]]:
    """The invoices matching ``query``, newest first, in keyset batches: a download of any size."""
    after: int | None = None
    chosen = _download_select(session, query)
    while True:
        page = _keyset(
            session, chosen, Invoice.id, after=after, before=None, descending=True, limit=batch, row=_invoice_row
        )
        yield page.rows
        if page.next_after is None:
            return
        after = page.next_after


def invoice_rows(session: Session, query: InvoiceQuery, batch: int = 1000) -> Iterator[dict[str, Any]]:
    """Every invoice matching ``query``, newest first (the list's CSV download)."""
    for rows in _invoice_batches(session, query, batch):
        yield from rows


def invoice_event_rows(session: Session, query: InvoiceQuery, batch: int = 500) -> Iterator[dict[str, Any]]:
    """Every activity event of every invoice matching ``query``: invoices newest first, events in order.

    Two queries per batch of invoices (the invoices, then their events by the timeline index).
    """
    for rows in _invoice_batches(session, query, batch):
        by_id = {r["id"]: r for r in rows}
        events: dict[int, list[ActivityEvent]] = {}
        if by_id:
            for e in session.scalars(
                select(ActivityEvent).where(ActivityEvent.invoice_id.in_(by_id)).order_by(ActivityEvent.id)
            ):
                events.setdefault(e.invoice_id, []).append(e)
        for inv in rows:
            for e in events.get(inv["id"], []):
                yield {
                    "invoice_id": inv["id"],
                    "connection": inv["connection"],
                    "number": inv["number"],
                    "external_id": inv["external_id"],
                    "at": e.occurred_at.isoformat(timespec="seconds"),
                    "kind": e.kind,
                    "outcome": e.outcome,
                    "from_status": e.from_status,
                    "to_status": e.to_status,
                    "source": e.source,
                    "actor": e.actor,
                    "detail": e.detail,
                }


# --- one invoice -------------------------------------------------------------------------------------


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


# --- the queues ---------------------------------------------------------------------------------------

#: The console's queues, in the order the overview shows them.
QUEUES = ("conflicts", "duplicates", "quarantine", "failed")


def queue_overview(session: Session) -> dict[str, Any]:
    """How many wait in each queue, per connection (two queries)."""
    names = _names(session)
    counts = {c["id"]: dict.fromkeys(QUEUES, 0) for c in names}
    refund = Invoice.refund_due.is_not(None)
    for connection_id, status, attention, refund_due, n in session.execute(
        select(Invoice.connection_id, Invoice.status, Invoice.needs_attention, refund, func.count())
        .where(
            Invoice.deleted_at.is_(None),
            Invoice.connection_id.is_not(None),
            or_(Invoice.needs_attention.is_(True), refund, Invoice.status == InvoiceStatus.DUPLICATE.value),
        )
        .group_by(Invoice.connection_id, Invoice.status, Invoice.needs_attention, refund)
    ):
        if connection_id in counts:
            if attention or refund_due:
                counts[connection_id]["conflicts"] += n
            if status == InvoiceStatus.DUPLICATE:
                counts[connection_id]["duplicates"] += n
    for connection_id, kind, n in session.execute(_queue_counts_query()):
        if connection_id in counts and kind in counts[connection_id]:
            counts[connection_id][kind] += n
    totals = {q: sum(c[q] for c in counts.values()) for q in QUEUES}
    return {"connections": [{**c, "counts": counts[c["id"]]} for c in names], "totals": totals}


def conflict_queue(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Invoices a person must decide on (a ledger change while Submitted or Paid, a refund due), oldest first."""
    query = _invoice_select(InvoiceQuery()).where(
        or_(Invoice.needs_attention.is_(True), Invoice.refund_due.is_not(None))
    )

    def row(found: Any) -> dict[str, Any]:
        inv = found[0]
        return {
            **_invoice_row(found),
            "refund_due": _money(inv.refund_due, inv.currency),
            "ledger_amount_due": _money(inv.ledger_amount_due, inv.currency),
        }

    return _keyset(session, query, Invoice.id, after=after, before=None, descending=False, limit=limit, row=row)


def duplicate_queue(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Invoices held as duplicates of another, with the one they duplicate, oldest first."""
    original = aliased(Invoice)
    other = aliased(Connection)
    query = (
        select(Invoice, Connection.name, Connection.provider, original.id, original.number, other.name)
        .outerjoin(Connection, Connection.id == Invoice.connection_id)
        .outerjoin(original, original.id == Invoice.duplicate_of_id)
        .outerjoin(other, other.id == original.connection_id)
        .where(Invoice.status == InvoiceStatus.DUPLICATE.value, Invoice.deleted_at.is_(None))
    )

    def row(found: Any) -> dict[str, Any]:
        base = _invoice_row(found[:3])
        base["original"] = (
            {"id": found[3], "number": found[4], "connection": found[5] or PLATFORM_CHANNEL} if found[3] else None
        )
        return base

    return _keyset(session, query, Invoice.id, after=after, before=None, descending=False, limit=limit, row=row)


#: How much of a quarantined record's raw payload a page shows (the rest is in the database).
RAW_SHOWN = 20_000


def _quarantine_row(found: Any) -> dict[str, Any]:
    r, name = found
    raw = r.raw or ""
    return {
        "id": r.id,
        "connection": name,
        "stream": r.stream,
        "external_id": r.external_id,
        "reason": r.reason,
        "raw": raw[:RAW_SHOWN],
        "raw_truncated": len(raw) > RAW_SHOWN,
        "created_at": r.created_at,
        "resolved_at": r.resolved_at,
        "resolved_by": r.resolved_by,
        "dismissed_reason": r.dismissed_reason,
    }


def quarantine_queue(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Ledger records the import could not take, still open, oldest first, with their raw payload."""
    query = (
        select(QuarantinedRecord, Connection.name)
        .join(Connection, Connection.id == QuarantinedRecord.connection_id)
        .where(QuarantinedRecord.resolved_at.is_(None))
    )
    return _keyset(
        session,
        query,
        QuarantinedRecord.id,
        after=after,
        before=None,
        descending=False,
        limit=limit,
        row=_quarantine_row,
    )


def quarantined_record(session: Session, record_id: int) -> dict[str, Any] | None:
    """One quarantined record, for its confirmation step (one query)."""
    found = session.execute(
        select(QuarantinedRecord, Connection.name)
        .join(Connection, Connection.id == QuarantinedRecord.connection_id)
        .where(QuarantinedRecord.id == record_id)
    ).first()
    return _quarantine_row(found) if found else None


def _push_row(found: Any) -> dict[str, Any]:
    e, number, invoice_id, name = found
    return {
        "id": e.id,
        "connection": name,
        "kind": e.kind,
        "state": e.state,
        "invoice_id": invoice_id,
        "invoice": number or e.payload.get("reference") or "",
        "amount": str(e.payload.get("amount", e.payload.get("net", ""))),
        "currency": e.payload.get("currency", ""),
        "attempts": e.attempts,
        "error": e.last_error or "",
        "next_attempt_at": e.next_attempt_at if e.state == "pending" else None,
        "created_at": e.created_at,
    }


def _push_select() -> Any:
    return (
        select(OutboxEntry, Invoice.number, Invoice.id, Connection.name)
        .outerjoin(Invoice, Invoice.id == OutboxEntry.invoice_id)
        .join(Connection, Connection.id == OutboxEntry.connection_id)
    )


def failed_push_queue(session: Session, *, after: int | None = None, limit: int = PAGE_SIZE) -> Page:
    """Ledger writes refused by the ledger, or waiting again after an error, oldest first."""
    return _keyset(
        session,
        _push_select().where(_failed_push()),
        OutboxEntry.id,
        after=after,
        before=None,
        descending=False,
        limit=limit,
        row=_push_row,
    )


def outbox_entry(session: Session, entry_id: int) -> dict[str, Any] | None:
    """One ledger write, for its confirmation step (one query)."""
    found = session.execute(_push_select().where(OutboxEntry.id == entry_id)).first()
    return _push_row(found) if found else None


# --- sync runs ----------------------------------------------------------------------------------------


def _run_row(run: SyncRun, connection: str | None) -> dict[str, Any]:
    counts = run.counts or {}
    seconds = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
    return {
        "id": run.id,
        "connection": connection or "",
        "job": run.job,
        "state": run.state,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "seconds": seconds,
        "api_calls": run.api_calls,
        "error": run.error,
        "counts": {k: v for k, v in counts.items() if isinstance(v, int)},
        "summary": counts.get("summary"),
    }


def sync_runs(
    session: Session, *, connection_id: int | None = None, after: int | None = None, limit: int = PAGE_SIZE
) -> dict[str, Any]:
    """The history of sync and reconcile runs, newest first, optionally for one connection (two queries)."""
    query = select(SyncRun, Connection.name).outerjoin(Connection, Connection.id == SyncRun.connection_id)
    if connection_id:
        query = query.where(SyncRun.connection_id == connection_id)
    page = _keyset(
        session,
        query,
        SyncRun.id,
        after=after,
        before=None,
        descending=True,
        limit=limit,
        row=lambda found: _run_row(*found),
    )
    return {"page": page, "connections": _names(session)}


# --- reconciliation -----------------------------------------------------------------------------------


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
