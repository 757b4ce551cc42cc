"""Two workers never sync one connection at once; an expired lock can be taken over."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from connector.store.models import Connection
from connector.sync.runs import acquire_lock, release_lock


def test_one_owner_at_a_time_and_expiry(runtime):
    with runtime.transaction() as session:
        cid = session.scalars(select(Connection.id)).one()
        assert acquire_lock(session, cid, "daemon-a")
    with runtime.transaction() as session:
        assert not acquire_lock(session, cid, "daemon-b")
        assert acquire_lock(session, cid, "daemon-a")  # the owner may renew
    with runtime.transaction() as session:
        release_lock(session, cid, "daemon-b")  # not the owner: nothing happens
        assert not acquire_lock(session, cid, "daemon-b")
        release_lock(session, cid, "daemon-a")
        assert acquire_lock(session, cid, "daemon-b", ttl=timedelta(seconds=-1))  # taken, already expired
    with runtime.transaction() as session:
        assert acquire_lock(session, cid, "daemon-c")  # an expired lock is free
