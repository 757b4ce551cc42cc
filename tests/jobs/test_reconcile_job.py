"""The daemon's reconcile job runs each connection on its own ``reconcile_every``."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from connector.actions.reconcile import due_for_reconcile
from connector.store.models import Connection, SyncRun
from connector.store.types import utcnow


def test_a_connection_is_due_when_never_reconciled_or_its_interval_has_passed(runtime):
    assert due_for_reconcile(runtime) == ["acme"]
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        session.add(SyncRun(connection_id=conn.id, job="reconcile", state="succeeded", started_at=utcnow()))
    assert due_for_reconcile(runtime) == []  # reconciled just now; the default is every 24 h
    assert due_for_reconcile(runtime, now=utcnow() + timedelta(hours=25)) == ["acme"]
    with runtime.transaction() as session:
        conn = session.scalars(select(Connection)).one()
        conn.settings = {**conn.settings, "enabled": False}
    assert due_for_reconcile(runtime, now=utcnow() + timedelta(hours=25)) == []
