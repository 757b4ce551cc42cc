"""The console's dashboard: one card per connection, and 30 days of statuses read back from the log."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.domain import InvoiceStatus
from connector.reports.common import _queue_counts_query
from connector.reports.runs import _run_row
from connector.store.models import ActivityEvent, Connection, Invoice, SyncRun
from connector.store.types import utcnow

#: The provider's daily call allowance per organisation (Xero: 5,000 in a rolling 24 hours per
#: tenant; QuickBooks Online has no daily cap, only per-minute limits).
DAILY_CALL_LIMITS: dict[str, int | None] = {"xero": 5000, "quickbooks": None}
#: Statuses in which nothing is left to do for the connector: the green part of a dashboard card.
PROCESSED = frozenset({"paid", "settled", "voided"})
#: The days the dashboard's chart covers.
CHART_DAYS = 30


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
