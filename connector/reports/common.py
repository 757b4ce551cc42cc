"""What the read models share: the platform's channel name, keyset pages, the connections'
names, ledger links, and the count of each non-invoice queue per connection."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from sqlalchemy import and_, func, literal, or_, select, union_all
from sqlalchemy.orm import Session

from connector.domain.money import format_amount
from connector.store.models import Connection, OutboxEntry, QuarantinedRecord, ReconciliationFinding

PLATFORM_CHANNEL = "(platform)"

# Each page of the console reads through one function here, and each runs a fixed number of
# queries whatever the number of invoices (the console's tests count them): lists are keyset
# pages on an indexed id, and per-connection figures come from one GROUP BY each.

#: Rows per page in every console list.
PAGE_SIZE = 50
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
