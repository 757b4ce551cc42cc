"""Issue 17.2 (#8): the connection lock belongs to one job run, not to a process.

Before: inside one daemon the sync and push jobs both took the lock (same ``host:pid``), ran
on one connection at once, and the first to finish released the lock under the other.
"""

from __future__ import annotations

from sqlalchemy import func, select

from connector.store.models import Connection, Invoice, SyncRun


def lock_owner(world):
    with world.rt.sessions() as session:
        return session.get(Connection, world.connection_id("nz")).lock_owner


def invoice_count(world):
    with world.rt.sessions() as session:
        return session.scalar(select(func.count()).select_from(Invoice))


def test_the_push_job_is_kept_off_while_the_sync_job_holds_the_connection(world):
    world.options = {"page_size": 10}
    during = []

    def on_page(counts):
        if counts.pages == 1:  # the sync job is mid-import: the push job starts in the same process
            during.append(world.sync(do_import=False))
            during.append(lock_owner(world))

    result = world.sync(on_progress=on_page)
    pushed, holder = during
    assert pushed.state == "skipped"
    assert pushed.error.startswith("being synced by ")
    assert holder is not None  # the push job did not release the sync job's lock
    assert result.state == "succeeded"
    assert result.counts.pages > 1
    assert lock_owner(world) is None
    with world.rt.sessions() as session:
        assert list(session.scalars(select(SyncRun.state))) == ["succeeded"]  # the push job never started a run


def test_a_sync_that_lost_its_lock_stops_before_writing_another_page(world):
    """Another process took the connection over (this one looked dead): no page is written after that."""
    from connector.store.types import utcnow

    world.options = {"page_size": 10}

    def on_page(counts):
        if counts.pages == 1:
            with world.rt.transaction() as session:
                connection = session.get(Connection, world.connection_id("nz"))
                connection.lock_owner = "someone-else"
                connection.lock_host = "other-host"
                connection.lock_pid = 4242
                connection.lock_heartbeat_at = utcnow()

    result = world.sync(on_progress=on_page)
    assert result.state == "interrupted"
    assert "lost the connection's lock" in result.error and "other-host:4242" in result.error
    assert result.counts.pages == 1
    assert invoice_count(world) == 10
    assert lock_owner(world) == "someone-else"  # not released under its new owner
    with world.rt.sessions() as session:
        run = session.get(SyncRun, result.run_id)
    assert run.state == "interrupted" and run.error == result.error
