"""The connection lock: one job run at a time; a dead or silent holder is taken over at once.

The holder is a job run (a token), not a process. Its host and pid tell whether it can still
be running on this host; its heartbeat tells it anywhere else.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from connector.store.models import Connection, SyncRun
from connector.store.types import utcnow
from connector.sync.runs import (
    LockOwner,
    acquire_lock,
    interrupt_orphans,
    lock_holder,
    release_lock,
    renew_lock,
    retire,
    start_run,
    this_host,
)


@pytest.fixture
def cid(runtime):
    with runtime.sessions() as session:
        return session.scalars(select(Connection.id)).one()


def dead_pid() -> int:
    """The pid of a process of this host that has ended (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def run_state(runtime, run_id):
    with runtime.sessions() as session:
        run = session.get(SyncRun, run_id)
        return run.state, run.error


def hold(runtime, cid, owner, **columns):
    """``owner`` takes the lock and starts a run, as the runner does; ``columns`` then age it."""
    with runtime.transaction() as session:
        assert acquire_lock(session, cid, owner)
        run_id = start_run(session, cid, "sync", owner=owner).id
        if columns:
            session.execute(update(Connection).where(Connection.id == cid).values(**columns))
    return run_id


def test_one_job_run_at_a_time_even_in_one_process(runtime, cid):
    sync_job, push_job = LockOwner.new(), LockOwner.new()  # two jobs of one daemon: same host, same pid
    assert (sync_job.host, sync_job.pid) == (push_job.host, push_job.pid)
    with runtime.transaction() as session:
        assert acquire_lock(session, cid, sync_job)
    with runtime.transaction() as session:
        refused = acquire_lock(session, cid, push_job)
        assert not refused
        assert refused.holder.startswith(f"{this_host()}:{os.getpid()} (heartbeat ")
        assert acquire_lock(session, cid, sync_job)  # the holder may take it again
    with runtime.transaction() as session:
        release_lock(session, cid, push_job)  # not the holder: nothing happens
        assert not acquire_lock(session, cid, push_job)
        release_lock(session, cid, sync_job)
        assert lock_holder(session, cid) is None
        assert acquire_lock(session, cid, push_job)
    retire(push_job)


def test_the_heartbeat_renews_the_lock_and_says_when_it_is_lost(runtime, cid):
    owner = LockOwner.new()
    hold(runtime, cid, owner)
    with runtime.sessions() as session:
        before = session.get(Connection, cid).lock_expires_at
    with runtime.transaction() as session:
        assert renew_lock(session, cid, owner)
    with runtime.sessions() as session:
        assert session.get(Connection, cid).lock_expires_at >= before
    elsewhere = LockOwner("t-elsewhere", "other-host", 4242)
    with runtime.transaction() as session:  # silent past the limit: taken over
        session.execute(
            update(Connection).where(Connection.id == cid).values(lock_expires_at=utcnow() - timedelta(seconds=1))
        )
        assert acquire_lock(session, cid, elsewhere)
    with runtime.transaction() as session:
        assert not renew_lock(session, cid, owner)
        assert lock_holder(session, cid).startswith("other-host:4242")
    retire(owner)


def test_a_stale_heartbeat_is_taken_over_at_once_and_its_run_interrupted(runtime, cid):
    silent = LockOwner("t-silent", "other-host", 4242)  # another machine, which stopped beating
    stamp = utcnow() - timedelta(minutes=3)
    run_id = hold(runtime, cid, silent, lock_heartbeat_at=stamp, lock_expires_at=stamp + timedelta(minutes=2))
    me = LockOwner.new()
    with runtime.transaction() as session:
        taken = acquire_lock(session, cid, me)
    assert taken and "no heartbeat from other-host:4242 since" in taken.took_over
    state, reason = run_state(runtime, run_id)
    assert state == "interrupted"
    assert reason.startswith("interrupted: no heartbeat from other-host:4242") and "\n" not in reason
    retire(me)


def test_a_fresh_heartbeat_from_another_host_is_respected(runtime, cid):
    busy = LockOwner("t-busy", "other-host", 4242)
    run_id = hold(runtime, cid, busy)
    with runtime.transaction() as session:
        refused = acquire_lock(session, cid, LockOwner.new())
    assert not refused and refused.holder.startswith("other-host:4242")
    assert run_state(runtime, run_id) == ("running", None)


def test_a_dead_process_on_this_host_is_taken_over_at_once(runtime, cid):
    pid = dead_pid()
    crashed = LockOwner("t-crashed", this_host(), pid)  # heartbeat fresh, process gone (SIGKILL, OOM)
    run_id = hold(runtime, cid, crashed)
    me = LockOwner.new()
    with runtime.transaction() as session:
        taken = acquire_lock(session, cid, me)
    assert taken
    state, reason = run_state(runtime, run_id)
    assert state == "interrupted"
    assert reason.startswith(f"interrupted: its process {this_host()}:{pid} is gone")
    retire(me)


def test_a_job_of_this_process_that_ended_without_releasing_is_taken_over(runtime, cid):
    """E.g. the database was away when it tried to release: the same pid is alive, the job is not."""
    ended = LockOwner.new()
    run_id = hold(runtime, cid, ended)
    retire(ended)
    me = LockOwner.new()
    with runtime.transaction() as session:
        assert acquire_lock(session, cid, me)
    state, reason = run_state(runtime, run_id)
    assert state == "interrupted" and "ended without finishing it" in reason
    retire(me)


def test_a_lock_written_before_0005_is_understood(runtime, cid):
    """Old rows say only ``host:pid`` in lock_owner, with a 15-minute expiry."""
    with runtime.transaction() as session:
        session.execute(
            update(Connection)
            .where(Connection.id == cid)
            .values(lock_owner="other-host:14003", lock_expires_at=utcnow() + timedelta(minutes=15))
        )
        old_run = start_run(session, cid, "sync").id  # no owner: as the old code wrote it
    with runtime.transaction() as session:
        refused = acquire_lock(session, cid, LockOwner.new())
        assert not refused and refused.holder == "other-host:14003"
        session.execute(update(Connection).where(Connection.id == cid).values(lock_owner=f"{this_host()}:{dead_pid()}"))
    me = LockOwner.new()
    with runtime.transaction() as session:
        assert acquire_lock(session, cid, me)
    assert run_state(runtime, old_run)[0] == "interrupted"
    retire(me)


def test_runs_left_running_by_a_gone_process_are_interrupted_whatever_their_job(runtime, cid):
    gone = LockOwner("t-gone", this_host(), dead_pid())
    with runtime.transaction() as session:
        orphan = start_run(session, cid, "reconcile", owner=gone).id  # a job without a lock
        mine = start_run(session, None, "overdue_sweep").id  # this process, running: left alone
    with runtime.transaction() as session:
        assert interrupt_orphans(session) == 1
    assert run_state(runtime, orphan)[0] == "interrupted"
    assert run_state(runtime, mine) == ("running", None)
