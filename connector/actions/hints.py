"""Sync hints from ledger webhooks: ask for a sync soon, many times, and get one.

A webhook is a hint, never data to trust: the payload's content is not applied; the targeted
sync re-reads the ledger through its API. Hints for one connection are folded into one row
(``sync_requests``) whose due time is the *first* hint plus the debounce interval, so a burst
of 500 events makes one sync, and a never-ending trickle still syncs once per interval.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError

from connector.runtime import Runtime
from connector.store.models import Connection, SyncRequest
from connector.store.types import utcnow


def connections_for(rt: Runtime, provider: str, tenant_ids: Iterable[str]) -> tuple[list[int], list[str]]:
    """The live connections of these tenants (Xero) or realms (QuickBooks), and the ids nobody has."""
    wanted = {t for t in tenant_ids if t}
    if not wanted:
        return [], []
    with rt.sessions() as session:
        rows = session.execute(
            select(Connection.id, Connection.tenant_id).where(
                Connection.provider == provider,
                Connection.tenant_id.in_(wanted),
                Connection.state.not_in(("disconnected", "setup")),
            )
        ).all()
    known = {tenant for _, tenant in rows}
    return sorted(i for i, _ in rows), sorted(wanted - known)


def request_sync(rt: Runtime, connection_ids: Iterable[int], *, source: str, debounce: timedelta) -> int:
    """Note a hint for each connection; returns how many new sync requests it opened."""
    opened = 0
    for connection_id in sorted(set(connection_ids)):
        now = utcnow()
        for _ in range(3):  # a concurrent first hint may insert between our update and insert
            with rt.transaction() as session:
                bumped = session.execute(
                    update(SyncRequest)
                    .where(SyncRequest.connection_id == connection_id)
                    .values(hints=SyncRequest.hints + 1)
                )
                if bumped.rowcount:
                    break
            try:
                with rt.transaction() as session:
                    session.add(
                        SyncRequest(
                            connection_id=connection_id,
                            first_hint_at=now,
                            due_at=now + debounce,
                            hints=1,
                            source=source[:50],
                        )
                    )
                opened += 1
                break
            except IntegrityError:
                continue
    return opened


def take_due(rt: Runtime, now: datetime | None = None) -> list[str]:
    """The connections whose hinted sync is due, by name; their requests are taken (deleted) at once.

    A hint arriving after this opens a new request, so a change made during the sync is not lost.
    """
    now = now or utcnow()
    with rt.transaction() as session:
        due = list(session.scalars(select(SyncRequest.connection_id).where(SyncRequest.due_at <= now)))
        if not due:
            return []
        session.execute(delete(SyncRequest).where(SyncRequest.connection_id.in_(due)))
        return list(session.scalars(select(Connection.name).where(Connection.id.in_(due)).order_by(Connection.name)))
