"""The heartbeat thread keeps a long run's lock alive, and notices when it is taken over.

Before: the lock had a fixed 15-minute TTL and was never renewed, so a sync longer than that
lost its exclusivity while it ran, without knowing.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from connector.store.models import Connection
from connector.sync.runner import _RunGuard
from connector.sync.runs import LockOwner, acquire_lock, release_lock
from tests.reliability.conftest import wait_for


def heartbeat(runtime, cid):
    with runtime.sessions() as session:
        return session.get(Connection, cid).lock_heartbeat_at


def test_the_heartbeat_thread_renews_the_lock_and_notices_a_takeover(runtime):
    with runtime.sessions() as session:
        cid = session.scalars(select(Connection.id)).one()
    owner = LockOwner.new()
    with runtime.transaction() as session:
        assert acquire_lock(session, cid, owner)
    first = heartbeat(runtime, cid)
    guard = _RunGuard(runtime, cid, owner, every=timedelta(milliseconds=20))
    guard.start()
    try:
        wait_for("a heartbeat", lambda: heartbeat(runtime, cid) > first)
        assert guard.lost is None
        with runtime.transaction() as session:  # another host took it over (this one looked dead)
            connection = session.get(Connection, cid)
            connection.lock_owner, connection.lock_host, connection.lock_pid = "t-other", "other-host", 4242
        wait_for("the takeover to be noticed", lambda: guard.lost)
        assert guard.lost.startswith("lost the connection's lock to other-host:4242")
    finally:
        guard.stop()
        with runtime.transaction() as session:
            release_lock(session, cid, owner)
    with runtime.sessions() as session:
        assert session.get(Connection, cid).lock_owner == "t-other"  # released nothing that was not ours
