"""The daily API budget per connection: calls used in the last 24 hours against the ledger's allowance.

Counted from the sync runs (``sync_runs.api_calls``: every sync, push and reconcile records its
calls when it ends), so it is the same figure whichever engine or machine made the calls. Xero
allows 5,000 calls per tenant in a rolling day; QuickBooks Online has no daily cap (``limit``
None), only per-minute ones. The Redis-kept day window (:mod:`connector.ledgers.shared_limits`)
is what stops calls; this is what a person reads in ``connector status`` and ``/metrics``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from connector.ledgers.shared_limits import PROVIDER_LIMITS
from connector.store.models import Connection, SyncRun
from connector.store.types import utcnow

DAY = timedelta(hours=24)


@dataclass(frozen=True, slots=True)
class Budget:
    connection: str
    provider: str
    used: int
    #: Calls allowed per day, or None where the ledger has no daily cap.
    limit: int | None

    @property
    def share(self) -> float | None:
        """How much of the day's allowance is spent (0.0 to 1.0+), or None without a cap."""
        return self.used / self.limit if self.limit else None


def daily_limit(provider: str) -> int | None:
    limits = PROVIDER_LIMITS.get(provider)
    return limits.tenant.per_day if limits else None


def budgets(session: Session, now: datetime | None = None) -> list[Budget]:
    """Every connection's calls in the last 24 hours, by name; one GROUP BY whatever the number of runs."""
    since = (now or utcnow()) - DAY
    used = dict(
        session.execute(
            select(SyncRun.connection_id, func.coalesce(func.sum(SyncRun.api_calls), 0))
            .where(SyncRun.started_at >= since, SyncRun.connection_id.is_not(None))
            .group_by(SyncRun.connection_id)
        ).all()
    )
    return [
        Budget(name, provider, int(used.get(cid, 0) or 0), daily_limit(provider))
        for cid, name, provider in session.execute(
            select(Connection.id, Connection.name, Connection.provider).order_by(Connection.name)
        )
    ]
