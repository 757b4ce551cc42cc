"""The console's invoice list: filters from the query string, search, keyset pages and CSV downloads."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from connector.domain import InvoiceStatus
from connector.domain.money import format_amount
from connector.reports.common import PAGE_SIZE, PLATFORM_CHANNEL, _keyset, _money, _names
from connector.store.models import ActivityEvent, Connection, Invoice


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
